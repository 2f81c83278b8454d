"""The daemon's engine: everything that touches drives, tapes and the inventory. Never imports textual.

drives/ (the Drive interface, st and virtual), tapeformat/ (what is on tape), pipeline/ (source -> tar ->
buffer -> drive), sources/ (XO, XO remote, file trees), inventory/ (TinyDB inventory, audit log, file index),
tape_handling/ (a drive handle, moving and identifying tapes), jobs/, restore/, rotation/, planning/ and
daemon/ (the API and the service on top of all of them). retention.py holds the retention rule.
"""
