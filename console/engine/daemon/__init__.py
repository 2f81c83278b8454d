"""The daemon: owns the drives, the inventory and the jobs; serves the versioned API on a Unix socket."""
