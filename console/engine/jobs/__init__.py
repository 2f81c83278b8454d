"""Backup jobs: choosing the tape, writing the sets, recording what was written."""
