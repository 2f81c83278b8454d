"""Find: VM disks by VM, VDI and night from the inventory; files by glob and night through the file index."""

from __future__ import annotations

import random
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from console.engine.inventory import Inventory
from console.engine.inventory.file_index import FileIndex
from console.engine.restore.catalog import night_of, parse_night
from console.engine.restore.find import file_pattern, find

DC01_SYSTEM = "93309536-9333-4f96-ab86-747d9a19fe6e"
REMOTE_VM, REMOTE_VDI = "0b9c7a44-7fb5-4f8e-9d3e-0a1b2c3d4e5f", "5e8f0c11-2233-4455-8899-aabbccddeeff"


def started(day: int, hour: int) -> str:
    return datetime(2026, 3, day, hour, 30).astimezone().isoformat(timespec="seconds")


def entry(name: str, size: int, **extra: object) -> dict:
    return {"name": name, "member": name, "part": 0, "part_offset": 0, "last_part": True, "size": size,
            "sha256": "0" * 64, "offset": 1536, "header_offset": 1024, **extra}


def add_set(inv: Inventory, job: str, source: str, run: int, when: str, members: list[dict], state: str = "complete"
            ) -> int:
    return inv.add_set({"job": job, "run": run, "source": source, "barcode": f"TST{run:03d}L5", "tape": f"L{run}",
                        "pool": "p", "file": 1, "first_block": 2, "record_size": 262144, "started": when,
                        "ended": when, "bytes": 1, "members": members, "member_count": len(members), "state": state,
                        "continues": None, "error": None})


@pytest.fixture
def catalog(tmp_path: Path) -> Inventory:
    inv = Inventory(tmp_path / "inventory.json")
    for run, when in ((1, started(1, 23)), (2, started(3, 1))):  # the nights of March 1st and 2nd
        add_set(inv, "nightly-vdi", "xo", run, when, [
            entry("vms/dc01-3fb6fdb9/vm.json", 900, vm="dc01"),
            entry(f"vms/dc01-3fb6fdb9/dc01_system-{DC01_SYSTEM}.vhd", 4_000_000, vm="dc01", vdi=DC01_SYSTEM),
            entry("vms/erp01-c2cdcd59/erp01_pgdata-91cc8be4-43de-4e6b-bc27-8ecda7b3fc5e.vhd", 2_000_000, vm="erp01",
                  vdi="91cc8be4-43de-4e6b-bc27-8ecda7b3fc5e"),
        ])
    add_set(inv, "remote-chains", "xo_remote", 3, started(2, 22), [
        entry(f"xo-vm-backups/{REMOTE_VM}/20260302T220000Z.json", 800),
        entry(f"xo-vm-backups/{REMOTE_VM}/vdis/job/{REMOTE_VDI}/20260302T220000Z.vhd", 3_000_000),
    ])
    add_set(inv, "nightly-files", "files", 4, started(1, 22), [entry("backup.tar.gz", 5_000, index="run4")])
    add_set(inv, "nightly-files", "files", 5, started(2, 22), [entry("backup.tar.gz", 5_000, index="run5")])
    add_set(inv, "nightly-files", "files", 6, started(3, 22), [entry("backup.tar.gz", 5_000, index="run6")],
            state="overwritten")
    return inv


def test_nights_run_from_noon_to_noon() -> None:
    assert night_of(started(3, 1)) == date(2026, 3, 2) == night_of(started(2, 22))
    assert night_of(started(3, 13)) == date(2026, 3, 3)
    assert parse_night("2026-03-02") == date(2026, 3, 2)
    with pytest.raises(Exception, match="night 'yesterday' must be a date like 2026-03-01"):
        parse_night("yesterday")


def test_disks_by_vm_vdi_and_night(catalog: Inventory) -> None:
    sets = catalog.sets()
    dc01 = find(sets, None, vm="dc01")["disks"]
    assert [(d["kind"], d["night"]) for d in dc01] == [
        ("metadata", "2026-03-02"), ("disk", "2026-03-02"), ("metadata", "2026-03-01"), ("disk", "2026-03-01")]
    assert [d["set"] for d in dc01 if d["kind"] == "disk"] == [2, 1]
    by_vdi = find(sets, None, vdi="dc01_system", night=date(2026, 3, 1))["disks"]
    assert [(d["vdi"], d["set"], d["tapes"], d["size"]) for d in by_vdi] == [(DC01_SYSTEM, 1, ["L1"], 4_000_000)]
    assert [d["set"] for d in find(sets, None, vdi=DC01_SYSTEM[:8])["disks"]] == [2, 1]
    remote = find(sets, None, vm=REMOTE_VM[:8], vdi=REMOTE_VDI)["disks"]
    assert [(d["vm"], d["vdi"], d["night"]) for d in remote] == [(REMOTE_VM, REMOTE_VDI, "2026-03-02")]
    assert find(sets, None, vm="nosuchvm")["disks"] == []
    assert [d["vm"] for d in find(sets, None, pattern="erp01")["disks"]] == ["erp01", "erp01"]


def test_files_by_glob_and_night_through_the_index(catalog: Inventory, tmp_path: Path) -> None:
    with FileIndex(tmp_path / "index.sqlite") as index:
        for key in ("run4", "run5", "run6"):
            with index.writer(key) as writer:
                for i in range(300):
                    writer.add(f"share/dept{i % 3}/invoice-{i:04d}.pdf", i, 1.7e9, i * 1024, i * 1024 + 512)
                    writer.add(f"mail/alice/Maildir/cur/{i}.eml", i, 1.7e9, i * 2048, i * 2048 + 512)
        sets = catalog.sets()
        found = find(sets, index, pattern="invoice-0042", night=date(2026, 3, 1))
        assert [(f["path"], f["set"], f["night"], f["tapes"]) for f in found["files"]] == [
            ("share/dept0/invoice-0042.pdf", 4, "2026-03-01", ["L4"])]
        every = find(sets, index, pattern="/share/dept1/*.pdf")["files"]
        assert len(every) == 200 and {f["set"] for f in every} == {4, 5}  # run6's tape was relabelled
        capped = find(sets, index, pattern="*.eml", limit=50)
        assert len(capped["files"]) == 50 and capped["truncated"]
        assert file_pattern("doc1.txt") == "*doc1.txt*" and file_pattern("/mail/*") == "mail/*"


@pytest.mark.slow
def test_a_glob_over_a_million_files_answers_well_under_a_second(catalog: Inventory, tmp_path: Path) -> None:
    rng = random.Random(1)
    with FileIndex(tmp_path / "big.sqlite") as index:
        for key, count in (("run4", 500_000), ("run5", 500_000)):
            with index.writer(key, batch_rows=100_000) as writer:
                for i in range(count):
                    if i % 2:
                        path = f"mail/user{i % 500:03d}/Maildir/cur/{1_700_000_000 + i}.eml"
                    else:
                        kind = rng.choice(("invoice", "report", "notes", "scan", "photo"))
                        path = f"share/dept{i % 40:02d}/project{i // 40 % 300:03d}/{kind}-{2020 + i % 6}-{i:07d}.pdf"
                    writer.add(path, i, 1.7e9, i * 1024, i * 1024 + 512)
        index.update_trigrams()
        assert index.count() == 1_000_000
        sets = catalog.sets()
        timings = {}
        for pattern, night in (("*invoice-2024*.pdf", None), ("share/dept08/*", None), ("1700099999", None),
                               ("*project123/notes*", date(2026, 3, 2)), ("*.eml", date(2026, 3, 1))):
            began = time.perf_counter()
            found = find(sets, index, pattern=pattern, night=night)
            timings[pattern] = time.perf_counter() - began
            assert found["files"], pattern
            assert timings[pattern] < 0.5, (pattern, timings[pattern])
        print("\nfind on 1,000,000 indexed files: " + ", ".join(f"{p} {t * 1000:.0f} ms" for p, t in timings.items()))
