"""Widgets of the console that talk to the daemon themselves (the plain ones are in the top-level widgets)."""
