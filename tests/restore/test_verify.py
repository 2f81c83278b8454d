"""Verify: sets read back, every member's sha256 checked against the tape's manifest and the inventory."""

from __future__ import annotations

from pathlib import Path

from console.engine.restore.verify import tapes_due
from console.engine.restore.verify_schedule import verify_on_schedule


def corrupt(image: Path, needle: bytes) -> None:
    """Flip a byte of recorded data in a cartridge image, where `needle` was written."""
    raw = image.read_bytes()
    at = raw.find(needle)
    assert at > 0 and raw.find(needle, at + 1) < 0
    with open(image, "r+b") as handle:
        handle.seek(at + len(needle) // 2)
        handle.write(bytes([raw[at + len(needle) // 2] ^ 0xFF]))


def test_verify_reports_each_set_intact_and_records_it(restore_site) -> None:
    rs = restore_site(scale=0.05)
    first = rs.sets_of(rs.backup("nightly-vdi"))[0]
    second = rs.sets_of(rs.backup("nightly-vdi"))[0]
    final = rs.verify(first["tape"])
    assert final["state"] == "done" and final["ok"], final["problems"]
    [verdict] = final["results"]
    assert verdict["set"] == first["id"] and verdict["state"] == "intact" and verdict["manifest_agrees"]
    assert verdict["members"] == verdict["matching"] == first["member_count"]
    assert final["bytes"] == sum(m["size"] for m in first["members"])
    stored = rs.service.inventory.get_set(first["id"])
    assert stored["verify_state"] == "intact" and stored["verified"]
    assert rs.service.inventory.get_set(second["id"]).get("verified") is None
    # the scheduler's call takes the tape never verified first
    assert [t["barcode"] for t in tapes_due(rs.service.inventory)] == [second["barcode"], first["barcode"]]
    [scheduled] = verify_on_schedule(rs.manager)
    assert scheduled["ok"] and scheduled["user"] == "scheduler"
    assert scheduled["results"][0]["set"] == second["id"]


def test_a_damaged_block_fails_verify_and_the_restore_of_that_member(restore_site, tmp_path: Path) -> None:
    rs = restore_site(scale=0.05)
    [record] = rs.sets_of(rs.backup("nightly-vdi"))
    out = tmp_path / "good"
    assert rs.restore(record["id"], to=str(out))["ok"]
    victim = next(m for m in record["members"] if m["name"].endswith(".vhd"))
    data = (out / victim["name"]).read_bytes()
    corrupt(rs.service.shelf.image_path(record["barcode"]), data[len(data) // 2 : len(data) // 2 + 4096])

    final = rs.verify(record["tape"], record["id"])
    assert final["state"] == "done" and not final["ok"]
    [verdict] = final["results"]
    assert verdict["state"] == "damaged" and [b["name"] for b in verdict["bad"]] == [victim["name"]]
    assert verdict["matching"] == record["member_count"] - 1
    assert final["problems"] == [f"set {record['id']}: damaged: {verdict['bad'][0]['why']}"]
    assert rs.service.inventory.get_set(record["id"])["verify_state"] == "damaged"

    again = rs.restore(record["id"], to=str(tmp_path / "bad"))
    assert again["state"] == "done" and not again["ok"]
    failed = [r for r in again["results"] if not r["ok"]]
    assert [r["name"] for r in failed] == [victim["name"]] and "does not match its sha256" in failed[0]["problem"]
    assert not (tmp_path / "bad" / victim["name"]).exists()  # a damaged member is not left as if it were whole
    assert not list((tmp_path / "bad").rglob(".*restoring"))
    assert len(list((tmp_path / "bad").rglob("*.vhd"))) == len(list(out.rglob("*.vhd"))) - 1
