"""A kill mid-set costs neither the tape nor the set: what reached the tape is counted from end of data,
the retention clock starts only if data did reach it, and a physical end of tape marks the tape full."""

from __future__ import annotations

from dataclasses import replace

from console.engine.pipeline.drive_writer import PhysicalEndOfTape


def simulate_a_kill_mid_set(site, barcode: str, records: int) -> int:  # noqa: ANN001
    """What a kill -9 leaves: `records` records after end of data and no filemark, the set 'writing'."""
    service = site.service
    drive = service.slots["lto5"].drive
    size = service.config.drives["lto5"].block_size
    drive.end_of_data()
    for _ in range(records):
        drive.write_block(b"\x5a" * size)
    tape = service.inventory.tape(barcode)
    files = len([s for s in service.inventory.sets(barcode=barcode) if s["state"] != "overwritten"])
    set_id = service.inventory.add_set({
        "job": "nightly-vdi", "run": 999, "source": "xo", "barcode": barcode, "tape": tape["label"],
        "pool": "vdi-daily", "file": files + 1, "first_block": None, "record_size": size,
        "started": "2030-01-01T00:00:00+00:00", "ended": None, "bytes": 0, "members": [], "member_count": 0,
        "state": "writing", "continues": None, "error": None})
    service.jobs.recover()
    return set_id


def test_what_a_cut_set_left_on_tape_is_counted_when_the_tape_is_next_written(make_site) -> None:
    site = make_site()
    pools = site.service.config.pools
    pools["vdi-daily"] = replace(pools["vdi-daily"], allocation="append")  # the kills were on an appending pool
    site.service.inventory.sync_pools(pools.values())
    first = site.run_job("nightly-vdi")
    assert first["state"] == "done", first["error"]
    [record] = [s for s in site.service.inventory.sets() if s["id"] in first["sets"]]
    barcode = record["barcode"]
    before = site.service.inventory.tape(barcode)
    size = site.service.config.drives["lto5"].block_size
    cut = simulate_a_kill_mid_set(site, barcode, 40)
    assert site.service.inventory.tape(barcode)["last_written"] == before["last_written"]
    second = site.run_job("nightly-vdi")
    assert second["state"] == "done", second["error"]
    assert site.service.inventory.get_set(cut)["bytes"] == 40 * size
    [new] = [s for s in site.service.inventory.sets() if s["id"] in second["sets"]]
    after = site.service.inventory.tape(barcode)
    assert after["bytes_used"] == before["bytes_used"] + 40 * size + new["bytes"]


def test_a_kill_before_any_data_reached_the_tape_does_not_start_the_retention_clock(make_site) -> None:
    site = make_site()
    service = site.service
    service.load("lto5", "TST001L5", "tester")
    service.label("lto5", "VDI001", "vdi-daily", None, "tester")
    assert service.inventory.tape("TST001L5")["last_written"] is None
    simulate_a_kill_mid_set(site, "TST001L5", 0)
    tape = service.inventory.tape("TST001L5")
    assert tape["last_written"] is None and tape["status"] != "full"


def test_a_physical_end_of_tape_marks_the_tape_full(make_site, monkeypatch) -> None:  # noqa: ANN001
    site = make_site()
    from console.engine.pipeline import drive_writer

    def no_room(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise PhysicalEndOfTape("physical end of tape after 0 bytes of this set")

    monkeypatch.setattr(drive_writer.DriveWriter, "_write", no_room, raising=False)
    run = site.run_job("nightly-vdi")
    assert run["state"] == "failed" and "marked full" in run["error"], run["error"]
    [tape] = [t for t in site.service.inventory.tapes() if t.get("label") in run["tapes"]]
    assert tape["status"] == "full"
