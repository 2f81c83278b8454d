"""The console's client side: the daemon client and link over the Unix socket, the poller, and what the
daemon's restore and swap answers mean to a screen, and the restore walkthrough and the tape swap as plain
state models (restore_walk.py, swap_walk.py). No Textual, no engine: the CLI and the console share it."""
