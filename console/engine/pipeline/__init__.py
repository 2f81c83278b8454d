"""source -> tar writer (pax, fixed records) -> bounded memory buffer -> drive writer thread."""
