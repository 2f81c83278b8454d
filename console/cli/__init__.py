"""The tapeconsole command line: a thin client of the daemon."""
