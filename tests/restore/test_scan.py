"""Rebuilding the inventory from tape (`tapeconsole scan DRIVE`), then restoring from what was rebuilt."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from console.engine.daemon.service import TapeService
from console.engine.restore.scan import find_manifest
from console.engine.tapeformat.tar_headers import tar_header
from console.engine.tapeformat.tar_writer import TarSetWriter
from tests.restore.conftest import RestoreSite, make_tree, manager_for, same_tree
from tests.restore.test_restore_vdis import served_vdis, vdi_of


def lose_the_inventory(rs: RestoreSite) -> RestoreSite:
    """The daemon restarts with its inventory gone: same shelf, same drives, an empty inventory."""
    site = rs.site
    rs.manager.close()
    site.service.close()
    (site.service.config.daemon.state_dir / "inventory.json").unlink()
    site.service = TapeService(site.service.config, members_for=site.sources)
    rs = RestoreSite(site, manager_for(site))
    assert rs.service.inventory.sets() == [] and all(t["label"] is None for t in rs.service.tapes())
    return rs


def test_scan_rebuilds_the_inventory_and_the_sets_restore(restore_site, tmp_path: Path) -> None:
    rs = restore_site(part_mib=1)
    make_tree(rs.folder / "data")
    files_run = rs.backup("nightly-files")
    vdi_run = rs.backup("nightly-vdi")
    [old_files] = rs.sets_of(files_run)
    [old_vdis] = rs.sets_of(vdi_run)
    rs = lose_the_inventory(rs)

    final = rs.scan("lto4")
    assert final["state"] == "done" and final["ok"], final["problems"] or final["error"]
    summary = final["summary"]
    assert summary["label"] == old_files["tape"] and summary["added"] == 1 and not summary["known_before"]
    assert final["results"][0]["how"] == "end of file"  # the manifest read from the end of the tape file
    assert final["drive_reads"]["blocks_read"] < old_files["bytes"] // old_files["record_size"]
    [files] = rs.service.inventory.sets(barcode=old_files["barcode"])
    for key in ("job", "run", "source", "file", "first_block", "record_size", "started", "bytes", "state",
                "member_count"):
        assert files[key] == old_files[key], key
    assert [{k: m[k] for k in old} for m, old in zip(files["members"], old_files["members"], strict=True)] == \
        old_files["members"]
    tape = rs.service.inventory.tape(old_files["barcode"])
    assert tape["label"] == old_files["tape"] and tape["pool"] == "files-daily" and tape["status"] == "full"
    assert tape["location"] == "drive:lto4"
    assert "not in this inventory" not in (rs.service.slots["lto4"].loaded.warning or "")

    out = tmp_path / "files"
    assert rs.restore(files["id"], to=str(out))["ok"]
    assert same_tree(rs.folder / "data" / "mail", out / "mail")
    assert same_tree(rs.folder / "data" / "shares", out / "shares")
    # the file index outlived the inventory: it is this site's run, so find answers again
    found = rs.manager.find("dept1/doc1.txt")
    assert [(f["path"], f["set"]) for f in found["files"]] == [("shares/dept1/doc1.txt", files["id"])]

    assert rs.scan("lto5")["ok"]
    [vdis] = rs.service.inventory.sets(barcode=old_vdis["barcode"])
    out = tmp_path / "vdis"
    assert rs.restore(vdis["id"], to=str(out))["ok"]
    assert {vdi_of(p.name): p.read_bytes() for p in out.rglob("*.vhd")} == served_vdis(rs.site.xo.url,
                                                                                        rs.site.xo.token)
    # scanning again changes nothing and keeps the set numbers
    again = rs.scan("lto5")
    assert again["summary"]["added"] == 0 and again["summary"]["updated"] == 1 and again["summary"]["sets"] == \
        [vdis["id"]]
    assert len(rs.service.inventory.sets()) == 2


def test_sets_that_span_tapes_are_linked_again_whatever_tape_is_scanned_first(restore_site, tmp_path: Path) -> None:
    rs = restore_site(lto5_gib=0.02, ew=2, part_mib=4)
    first, second = rs.sets_of(rs.backup("nightly-vdi", timeout=300))
    rs = lose_the_inventory(rs)
    assert rs.service.slots["lto5"].drive.status().barcode == second["barcode"]
    assert rs.scan("lto5")["ok"]  # the second tape first: it continues a set nobody knows yet
    rs.service.eject("lto5", "tester")
    rs.service.load("lto5", first["barcode"], "tester")
    assert rs.scan("lto5")["ok"]
    new_first = rs.service.inventory.sets(barcode=first["barcode"])[0]
    new_second = rs.service.inventory.sets(barcode=second["barcode"])[0]
    assert new_second["continues"] == new_first["id"] and new_first["state"] == "incomplete"
    out = tmp_path / "spanned"
    final = rs.restore(new_first["id"], to=str(out))
    assert final["ok"], final["problems"]
    assert [t["barcode"] for t in final["plan"]["tapes"]] == [first["barcode"], second["barcode"]]
    assert {vdi_of(p.name): p.read_bytes() for p in out.rglob("*.vhd")} == served_vdis(rs.site.xo.url,
                                                                                        rs.site.xo.token)


def test_a_drive_that_cannot_seek_reads_each_set_through(restore_site) -> None:
    from tests.restore.test_positioning import LimitedDrive

    rs = restore_site()
    [old] = rs.sets_of(rs.backup("nightly-vdi"))
    rs = lose_the_inventory(rs)
    slot = rs.service.slots["lto5"]
    slot.drive = LimitedDrive(slot.drive, seek=False, space=False)
    final = rs.scan("lto5")
    assert final["ok"], final["problems"]
    assert final["results"][0]["how"] == "read through" and "cannot tell" in final["drive_reads"]["positioning"][0]
    [record] = rs.service.inventory.sets()
    assert record["first_block"] is None and record["bytes"] == old["bytes"]
    assert [m["sha256"] for m in record["members"]] == [m["sha256"] for m in old["members"]]


def test_the_manifest_is_found_only_where_the_archive_ends() -> None:
    records: list[bytes] = []
    writer = TarSetWriter(lambda r: records.append(bytes(r)), 4096)
    decoy = json.dumps({"format": "tapeconsole-set", "decoy": True}).encode()  # a set backed up inside a set
    inner = tar_header("MANIFEST.json", len(decoy)) + decoy + bytes(-len(decoy) % 512)
    writer.add_member("member.tar", len(inner), [inner])
    writer.finish({"job": "j"})
    data = b"".join(records)
    manifest, _ = find_manifest(data)
    assert manifest["job"] == "j" and "decoy" not in manifest
    assert find_manifest(data[-1024:]) is None  # a tail that starts inside the manifest: the scan reads more


def test_a_file_index_key_from_another_installation_is_not_trusted(tmp_path: Path) -> None:
    from console.engine.inventory import Inventory
    from console.engine.restore.rebuild import InventoryRebuild
    from console.engine.restore.scan import FoundSet
    from console.engine.tapeformat.label import TapeLabel

    started = "2026-03-01T22:00:00+00:00"
    manifest = {"format": "tapeconsole-set", "record_size": 262144, "set": 9, "job": "nightly-files", "run": 4,
                "source": "files", "started": started, "state": "complete", "continues_set": None,
                "members": [{"name": "backup.tar.gz", "size": 10, "sha256": "0" * 64, "header_offset": 0,
                             "data_offset": 512}],
                "parts": [{"name": "backup.tar.gz", "member": "backup.tar.gz", "part": 0, "part_offset": 0,
                           "last_part": True, "index": "run4"}]}
    label = TapeLabel.new("F00001", "F00001L4", "files-daily", "LTO-4", datetime.fromisoformat(started))
    ours = 1_772_402_400.0  # the local index "run4" was started at 2026-03-01T22:00Z: this site's run 4
    for created, kept in ((ours + 30, "run4"), (ours - 40 * 86400, None), (None, None)):
        inv = Inventory(tmp_path / f"inv-{kept}-{created}.json")
        rebuild = InventoryRebuild(inv, lambda key, when=created: when)
        summary = rebuild.record(label, "F00001L4", "drive:lto4", 1 << 30,
                                 [FoundSet(1, 2, 262144, 262144, manifest, None, "end of file")])
        [record] = inv.sets()
        assert summary["added"] == 1 and record["origin_set"] == 9 and record["members"][0]["index"] == kept
        assert inv.tape("F00001L4")["status"] == "full" and inv.tape("F00001L4")["label"] == "F00001"
