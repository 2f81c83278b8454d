"""VDI chains from the fake XO to a virtual tape, read back by GNU tar byte for byte."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from console.engine.sources.xo_client import XoClient
from tests.jobs.conftest import extract


def served_vdis(url: str, token: str) -> dict[str, bytes]:
    with XoClient(url, token=token) as client:
        return {vdi["id"]: client.export_vdi(vdi["id"]).read_all() for vdi in client.list_vdis(fields="id")}


def test_xo_job_round_trip_through_gnu_tar(make_site, tmp_path: Path) -> None:
    site = make_site()
    run = site.run_job("nightly-vdi")
    assert run["state"] == "done", run["error"]
    sets = site.service.sets()
    assert len(sets) == 1 and sets[0]["state"] == "complete" and sets[0]["file"] == 1
    assert sets[0]["tape"] == run["tapes"][0]
    out = extract(site.tape_file("lto5", 1, tmp_path / "set1.tar"), tmp_path / "x")
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["job"] == "nightly-vdi" and manifest["state"] == "complete"
    served = served_vdis(site.xo.url, site.xo.token)
    found = {}
    for member in manifest["members"]:
        data = (out / member["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == member["sha256"]
        if member["name"].endswith(".vhd"):
            vdi_id = member["name"].rsplit("-", 5)[-5:]
            found["-".join(vdi_id)[:-4]] = data
    assert found.keys() == served.keys()
    for vdi_id, data in served.items():
        assert found[vdi_id] == data
    tape = site.service.inventory.tape(sets[0]["barcode"])
    assert tape["last_written"] and tape["expires"] and tape["pool"] == "vdi-daily"


def rebuild_members(site, tmp_path: Path) -> dict[str, bytes]:
    """Read every set of every tape back with GNU tar and join member parts across tapes."""
    pieces: dict[str, list[tuple[int, bytes]]] = {}
    for s in site.service.sets():
        drive = "lto5"
        if site.service.slots[drive].drive.status().online:
            site.service.eject(drive, "tester")
        site.service.load(drive, s["barcode"], "tester")
        tar = site.tape_file(drive, s["file"], tmp_path / f"set{s['id']}.tar")
        out = extract(tar, tmp_path / f"set{s['id']}")
        manifest = json.loads((out / "MANIFEST.json").read_text())
        for part in manifest["parts"]:
            pieces.setdefault(part["member"], []).append((part["part_offset"], (out / part["name"]).read_bytes()))
    return {name: b"".join(data for _, data in sorted(parts)) for name, parts in pieces.items()}


def test_end_of_tape_spans_to_the_next_tape_with_no_member_lost(make_site, tmp_path: Path) -> None:
    site = make_site(lto5_gib=0.03, ew=2, part_mib=4)
    run = site.run_job("nightly-vdi", timeout=300)
    assert run["state"] == "done", run["error"]
    sets = site.service.sets()
    assert len(sets) >= 2, sets
    assert [s["state"] for s in sets] == ["incomplete"] * (len(sets) - 1) + ["complete"]
    assert len({s["barcode"] for s in sets}) == len(sets)  # one set per tape, each tape readable alone
    for s in sets[:-1]:
        assert site.service.inventory.tape(s["barcode"])["status"] == "full"
    assert [s["continues"] for s in sets[1:]] == [s["id"] for s in sets[:-1]]
    rebuilt = rebuild_members(site, tmp_path)
    served = served_vdis(site.xo.url, site.xo.token)
    vhds = {name.rsplit("-", 5)[-5:][0]: data for name, data in rebuilt.items() if name.endswith(".vhd")}
    assert len(vhds) == len(served)
    for name, data in rebuilt.items():
        if name.endswith(".vhd"):
            vdi = "-".join(name.rsplit("-", 5)[-5:])[:-4]
            assert data == served[vdi], name


def test_faults_fail_the_set_with_a_reason_and_keep_the_tape_readable(make_site, tmp_path: Path) -> None:
    site = make_site()
    with XoClient(site.xo.url, token=site.xo.token) as client:
        vdis = sorted(client.list_vdis(fields="id,name_label"), key=lambda v: v["id"])
    victim = vdis[0]["id"]
    site.xo.sim.set_fault(victim, drop_at=1_000_000)
    run = site.run_job("nightly-vdi")
    assert run["state"] == "failed"
    assert victim in run["error"] and "1000000" in run["error"], run["error"]
    sets = site.service.sets()
    assert sets[-1]["state"] == "failed" and victim in sets[-1]["error"]
    out = extract(site.tape_file("lto5", sets[-1]["file"], tmp_path / "failed.tar"), tmp_path / "failed")
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["state"] == "failed"
    bad = [p for p in manifest["parts"] if "incomplete" in p]
    assert len(bad) == 1 and victim in bad[0]["member"]

    # an XAPI error inside a 200 answer: the member never starts, the set says why
    site.xo.sim.clear_faults()
    site.xo.sim.set_fault(victim, error_in_body=True)
    run = site.run_job("nightly-vdi")
    assert run["state"] == "failed" and "XAPI error" in run["error"]
    second = site.service.sets()[-1]
    # the pool takes a new tape each run: the failed set stays alone on its tape
    assert second["barcode"] != sets[-1]["barcode"] and second["file"] == 1 and second["state"] == "failed"
    out = extract(site.tape_file("lto5", second["file"], tmp_path / "f2.tar"), tmp_path / "f2")
    assert json.loads((out / "MANIFEST.json").read_text())["state"] == "failed"

    site.xo.sim.clear_faults()
    run = site.run_job("nightly-vdi")
    assert run["state"] == "done", run["error"]
    assert site.service.sets()[-1]["state"] == "complete"
