"""The console's screens: dashboard, tape swap, restore walkthrough (its steps in restore_steps/), the capacity
plan, the command palette and the label form."""
