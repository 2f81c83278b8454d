"""Each source's estimate against the fake XO, a generated backup remote and a file tree."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from console.demo.xo_simulator.remote_tree import RemoteVhd, write_remote_tree
from console.demo.xo_simulator.server import start_xosim_in_thread
from console.engine.planning.estimate import (
    MEMBER_OVERHEAD,
    RECORD,
    VM_METADATA,
    estimate_job,
    tar_overhead,
    tree_size,
)
from console.engine.planning.history import Night
from console.engine.sources.xo import VDI_FIELDS, VM_FIELDS, select_vms
from console.engine.sources.xo_client import XoClient
from console.engine.tapeformat.vhd import read_vhd_info, resolve_vhd_alias
from tests.planning.conftest import files_job, make_config, sparse_file


@pytest.fixture(scope="module")
def xo():
    handle = start_xosim_in_thread(seed=7, scale=0.1)
    client = XoClient(handle.url, token=handle.token)
    yield client
    client.close()
    handle.stop()


def xo_job(tmp_path: Path, fmt: str = "vhd", vms: tuple[str, ...] = ("*",)):
    config = make_config(tmp_path)
    return dataclasses.replace(files_job(config), name="nightly-vdi", source="xo", vdi_format=fmt, vms=vms, paths=())


def test_xo_vhd_estimate_is_the_length_of_every_export(tmp_path: Path, xo: XoClient) -> None:
    job = xo_job(tmp_path)
    estimate = estimate_job(job, xo=lambda: xo, nights=[])
    vms = select_vms(xo.list_vms(fields=VM_FIELDS), job.vms)
    exported = disks = 0
    for vm in vms:
        for vdi in xo.list_vdis(vm_id=vm["id"], fields=VDI_FIELDS):
            with xo.export_vdi(vdi["id"], "vhd") as export:  # the length is known from the VHD's head
                exported += export.length
            disks += 1
    assert disks == estimate.details["vdis"] and len(vms) == estimate.details["vms"]
    # the VHD streams exactly, plus what tar adds: each VM's vm.json, headers, the manifest and last record
    assert estimate.bytes == exported + len(vms) * VM_METADATA + tar_overhead(disks + len(vms), RECORD)
    assert estimate.exact and estimate.error is None
    assert estimate.basis.startswith(f"{disks} VDIs of {len(vms)} VMs exported as VHD")


def test_xo_raw_estimate_is_the_virtual_sizes(tmp_path: Path, xo: XoClient) -> None:
    job = xo_job(tmp_path, "raw", ("dc*",))
    estimate = estimate_job(job, xo=lambda: xo, nights=[])
    vms = select_vms(xo.list_vms(fields=VM_FIELDS), ("dc*",))
    vdis = [v for vm in vms for v in xo.list_vdis(vm_id=vm["id"], fields=VDI_FIELDS)]
    assert vms and estimate.bytes == (sum(int(v["size"]) for v in vdis) + len(vms) * VM_METADATA
                                      + tar_overhead(len(vdis) + len(vms), RECORD))


def test_an_unreachable_xo_or_no_matching_vm_is_a_reason_not_a_crash(tmp_path: Path, xo: XoClient) -> None:
    job = xo_job(tmp_path)
    dead = XoClient("http://127.0.0.1:9", token="t", connect_retries=0, timeout=2)
    try:
        estimate = estimate_job(job, xo=lambda: dead, nights=[])
    finally:
        dead.close()
    assert estimate.bytes is None and estimate.error is not None
    assert estimate.error.startswith("xo source: cannot connect to XO at http://127.0.0.1:9")
    assert "\n" not in estimate.error
    none = estimate_job(dataclasses.replace(job, vms=("no-such-vm",)), xo=lambda: xo, nights=[])
    assert none.bytes is None and none.error == "no VM of Xen Orchestra matches no-such-vm"
    unconfigured = estimate_job(job, xo=None, nights=[])
    assert unconfigured.error == "xo source: no Xen Orchestra is configured ([xo] in config.toml)"


def remote_job(tmp_path: Path):
    config = make_config(tmp_path)
    return dataclasses.replace(files_job(config), name="remote-chains", source="xo_remote", paths=(),
                               remote_path=tmp_path / "remote")


def test_xo_remote_estimate_is_every_chain_file_with_fulls_and_deltas_apart(tmp_path: Path) -> None:
    tree = write_remote_tree(tmp_path / "remote", seed=5, runs=3, scale=0.02, block_mode_vms=())
    estimate = estimate_job(remote_job(tmp_path), xo=None, nights=[])
    root = tmp_path / "remote"
    newest = {}
    for backup in sorted(tree.backups, key=lambda b: b.timestamp):
        newest[backup.vm_uuid] = backup
    chains = [v for b in tree.backups for v in b.vhds]
    fulls = [v for v in chains if not v.differencing]
    deltas = [v for v in chains if v.differencing]
    metadata = sum(os.path.getsize(root / b.metadata_path) + MEMBER_OVERHEAD for b in newest.values())
    full_bytes = sum(os.path.getsize(root / v.path) + MEMBER_OVERHEAD for v in fulls)
    delta_bytes = sum(os.path.getsize(root / v.path) + MEMBER_OVERHEAD for v in deltas)
    assert all(read_vhd_info(root / v.path).disk_type == "differencing" for v in deltas)
    assert estimate.chains is not None and estimate.error is None
    assert (estimate.chains.chains, estimate.chains.depth) == (len(fulls), 2)  # a full and two deltas per VDI
    assert estimate.chains.fulls == metadata + full_bytes + RECORD
    assert estimate.chains.deltas == delta_bytes
    assert estimate.bytes == metadata + full_bytes + delta_bytes + RECORD
    assert "deepest chain: 2 deltas" in estimate.basis


def test_xo_remote_block_mode_deltas_count_their_folders(tmp_path: Path) -> None:
    tree = write_remote_tree(tmp_path / "remote", seed=5, runs=2, scale=0.02)  # files01's disks in block mode
    estimate = estimate_job(remote_job(tmp_path), xo=None, nights=[])
    root = tmp_path / "remote"

    def on_remote(vhd: RemoteVhd) -> int:
        """A VHD's bytes as copied: the file, or the alias and every file of its block folder."""
        files = [root / vhd.path]
        if vhd.block_mode:
            files += [f for f in resolve_vhd_alias(root / vhd.path).rglob("*") if f.is_file()]
        return sum(f.stat().st_size + MEMBER_OVERHEAD for f in files)

    deltas = [v for b in tree.backups for v in b.vhds if v.differencing]
    assert any(v.block_mode for v in deltas)
    assert estimate.chains is not None and estimate.chains.depth == 1
    assert estimate.chains.deltas == sum(on_remote(v) for v in deltas)


def test_xo_remote_busy_or_missing_is_a_reason(tmp_path: Path) -> None:
    write_remote_tree(tmp_path / "remote", seed=5, runs=2, scale=0.02, merge_marker_vms=("dc01",))
    busy = estimate_job(remote_job(tmp_path), xo=None, nights=[])
    assert busy.bytes is None and busy.error is not None and "XO is merging on the remote" in busy.error
    missing = estimate_job(remote_job(tmp_path / "elsewhere"), xo=None, nights=[])
    assert missing.error is not None and "is the backup remote mounted" in missing.error


def test_files_estimate_is_the_tree_times_the_compression_seen_before(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    for n in range(4):
        sparse_file(tmp_path / "data" / f"box{n % 2}" / f"{n}.eml", 1_000_000 + n)
    os.symlink("/usr", tmp_path / "data" / "link")  # not followed
    job = files_job(config)
    first = estimate_job(job, xo=None, nights=[])
    assert (first.bytes, first.exact, first.details["ratio"]) == (4_000_006, False, 1.0)
    assert "no compression assumed (1.0)" in first.basis and "4 files, 4.0 MB" in first.basis
    from datetime import date

    nights = [Night(date(2026, 11, d), 600, 1000, d) for d in range(1, 8)]  # 0.6, over more than five runs
    nights.append(Night(date(2026, 11, 8), 123, None, 8))  # a run that did not record what it read
    seen = estimate_job(job, xo=None, nights=nights)
    assert seen.bytes == round(4_000_006 * 0.6) and "the compression of its last 5 runs (0.60)" in seen.basis


def test_a_tree_walk_stops_at_its_time_limit_and_says_so(tmp_path: Path) -> None:
    for n in range(5):
        sparse_file(tmp_path / "data" / f"d{n}" / "f", 10)
    ticks = iter(range(100))
    partial = tree_size((tmp_path / "data",), seconds=1.5, clock=lambda: next(ticks))
    assert not partial.complete and 0 < partial.files < 5
    whole = tree_size((tmp_path / "data",))
    assert (whole.files, whole.bytes, whole.complete) == (5, 50, True)
    config = make_config(tmp_path)
    cut = estimate_job(files_job(config), xo=None, nights=[], walk_seconds=0)
    assert "the walk stopped after 0 s" in cut.basis and cut.details["walk_complete"] is False


def test_a_missing_folder_is_a_reason(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    (tmp_path / "data").rmdir()
    estimate = estimate_job(files_job(config), xo=None, nights=[])
    assert estimate.bytes is None and estimate.error == f"folder {tmp_path / 'data'} does not exist"
