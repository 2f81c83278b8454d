"""How a tape is named to a person: its sticker (the barcode printed on the cartridge) first, its label beside
it when the label says otherwise (a relabelled tape). The onsite person holds the cartridge and reads the sticker.
"""

from __future__ import annotations


def sticker_first(barcode: str, label: str | None) -> str:
    """`DEM001L5`, or `DEM001L5 (label NIGHTLY-3)` when the label differs from the sticker."""
    if not label or label == barcode:
        return barcode
    return f"{barcode} (label {label})"
