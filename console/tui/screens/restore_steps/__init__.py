"""The restore walkthrough's steps, one widget each: what (and which files), night, tapes, where to, and the
bar of step names. Each draws what the walk (console/client/restore_walk.py) says and turns its own keys and
lists into the messages of console/tui/messages.py; the screen (screens/restore.py) routes them to the walk.
The restore running and its result are widgets/restore_run.py's panel."""
