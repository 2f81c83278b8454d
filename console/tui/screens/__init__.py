"""The console's screens: dashboard, tape swap, restore walkthrough, and the label form."""
