"""What a tape holds: file 0 is the label, files 1..n are backup sets (plain tar)."""
