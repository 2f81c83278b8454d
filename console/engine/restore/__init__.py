"""Getting data back from tape: find it, plan which tapes, position fast, restore, verify, rebuild the catalog.

catalog   what the inventory says a set holds: sets chained across tapes, members joined from their parts
find      VM disks by VM, VDI and night; files by path glob and night through the file index
plan      the tapes needed in order, where each one is, the set and file numbers, the estimated time
reader    positioning at a set and a member (block seek, record spacing or reading forward) and reading it
extract   members to a folder (parts joined); file-tree archives unpacked with tarfile's data filter
to_xo     VDI chains back into Xen Orchestra through the REST import
verify    sets read back and every member's sha256 checked; the scheduler's entry point
scan      a tape's label and manifests back into the inventory
manager   RestoreManager: restores, verifies and scans in threads holding the drive, with live snapshots
"""
