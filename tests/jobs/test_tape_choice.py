"""Choosing the tape a job writes to: never offsite, never unexpired, the right order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.config.schema import PoolConfig
from console.engine.inventory import Inventory
from console.engine.jobs.tape_choice import candidates, first_choice


def make(tmp_path: Path) -> tuple[Inventory, datetime]:
    now = datetime(2026, 11, 26, 22, tzinfo=UTC)
    inv = Inventory(tmp_path / "inv.json", clock=lambda: now)
    inv.sync_pools([PoolConfig("vdi-daily", "LTO-5", 14, "new-each-run", "vault"),
                    PoolConfig("archive", "LTO-5", 14, "append", "vault")])
    for i in range(1, 8):
        inv.register_cartridge(f"T0000{i}L5", "LTO-5", 1 << 30, "shelf")
    inv.register_cartridge("T00009L4", "LTO-4", 1 << 30, "shelf")

    def labelled(barcode: str, pool: str, days_ago: int | None, **extra: object) -> None:
        last = (now - timedelta(days=days_ago)).isoformat() if days_ago is not None else None
        inv.update_tape(barcode, label=barcode, pool=pool, status="writable", last_written=last, **extra)

    labelled("T00001L5", "vdi-daily", 3)  # unexpired
    labelled("T00002L5", "vdi-daily", 20)  # expired
    labelled("T00003L5", "vdi-daily", 30, location="offsite:vault")  # expired but offsite
    labelled("T00004L5", "vdi-daily", None)  # labelled, empty
    labelled("T00005L5", "vdi-daily", 40, location="drive:lto4")  # in another drive
    labelled("T00006L5", "archive", 1)
    return inv, now


def test_new_each_run_order_and_refusals(tmp_path: Path) -> None:
    inv, _ = make(tmp_path)
    order = [(c.barcode, c.reason) for c in candidates(inv, "vdi-daily", "lto5", "LTO-5")]
    assert order == [("T00004L5", "empty tape of the pool"), ("T00002L5", "expired"), ("T00007L5", "blank")]
    assert all(c.barcode not in ("T00001L5", "T00003L5", "T00005L5") for c in candidates(inv, "vdi-daily", "lto5",
                                                                                          "LTO-5"))


def test_append_pool_takes_its_last_written_tape_first(tmp_path: Path) -> None:
    inv, _ = make(tmp_path)
    first = candidates(inv, "archive", "lto5", "LTO-5")[0]
    assert (first.barcode, first.reason, first.needs_label) == ("T00006L5", "append", False)


def test_write_protected_and_wrong_generation_are_never_chosen(tmp_path: Path) -> None:
    inv, _ = make(tmp_path)
    inv.update_tape("T00007L5", write_protected=True)
    barcodes = [c.barcode for c in candidates(inv, "vdi-daily", "lto5", "LTO-5")]
    assert "T00007L5" not in barcodes and "T00009L4" not in barcodes
    assert candidates(inv, "vdi-daily", "lto4", "LTO-4") == []


def test_a_tape_a_restore_holds_is_never_chosen(tmp_path: Path) -> None:
    inv, _ = make(tmp_path)
    order = [c.barcode for c in candidates(inv, "vdi-daily", "lto5", "LTO-5", held={"T00004L5", "T00007L5"})]
    assert order == ["T00002L5"]


def test_the_tape_in_the_drive_is_taken_first_when_it_is_a_choice(tmp_path: Path) -> None:
    inv, _ = make(tmp_path)
    inv.update_tape("T00007L5", location="drive:lto5")
    choices = candidates(inv, "vdi-daily", "lto5", "LTO-5")
    assert choices[0].barcode == "T00004L5" and first_choice(choices, "lto5").barcode == "T00007L5"
    assert first_choice(candidates(inv, "vdi-daily", "lto4", "LTO-5"), "lto4").barcode == "T00005L5"  # expired, in it
    assert first_choice([], "lto5") is None
