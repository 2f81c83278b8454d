"""The vocabulary the daemon and its clients share, importing nothing else of ours: run, drive and tape
states (states.py), the swap list's records (swap_list.py), the restore walkthrough's catalog
(restore_catalog.py), the LTO facts (lto.py), label text (labels.py), restore globs (restore_globs.py) and
how sizes and rates are written (units.py, plan_words.py)."""
