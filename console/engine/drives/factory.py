"""Build the configured drives: virtual ones on the shelf, st ones on their /dev/nstN device."""

from __future__ import annotations

from console.config.schema import Config, DriveConfig
from console.engine.drives.base import Drive, DriveError
from console.engine.drives.shelf import Shelf
from console.engine.drives.speed import SpeedModel
from console.engine.drives.virtual import VirtualDrive


def build_shelf(config: Config) -> Shelf | None:
    if config.shelf is None:
        return None
    shelf = Shelf(config.shelf.path)
    for barcode in config.shelf.cartridges:
        generation = f"LTO-{barcode[-1]}"
        shelf.ensure(
            barcode,
            config.shelf.capacity_bytes[generation],
            write_protected=barcode in config.shelf.write_protected,
            early_warning_bytes=config.shelf.early_warning_bytes,
        )
    return shelf


def build_drive(drive: DriveConfig, shelf: Shelf | None) -> Drive:
    if drive.kind == "virtual":
        if shelf is None:
            raise DriveError(f"drive {drive.name}: a virtual drive needs a [shelf]")
        speed = None
        if drive.native_rate:
            speed = SpeedModel(native_rate=drive.native_rate, floor_rate=drive.floor_rate or drive.native_rate / 3)
        return VirtualDrive(drive.name, drive.generation, shelf, speed=speed)
    from console.engine.drives.st import StDrive  # imported only where real drives are configured

    assert drive.device is not None
    return StDrive(drive.name, drive.generation, drive.device)


def build_drives(config: Config) -> tuple[Shelf | None, dict[str, Drive]]:
    shelf = build_shelf(config)
    return shelf, {name: build_drive(drive, shelf) for name, drive in config.drives.items()}
