"""Tape drives: one `Drive` interface (base.py), the virtual drive with its shelf and speed model.

The real st backend lives in its own module and is imported only where a real drive is configured.
"""

from console.engine.drives.base import (
    BlankTape,
    Drive,
    DriveBusy,
    DriveCounters,
    DriveError,
    DriveIOError,
    DriveStatus,
    EndOfMedium,
    MediaIncompatible,
    NoTape,
    NotSupported,
    WriteProtected,
)
from console.engine.drives.shelf import CartridgeInfo, Shelf, ShelfError, generation_of
from console.engine.drives.speed import SpeedModel
from console.engine.drives.virtual import VirtualDrive

__all__ = [
    "BlankTape",
    "CartridgeInfo",
    "Drive",
    "DriveBusy",
    "DriveCounters",
    "DriveError",
    "DriveIOError",
    "DriveStatus",
    "EndOfMedium",
    "MediaIncompatible",
    "NoTape",
    "NotSupported",
    "Shelf",
    "ShelfError",
    "SpeedModel",
    "VirtualDrive",
    "WriteProtected",
    "generation_of",
]
