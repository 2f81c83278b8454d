"""XO backup-remote chains to tape: every file of every chain, refused during a merge."""

from __future__ import annotations

import json
from pathlib import Path

from console.demo.xo_simulator.remote_tree import write_remote_tree
from tests.jobs.conftest import extract


def test_remote_chains_go_to_tape_byte_identical(make_site, tmp_path: Path) -> None:
    site = make_site()
    tree = write_remote_tree(site.folder / "remote", seed=5, runs=3, scale=0.02)
    run = site.run_job("remote-chains")
    assert run["state"] == "done", run["error"]
    s = site.service.sets()[-1]
    out = extract(site.tape_file("lto5", s["file"], tmp_path / "r.tar"), tmp_path / "r")
    manifest = json.loads((out / "MANIFEST.json").read_text())
    names = [m["name"] for m in manifest["members"]]
    # per VM: the newest metadata first, then the chain from the full to the newest delta
    for vm in {b.vm_uuid for b in tree.backups}:
        runs = sorted((b for b in tree.backups if b.vm_uuid == vm), key=lambda b: b.timestamp)
        assert runs[-1].metadata_path in names
        for vhd in runs[-1].vhds:
            chain = [b for b in runs for v in b.vhds if v.vdi_uuid == vhd.vdi_uuid]
            positions = [names.index(v.path) for b in chain for v in b.vhds if v.vdi_uuid == vhd.vdi_uuid]
            assert positions == sorted(positions), "chain not in order full -> newest"
    for name in names:
        if name != "MANIFEST.json":
            assert (out / name).read_bytes() == (site.folder / "remote" / name).read_bytes(), name
    block_mode = [n for n in names if n.endswith(".alias.vhd")]
    assert block_mode and any("/data/" in n for n in names)  # the alias goes with its block folder


def test_merge_in_progress_is_refused_before_touching_the_tape(make_site) -> None:
    site = make_site()
    write_remote_tree(site.folder / "remote", seed=5, runs=2, scale=0.02, merge_marker_vms=("dc01",))
    run = site.run_job("remote-chains")
    assert run["state"] == "failed" and "merging" in run["error"] and "merge.json" in run["error"]
    assert site.service.sets() == []


def test_a_file_that_changes_while_read_fails(tmp_path: Path) -> None:
    import os

    import pytest

    from console.engine.pipeline.parts import SourceStreamError
    from console.engine.sources.xo_remote import _stable_chunks

    path = tmp_path / "20260301T220000Z.vhd"
    path.write_bytes(b"x" * (3 * 1024 * 1024))
    listed = path.stat()
    chunks = _stable_chunks(path, listed)
    next(chunks)
    with open(path, "ab") as handle:  # XO merges into the file meanwhile
        handle.write(b"y" * 10)
    with pytest.raises(SourceStreamError, match="changed while being read"):
        list(chunks)
    os.utime(path, ns=(listed.st_atime_ns, listed.st_mtime_ns + 10**9))
    with pytest.raises(SourceStreamError, match="changed between listing and reading"):
        list(_stable_chunks(path, listed))
