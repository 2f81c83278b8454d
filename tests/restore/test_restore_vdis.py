"""VDI sets restored as VHD files (parts joined), across tapes, and back into Xen Orchestra."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from console.demo.xo_simulator.remote_tree import write_remote_tree
from console.engine.sources.xo_client import XoClient


def served_vdis(url: str, token: str) -> dict[str, bytes]:
    with XoClient(url, token=token) as client:
        return {vdi["id"]: client.export_vdi(vdi["id"]).read_all() for vdi in client.list_vdis(fields="id")}


def vdi_of(name: str) -> str:
    """'vms/dc01-3fb6fdb9/dc01_system-<uuid>.vhd' -> '<uuid>'."""
    return "-".join(name.rsplit("-", 5)[-5:])[: -len(".vhd")]


def test_a_vdi_set_restores_as_its_vhd_files_parts_joined(restore_site, tmp_path: Path) -> None:
    rs = restore_site(part_mib=1)
    run = rs.backup("nightly-vdi")
    [record] = rs.sets_of(run)
    assert any(m["part"] > 1 for m in record["members"])  # 1 MiB parts: the VHDs are cut
    out = tmp_path / "vdis"
    final = rs.restore(record["id"], to=str(out))
    assert final["ok"], final["problems"]
    served = served_vdis(rs.site.xo.url, rs.site.xo.token)
    restored = {vdi_of(p.name): p.read_bytes() for p in out.rglob("*.vhd")}
    assert restored.keys() == served.keys()
    for vdi, data in served.items():
        assert restored[vdi] == data, vdi
    assert sorted(p.name for p in out.rglob("vm.json")) == ["vm.json"] * len(list((out / "vms").iterdir()))
    assert not list(out.rglob("*.part0*")) and not list(out.rglob(".*restoring"))


def test_member_globs_pick_one_vm(restore_site, tmp_path: Path) -> None:
    rs = restore_site()
    [record] = rs.sets_of(rs.backup("nightly-vdi"))
    final = rs.restore(record["id"], to=str(tmp_path / "dc01"), members=["vms/dc01-*"])
    assert final["ok"], final["problems"]
    assert [p.name for p in (tmp_path / "dc01" / "vms").iterdir()] == [
        m["member"].split("/")[1] for m in record["members"] if m["vm"] == "dc01"][:1]
    assert final["plan"]["members"] and all(m["name"].startswith("vms/dc01-") for m in final["plan"]["members"])


def test_a_set_that_spans_two_tapes_restores_across_both(restore_site, tmp_path: Path) -> None:
    rs = restore_site(lto5_gib=0.02, ew=2, part_mib=4)
    run = rs.backup("nightly-vdi", timeout=300)
    first, second = rs.sets_of(run)
    assert first["state"] == "incomplete" and second["continues"] == first["id"]
    cut = first["members"][-1]
    assert not cut["last_part"] and second["members"][0]["member"] == cut["member"]  # a VHD cut by the tape end
    plan = rs.manager.plan(_request(second["id"], tmp_path / "plan"))
    assert [(t["barcode"], t["where"]) for t in plan["tapes"]] == [
        (first["barcode"], "on the shelf"), (second["barcode"], "in drive lto5")]
    assert [s["set"] for t in plan["tapes"] for s in t["sets"]] == [first["id"], second["id"]]
    out = tmp_path / "all"
    final = rs.restore(second["id"], to=str(out))
    assert final["ok"], final["problems"]
    served = served_vdis(rs.site.xo.url, rs.site.xo.token)
    restored = {vdi_of(p.name): p.read_bytes() for p in out.rglob("*.vhd")}
    assert restored == served
    assert rs.service.slots["lto5"].drive.status().barcode == second["barcode"]  # loaded from the shelf in turn


def _request(set_id: int, folder: Path):  # noqa: ANN202
    from console.engine.restore.plan import RestoreRequest

    return RestoreRequest(set_id, to_folder=str(folder))


def test_a_restore_waits_for_the_operator_to_insert_the_tape(restore_site, tmp_path: Path) -> None:
    rs = restore_site(autoload=False, eject=True)
    [record] = rs.sets_of(rs.backup("nightly-vdi"))
    drive = rs.service.slots["lto5"].drive
    assert not drive.status().online  # the job ejected it
    started = rs.manager.start_restore(_request(record["id"], tmp_path / "w"), "tester")
    deadline = time.monotonic() + 30
    while (snap := rs.manager.get(started["id"]))["state"] != "waiting":
        assert time.monotonic() < deadline, snap
        time.sleep(0.02)
    assert snap["need"] == f"insert tape {record['barcode']} into drive lto5"
    wrong = next(t["barcode"] for t in rs.service.tapes() if t["barcode"] != record["barcode"]
                 and t["generation"] == "LTO-5")
    threading.Thread(target=drive.load, args=(wrong,)).start()  # the onsite person takes the wrong one first
    while not any(f"got {wrong}" in n for n in rs.manager.get(started["id"])["notes"]):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    drive.load(record["barcode"])
    final = rs.finish(started)
    assert final["ok"], final["problems"] or final["error"]
    assert final["need"] is None and rs.service.inventory.tape(wrong)["location"] == "shelf"
    assert len(list((tmp_path / "w").rglob("*.vhd"))) == sum(1 for m in record["members"] if m.get("vdi"))


def test_a_vdi_set_goes_back_into_xo_as_new_vdis(restore_site) -> None:
    rs = restore_site(part_mib=1)
    [record] = rs.sets_of(rs.backup("nightly-vdi"))
    with XoClient(rs.site.xo.url, token=rs.site.xo.token) as client:
        sr = client.list_srs(fields="id,name_label")[0]["id"]
    served = served_vdis(rs.site.xo.url, rs.site.xo.token)
    final = rs.restore(record["id"], to_xo=sr, members=["vms/dc01-*", "vms/erp01-*"])
    assert final["ok"], final["problems"]
    assert {s["name"] for s in final["plan"]["skipped"]} == {"vms/dc01-3fb6fdb9/vm.json",
                                                            "vms/erp01-c2cdcd59/vm.json"}
    received = rs.site.xo.sim.received()
    disks = [r for r in final["results"]]
    assert len(received) == len(disks) == 3
    for result, got in zip(disks, received, strict=True):
        data = served[vdi_of(result["name"])]
        assert got.created and got.sr_id == sr and got.fmt == "vhd" and got.vdi_id == result["vdi"]
        assert got.sha256 == hashlib.sha256(data).hexdigest() and got.size == len(data)
        assert got.content_length == len(data)  # sent with its length: XAPI refuses chunked uploads
        assert "restored from" in got.name_label


def test_vhd_chains_from_a_backup_remote_are_applied_in_order_onto_one_vdi(restore_site, tmp_path: Path) -> None:
    rs = restore_site()
    tree = write_remote_tree(rs.folder / "remote", seed=5, runs=3, scale=0.02)  # files01 in block mode
    [record] = rs.sets_of(rs.backup("remote-chains"))
    # to a folder: the remote's files as they were, chains and block-mode folders alike
    out = tmp_path / "remote-again"
    assert rs.restore(record["id"], to=str(out))["ok"]
    names = [m["member"] for m in record["members"]]
    assert names and all((out / n).read_bytes() == (rs.folder / "remote" / n).read_bytes() for n in names)
    with XoClient(rs.site.xo.url, token=rs.site.xo.token) as client:
        sr = client.list_srs(fields="id")[0]["id"]
    final = rs.restore(record["id"], to_xo=sr)
    # a block-mode VHD is a folder of blocks: it cannot be uploaded, and the restore says so
    assert final["state"] == "done" and not final["ok"]
    blocks = [p for p in final["problems"] if "block-mode VHD" in p]
    assert blocks and all(".alias.vhd" in p for p in blocks)
    assert all(r["ok"] for r in final["results"])
    received = rs.site.xo.sim.received()
    plain = [v for b in tree.backups for v in b.vhds if not v.path.endswith(".alias.vhd")]
    assert len(received) == len(final["results"]) == len(plain)
    by_disk: dict[str, list] = {}
    for result, got in zip(final["results"], received, strict=True):
        vdi = result["name"].split("/")[4]
        by_disk.setdefault(vdi, []).append(got)
        assert got.sha256 == hashlib.sha256((rs.folder / "remote" / result["name"]).read_bytes()).hexdigest()
        assert got.content_length == got.size
    assert by_disk
    for vdi, imports in by_disk.items():
        assert len(imports) == 3, vdi  # the full, then two deltas
        assert imports[0].created and not any(i.created for i in imports[1:])
        assert {i.vdi_id for i in imports} == {imports[0].vdi_id}  # the deltas went onto the new VDI
        chain = sorted(v.path for b in tree.backups for v in b.vhds if v.vdi_uuid == vdi)
        assert [r["name"] for r in final["results"] if r["name"].split("/")[4] == vdi] == chain
