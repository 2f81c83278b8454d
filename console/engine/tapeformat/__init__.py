"""What a tape holds: file 0 is the label (label.py, README.txt.in), files 1..n are backup sets, plain tar
in fixed records (tar_headers.py) written by tar_writer.py and read back by tar_reader.py, each ending in its
MANIFEST.json (manifest.py); VDI sets hold VHD streams (vhd.py)."""
"""What a tape holds: file 0 is the label, files 1..n are backup sets (plain tar)."""
