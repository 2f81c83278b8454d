"""File trees compressed to the LTO-4, and both drives streaming at once."""

from __future__ import annotations

import filecmp
import json
import subprocess
import threading
import time
from pathlib import Path

from console.engine.fileindex import FileIndex
from console.engine.sources.files_job import index_key, index_path
from tests.jobs.conftest import extract, make_tree


def same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(a / d, b / d) for d in cmp.common_dirs)


def test_files_job_restores_the_trees_byte_identical(make_site, tmp_path: Path) -> None:
    site = make_site(part_mib=1)
    make_tree(site.folder / "data")
    run = site.run_job("nightly-files")
    assert run["state"] == "done", run["error"]
    assert any(n.startswith("files: ") for n in run["notes"])
    s = site.service.sets()[-1]
    assert s["state"] == "complete" and s["job"] == "nightly-files"
    out = extract(site.tape_file("lto4", s["file"], tmp_path / "files.tar"), tmp_path / "set")
    parts = sorted(out.glob("backup.tar.gz.part*"))
    assert len(parts) >= 2  # 1 MiB parts: the archive is cut, and cat joins it again
    restored = tmp_path / "restored"
    restored.mkdir()
    subprocess.run(f"cat {' '.join(str(p) for p in parts)} | tar -xzf - -C {restored}", shell=True, check=True)
    assert same_tree(site.folder / "data" / "mail", restored / "mail")
    assert same_tree(site.folder / "data" / "shares", restored / "shares")
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert [m["name"] for m in manifest["members"]] == [p.name for p in parts]
    with FileIndex(index_path(site.service.config)) as index:
        assert index.count(index_key(run["id"])) == 30 * 2 + 12 * 2


def test_both_drives_stream_at_once(make_site) -> None:
    site = make_site(rate=5, scale=0.1, buffer=1)
    make_tree(site.folder / "data")
    both_running = threading.Event()
    runs = [site.service.jobs.start("nightly-vdi", "tester"), site.service.jobs.start("nightly-files", "tester")]

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = [site.service.jobs.get(r["id"]) for r in runs]
            if all(s["state"] == "running" and s["bytes"] > 0 for s in states):
                both_running.set()
                return
            if any(s["state"] not in ("queued", "running") for s in states):
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    for r in runs:
        site.service.jobs.wait(r["id"], 180)
    watcher.join()
    finals = [site.service.jobs.get(r["id"]) for r in runs]
    assert [f["state"] for f in finals] == ["done", "done"], [f["error"] for f in finals]
    assert both_running.is_set(), "the two drives never wrote at the same time"
    assert {s["job"] for s in site.service.sets()} == {"nightly-vdi", "nightly-files"}
    drives = {d["name"]: d for d in site.service.drives()}
    assert drives["lto4"]["counters"]["bytes_written"] > 0 and drives["lto5"]["counters"]["bytes_written"] > 0
