"""Stand-ins for the demo and the tests, never used against a real site: a Xen Orchestra simulator
(xo_simulator/) and the demo file tree of mail and shares (file_tree.py)."""
