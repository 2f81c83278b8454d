"""console.demo.xo_simulator.remote_tree: an XO backup remote whose chains read back to each run's disk."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from console.demo.xo_simulator.remote_tree import RemoteTree, write_remote_tree
from console.engine.tapeformat.vhd import VhdError, iter_chain_raw, read_vhd_info, vhd_chain

pytest.importorskip("brotli")  # block-mode chunks are brotli: reading them back needs a decoder


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> RemoteTree:
    return write_remote_tree(tmp_path_factory.mktemp("remote"), seed=5, runs=3, scale=0.08,
                             vm_names=("dc01", "files01"), block_mode_vms=("files01",),
                             merge_marker_vms=("dc01",))


def test_layout_and_metadata(tree: RemoteTree) -> None:
    assert len(tree.backups) == 2 * 3
    for backup in tree.backups:
        meta = json.loads((tree.root / backup.metadata_path).read_text())
        assert (meta["version"], meta["mode"], meta["jobId"], meta["scheduleId"]) == (
            "2.0.0", "delta", tree.job_id, tree.schedule_id)
        assert meta["vm"]["uuid"] == backup.vm_uuid
        assert backup.metadata_path.endswith(f"{backup.vm_uuid}/{backup.timestamp}.json")
        for ref, rel in meta["vhds"].items():
            vhd = next(v for v in backup.vhds if v.path.endswith(rel))
            assert rel.startswith(f"vdis/{tree.job_id}/{vhd.vdi_uuid}/{backup.timestamp}")
            assert meta["vdis"][ref]["uuid"] == vhd.snapshot_uuid
            assert meta["vdis"][ref]["$snapshot_of$uuid"] == vhd.vdi_uuid
            assert meta["isVhdDifferencing"][f"{ref}.vhd"] == vhd.differencing


def test_chains_read_back_to_each_runs_disk(tree: RemoteTree) -> None:
    for backup in tree.backups:
        for vhd in backup.vhds:
            path = tree.root / vhd.path
            chain = vhd_chain(path)
            assert chain[0].uuid == vhd.snapshot_uuid
            assert [c.disk_type for c in chain] == ["differencing"] * (len(chain) - 1) + ["dynamic"]
            assert chain[-1].path is not None and chain[-1].path.name.startswith("20260302T220000Z")
            digest = hashlib.sha256()
            for block in iter_chain_raw(path):
                digest.update(block)
            assert digest.hexdigest() == vhd.raw_sha256


def test_parent_names_are_relative_paths(tree: RemoteTree) -> None:
    dc01 = [b for b in tree.backups if b.vm_name == "dc01"]
    info = read_vhd_info(tree.root / dc01[2].vhds[0].path)
    assert info.parent_name == f"{dc01[1].timestamp}.vhd"
    files01 = [b for b in tree.backups if b.vm_name == "files01"]
    alias = tree.root / files01[1].vhds[0].path
    assert alias.name.endswith(".alias.vhd") and alias.read_text().startswith("data/")
    info = read_vhd_info(alias)
    assert info.parent_name == f"{files01[0].timestamp}.alias.vhd"
    assert info.data_path is not None and info.data_path.is_dir()
    assert json.loads((info.data_path / "chunk-filters.json").read_text()) == ["brotli"]


def test_merge_marker(tree: RemoteTree) -> None:
    (marker,) = tree.merge_markers
    path = tree.root / marker
    dc01 = [b for b in tree.backups if b.vm_name == "dc01"]
    assert path.name == f".{dc01[0].timestamp}.vhd.merge.json"
    state = json.loads(path.read_text())
    assert state["chain"] == [f"{dc01[0].timestamp}.vhd", f"{dc01[1].timestamp}.vhd"]
    assert state["step"] == "mergeBlocks"


def test_same_seed_same_tree(tmp_path: Path) -> None:
    def listing(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file() and "/data/" not in str(p) and "alias" not in p.name}

    a = write_remote_tree(tmp_path / "a", seed=11, runs=2, scale=0.05, vm_names=("dc01",), block_mode_vms=())
    b = write_remote_tree(tmp_path / "b", seed=11, runs=2, scale=0.05, vm_names=("dc01",), block_mode_vms=())
    c = write_remote_tree(tmp_path / "c", seed=12, runs=2, scale=0.05, vm_names=("dc01",), block_mode_vms=())
    assert listing(a.root) == listing(b.root)
    assert listing(a.root) != listing(c.root)


def test_a_missing_parent_is_a_vhd_error(tmp_path: Path) -> None:
    tree = write_remote_tree(tmp_path, seed=1, runs=2, scale=0.05, vm_names=("dc01",), block_mode_vms=())
    first, second = (b.vhds[0] for b in tree.backups)
    (tree.root / first.path).unlink()
    with pytest.raises(VhdError, match=f"its parent {Path(first.path).name} is missing"):
        vhd_chain(tree.root / second.path)
    with pytest.raises(VhdError, match="cannot read VHD .*: No such file or directory"):
        read_vhd_info(tree.root / first.path)
