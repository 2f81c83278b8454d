"""Every tape move goes through tape_handling/tape_moves: the location is recorded and the move audited."""

from __future__ import annotations

from pathlib import Path

from console.config.schema import DriveConfig
from console.engine.drives.shelf import Shelf
from console.engine.drives.virtual import VirtualDrive
from console.engine.inventory import Inventory
from console.engine.tape_handling.drive_handle import DriveHandle
from console.engine.tape_handling.tape_moves import eject_and_record, identify_and_record, load_and_record
from console.wire.states import DriveState

MiB = 1024 * 1024


def make(tmp_path: Path) -> tuple[DriveHandle, Inventory]:
    shelf = Shelf(tmp_path / "shelf")
    for barcode in ("MOV001L5", "MOV002L5"):
        shelf.ensure(barcode, 4 * MiB, early_warning_bytes=MiB)
    config = DriveConfig("lto5", "virtual", "LTO-5", None, 65536, 4 * MiB, None, None)
    inventory = Inventory(tmp_path / "inventory.json")
    for barcode in ("MOV001L5", "MOV002L5"):
        inventory.register_cartridge(barcode, "LTO-5", 4 * MiB, "shelf")
    return DriveHandle(config, VirtualDrive("lto5", "LTO-5", shelf)), inventory


def moves(inventory: Inventory) -> list[tuple[str, str, str | None, str | None]]:
    return [(e["action"], e["user"], e.get("barcode"), e.get("reason")) for e in inventory.audit_entries()
            if e["action"] in ("load", "eject")]


def test_a_load_and_an_eject_are_recorded_and_audited(tmp_path: Path) -> None:
    handle, inventory = make(tmp_path)
    with handle.hold("loading MOV001L5") as drive:
        assert handle.state() is DriveState.LOADING
        loaded = load_and_record(handle, drive, inventory, "MOV001L5", "alice", lambda d, b: d.load(b),
                                 reason="restore")
    assert loaded.barcode == "MOV001L5" and loaded.blank and handle.loaded is loaded
    assert inventory.tape("MOV001L5")["location"] == "drive:lto5"
    with handle.hold("ejecting") as drive:
        assert eject_and_record(handle, drive, inventory, "tapeconsole", reason="tape full") == "MOV001L5"
    assert handle.loaded is None and inventory.tape("MOV001L5")["location"] == "shelf"
    assert moves(inventory) == [("load", "alice", "MOV001L5", "restore"),
                                ("eject", "tapeconsole", "MOV001L5", "tape full")]
    assert handle.state() is DriveState.NO_TAPE


def test_identifying_a_tape_found_in_the_drive_records_where_it_is_without_an_audited_load(tmp_path: Path) -> None:
    handle, inventory = make(tmp_path)
    handle.drive.load("MOV002L5")  # inserted by hand, or there when the daemon started
    with handle.hold("identifying") as drive:
        identify_and_record(handle, drive, inventory, "MOV002L5", "tapeconsole", audit=False)
    assert inventory.tape("MOV002L5")["location"] == "drive:lto5" and moves(inventory) == []
    assert handle.state() is DriveState.IDLE


def test_a_drive_state_is_the_verb_of_what_holds_it(tmp_path: Path) -> None:
    handle, _ = make(tmp_path)
    for activity, state in (("restoring set 4", DriveState.RESTORING), ("verifying DEM001L5", DriveState.VERIFYING),
                            ("scanning", DriveState.SCANNING), ("polishing the heads", DriveState.BUSY)):
        with handle.hold(activity):
            assert handle.state() is state


def test_every_drive_state_has_its_style_on_the_drive_pane() -> None:
    from widgets.drive_panel import STATE_STYLE

    assert set(STATE_STYLE) == set(DriveState)
