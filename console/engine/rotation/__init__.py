"""Tape rotation (the retention rule itself is engine/retention.py): each job's next tape (next_tape.py),
the morning swap list with its recall list (swap_list.py, lookahead.py), the swap steps the onsite person
confirms (swaps.py) and marking tapes damaged or retired (tape_status.py). Pure functions of the inventory,
config, runs and schedules (inputs.py); the daemon serves them (daemon/routes/rotation.py).

Nothing is imported here: jobs/tape_choice.py uses engine/retention.py, and the swap list uses tape_choice.
"""
