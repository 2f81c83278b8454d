"""The operator console, a Textual app (app.py) over the daemon: its screens (screens/), the operator's
actions (actions.py), its messages (messages.py) and its stylesheet (app.tcss)."""
