"""The shelf: barcodes, cartridge files, and where each cartridge is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.engine.drives.shelf import STATE_FILE, Shelf, ShelfError, generation_of
from console.wire.lto import NATIVE_CAPACITY

MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("barcode", "generation"),
    [("DEM001L5", "LTO-5"), ("ARC001L4", "LTO-4"), ("000000L3", "LTO-3"), ("ZZZ999L8", "LTO-8")],
)
def test_the_generation_comes_from_the_barcode(barcode: str, generation: str) -> None:
    assert generation_of(barcode) == generation


@pytest.mark.parametrize(
    "barcode",
    ["DEM01L5", "DEM0001L5", "dem001l5", "DEM001X5", "DEM001L9", "DEM001L2", "DEM-01L5", "../../L5", "", "DEM001L"],
)
def test_bad_barcodes_are_refused_in_one_line(tmp_path: Path, barcode: str) -> None:
    with pytest.raises(ValueError) as caught:
        Shelf(tmp_path).ensure(barcode, MiB)
    message = str(caught.value)
    assert "\n" not in message
    assert repr(barcode) in message
    assert list(tmp_path.iterdir()) == []


def test_ensure_creates_a_blank_cartridge_once(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path)
    info = shelf.ensure("DEM001L5", 8 * MiB, early_warning_bytes=MiB)
    assert (info.barcode, info.generation) == ("DEM001L5", "LTO-5")
    assert (info.capacity_bytes, info.early_warning_bytes, info.early_warning_at) == (8 * MiB, MiB, 7 * MiB)
    assert not info.write_protected and info.location is None
    assert (tmp_path / "DEM001L5.tape").exists()
    meta = json.loads((tmp_path / "DEM001L5.json").read_text())
    assert meta == {
        "barcode": "DEM001L5",
        "generation": "LTO-5",
        "capacity_bytes": 8 * MiB,
        "early_warning_bytes": MiB,
        "write_protected": False,
    }
    again = shelf.ensure("DEM001L5", 99 * MiB, write_protected=True)
    assert again.capacity_bytes == 8 * MiB and not again.write_protected  # an existing cartridge is kept


def test_ensure_defaults_to_the_native_capacity(tmp_path: Path) -> None:
    info = Shelf(tmp_path).ensure("DEM101L4")
    assert info.capacity_bytes == NATIVE_CAPACITY["LTO-4"] == 800 * 1000**3
    assert 0 < info.early_warning_bytes < info.capacity_bytes


@pytest.mark.parametrize(("capacity", "warning"), [(0, None), (-1, None), (MiB, MiB), (MiB, -1)])
def test_impossible_sizes_are_refused(tmp_path: Path, capacity: int, warning: int | None) -> None:
    with pytest.raises(ValueError):
        Shelf(tmp_path).ensure("DEM001L5", capacity, early_warning_bytes=warning)


def test_barcodes_lists_every_cartridge(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path)
    for barcode in ("DEM002L5", "DEM001L5", "ARC001L4"):
        shelf.ensure(barcode, MiB)
    shelf.take("DEM002L5", "lto5")
    (tmp_path / "notes.json").write_text("{}")
    assert shelf.barcodes() == ["ARC001L4", "DEM001L5", "DEM002L5"]


def test_a_cartridge_is_in_one_place_at_a_time(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path)
    shelf.ensure("DEM001L5", MiB)
    shelf.ensure("DEM002L5", MiB)
    assert shelf.take("DEM001L5", "lto5").location == "lto5"
    assert shelf.location("DEM001L5") == "lto5"
    assert shelf.loaded_in("lto5") == "DEM001L5" and shelf.loaded_in("lto4") is None
    with pytest.raises(ShelfError, match="DEM001L5 is in drive lto5"):
        shelf.take("DEM001L5", "lto4")
    with pytest.raises(ShelfError, match="lto5 already holds DEM001L5"):
        shelf.take("DEM002L5", "lto5")
    with pytest.raises(ShelfError, match="not in lto4"):
        shelf.put_back("DEM001L5", "lto4")
    shelf.put_back("DEM001L5", "lto5")
    assert shelf.location("DEM001L5") is None
    assert shelf.take("DEM001L5", "lto4").location == "lto4"


def test_locations_are_shared_by_every_shelf_on_the_folder(tmp_path: Path) -> None:
    Shelf(tmp_path).ensure("DEM001L5", MiB)
    Shelf(tmp_path).take("DEM001L5", "lto5")
    with pytest.raises(ShelfError):
        Shelf(tmp_path).take("DEM001L5", "lto4")
    state = json.loads((tmp_path / STATE_FILE).read_text())
    assert state == {"version": 1, "in_drives": {"DEM001L5": "lto5"}}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_unknown_cartridges_are_named(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path)
    with pytest.raises(ShelfError, match="no cartridge DEM009L5 on the shelf"):
        shelf.info("DEM009L5")
    with pytest.raises(ShelfError, match="not an LTO barcode"):
        shelf.take("../etc", "lto5")


def test_the_write_protect_tab_moves_only_on_the_shelf(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path)
    shelf.ensure("DEM001L5", MiB)
    assert shelf.set_write_protected("DEM001L5", True).write_protected
    assert shelf.info("DEM001L5").write_protected
    shelf.take("DEM001L5", "lto5")
    with pytest.raises(ShelfError, match="eject it"):
        shelf.set_write_protected("DEM001L5", False)
    assert shelf.info("DEM001L5").write_protected


def test_a_damaged_state_file_is_reported(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path)
    shelf.ensure("DEM001L5", MiB)
    (tmp_path / STATE_FILE).write_text("{not json")
    with pytest.raises(ShelfError, match=STATE_FILE):
        shelf.take("DEM001L5", "lto5")
