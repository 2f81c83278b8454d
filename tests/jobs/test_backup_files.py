"""File trees compressed to the LTO-4, and both drives streaming at once."""

from __future__ import annotations

import filecmp
import json
import subprocess
import threading
import time
from pathlib import Path

from console.engine.inventory.file_index import FileIndex
from console.engine.jobs.files_job import index_key, index_path
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
    parts = sorted(out.glob("backup.tar.zst.part*"))
    assert len(parts) >= 2  # 1 MiB parts: the archive is cut, and cat joins it again
    restored = tmp_path / "restored"
    restored.mkdir()
    joined = " ".join(str(p) for p in parts)
    subprocess.run(f"cat {joined} | zstd -dc | tar -xf - -C {restored}", shell=True, check=True)
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


DEMO = """
[demo]
files_folder = "data"
files_mib = 1
"""


def _waiting_for(site, run_id: int, words: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = site.service.jobs.get(run_id)
        if words in (run.get("waiting") or ""):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never said it waits for {words!r}: {site.service.jobs.get(run_id)}")


def test_a_demo_run_started_while_the_demo_tree_is_generated_waits_for_it(make_site) -> None:
    """First start of the embedded default: `d` within the minute the daemon needs to generate the demo tree
    queues the files job, which waits for the tree (saying so) and then backs it up."""
    site = make_site(extra=DEMO)
    tree = make_tree(site.folder / "data")  # the generator is still writing: no .complete marker yet
    run = site.service.jobs.start("nightly-files", "tester")
    waiting = _waiting_for(site, run["id"], "demo file tree")
    assert waiting["state"] == "queued" and "is being generated" in waiting["waiting"]
    (tree / ".complete").write_text("generated\n")
    assert site.service.jobs.wait(run["id"], 60)
    done = site.service.jobs.get(run["id"])
    assert done["state"] == "done", done["error"]
    assert done["waiting"] is None and done["bytes"] > 0


def test_cancelling_a_run_that_waits_for_the_demo_tree_cancels_it(make_site) -> None:
    site = make_site(extra=DEMO)
    make_tree(site.folder / "data")
    run = site.service.jobs.start("nightly-files", "tester")
    _waiting_for(site, run["id"], "demo file tree")
    site.service.jobs.cancel(run["id"], "tester")
    assert site.service.jobs.wait(run["id"], 10)
    ended = site.service.jobs.get(run["id"])
    assert ended["state"] == "cancelled" and "demo file tree" in ended["error"]
    assert site.service.inventory.tape("TST101L4")["status"] == "blank", "nothing was written or labelled"


def test_a_files_run_shows_its_size_as_an_estimate_and_its_progress_from_the_tree_read(make_site) -> None:
    """The compressed size is a guess before the tree is read: progress and ETA come from the input left, the
    run never reads 100% before it is done, and says its expected size is an estimate."""
    site = make_site(rate=2, buffer=1, part_mib=1)
    make_tree(site.folder / "data")
    run = site.service.jobs.start("nightly-files", "tester")
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        snap = site.service.jobs.get(run["id"])
        if snap["state"] not in ("queued", "waiting-for-tape", "running"):
            break
        if snap["state"] == "running" and snap["input_done"]:
            seen.append(snap)
        time.sleep(0.05)
    final = site.service.jobs.get(run["id"])
    assert final["state"] == "done", final["error"]
    assert seen, "the run was seen running"
    assert all(s["expected_is_estimate"] for s in seen)
    assert all(s["fraction"] is not None and s["fraction"] <= 0.99 for s in seen)  # never 100% while running
    tree = seen[0]["input_bytes"]
    assert tree and all(abs(s["fraction"] - min(0.99, s["input_done"] / tree)) < 1e-9 for s in seen)
