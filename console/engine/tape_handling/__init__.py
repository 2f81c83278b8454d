"""A drive as the daemon holds it (drive_handle: who uses it, what is loaded), the operations on the tape
in it (tape_ops: label, identify, dump a file) and the one place that moves tapes and records it (tape_moves)."""
