"""The files source side by side with tar and zstd/pigz, both drives at their native rates, one-file restores.

    .venv/bin/python bench/files_compression.py [--repeat 3] [--text-mib 300] [--maildir /tmp/tc-maildir]
        [--files 500000] [--set-mib 2048] [--only compression,maildir,drives,restore] [--work DIR]

Every comparison runs the two sides one after the other in one run, on the same data with a warm page
cache, and prints the median of `--repeat` runs and the ratio (tapeconsole / the other tool, higher is
better for tapeconsole). CPU seconds are this process's and its children's (tar, zstd, pigz).
 1. compression: the files source (zstd -3 on 2 threads, file index and frame table written, as a files
    job does) vs `tar -cf - DIR | zstd -3 -T2` and vs `tar -cf - DIR | pigz -6 -p2`, on the demo's mail
    store and share: input MB/s, CPU s per GB of input, output size.
 2. many small files: a generated maildir (bench/maildir_tree.py, made once under --maildir and reused):
    the files source vs `tar | zstd -3 -T2`, files per second.
 3. both drives at once, the virtual drives at real native rates (LTO-4 120 MB/s, LTO-5 140 MB/s, floors 40
    and 47 MB/s): a VDI job from the XO simulator (its own process) to lto5 and a files job to lto4, through
    the daemon's service: each drive's rate onto tape, underruns after the initial fill, CPU s per GB.
 4. restore of one file near the end and one near the start of a files set of --set-mib (incompressible
    data, so the set is that size) from a virtual LTO-4 reading at 120 MB/s, and the set read through.
Needs GNU tar, zstd and pigz on the PATH.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from maildir_tree import make_maildir  # noqa: E402
from throughput import _answers, cpu_seconds  # noqa: E402

from console.demo.file_tree import generate_demo_tree  # noqa: E402
from console.engine.inventory.file_index import FileIndex  # noqa: E402
from console.engine.sources.compression import Compression  # noqa: E402
from console.engine.sources.files import FilesSource  # noqa: E402

MIB = 1024 * 1024
THREADS = 2


AFTERWARDS: list[threading.Thread] = []  # the file index's trigram builds, started when a stream ends


def timed(action: Callable[[], int], repeat: int) -> tuple[float, float, int]:
    """(median wall seconds, median CPU seconds, output bytes of the last run). The file index's trigrams,
    which the daemon builds at the lowest priority after the stream (the tape does not wait for them), are
    let finish between runs, untimed, so they do not slow the next run."""
    walls, cpus, out = [], [], 0
    for _ in range(repeat):
        while AFTERWARDS:
            AFTERWARDS.pop().join()
        c0, t0 = cpu_seconds(), time.perf_counter()
        out = action()
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds() - c0)
    return statistics.median(walls), statistics.median(cpus), out


def files_source(roots: dict[str, Path], work: Path) -> Callable[[], int]:
    runs = iter(range(1_000_000))

    def run() -> int:
        db = work / f"bench-index-{os.getpid()}-{next(runs)}.sqlite"  # a fresh index each run, as a new set is
        with FileIndex(db) as index:
            source = FilesSource(roots, compression=Compression("zstd", 3, THREADS), index=index, set_id="bench")
            out = 0
            for chunk in source.chunks():
                out += memoryview(chunk).nbytes
        writer = source.index_writer
        if writer is not None and writer.trigram_thread is not None:
            AFTERWARDS.append(writer.trigram_thread)
        return out

    return run


def tar_pipe(parent: Path, names: list[str], compressor: str) -> Callable[[], int]:
    def run() -> int:
        cmd = f"tar -cf - -C {parent} {' '.join(names)} | {compressor} | wc -c"
        return int(subprocess.run(cmd, shell=True, check=True, capture_output=True).stdout)

    return run


def tree_size(root: Path) -> tuple[int, int]:
    files = size = 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            files += 1
            size += os.lstat(os.path.join(folder, name)).st_size
    return files, size


def compare_compression(work: Path, text_mib: int, repeat: int) -> None:
    tree = work / "tree"
    if not (tree / "share").exists():
        generate_demo_tree(tree, size=text_mib * MIB, seed=1)
    files, size = tree_size(tree)
    roots = {"mail": tree / "mail", "share": tree / "share"}
    ours = timed(files_source(roots, work), repeat)
    zstd = timed(tar_pipe(tree, ["mail", "share"], f"zstd -3 -T{THREADS} -c"), repeat)
    pigz = timed(tar_pipe(tree, ["mail", "share"], f"pigz -6 -p {THREADS} -c"), repeat)
    print(f"1. compression ({size / 1e6:.0f} MB, {files} files of mail and office documents)")
    for name, (wall, cpu, out) in (("files source (zstd -3, 2 threads)", ours), (f"tar | zstd -3 -T{THREADS}", zstd),
                                   (f"tar | pigz -6 -p {THREADS}", pigz)):
        print(f"   {name:<36} {size / wall / 1e6:7.0f} MB/s in  {cpu / (size / 1e9):6.2f} CPU s/GB  "
              f"output {out / size:.3f} of the input")
    while AFTERWARDS:
        AFTERWARDS.pop().join()
    print(f"   ratio vs tar|zstd {zstd[0] / ours[0]:.2f} (target >= 0.9), vs tar|pigz {pigz[0] / ours[0]:.2f}")


def compare_maildir(maildir: Path, files_wanted: int, repeat: int, work: Path) -> None:
    make_maildir(maildir, files_wanted)
    files, size = tree_size(maildir / "mail")
    ours = timed(files_source({"mail": maildir / "mail"}, work), repeat)
    zstd = timed(tar_pipe(maildir, ["mail"], f"zstd -3 -T{THREADS} -c"), repeat)
    print(f"2. many small files ({files} files of 1-16 KiB, {size / 1e6:.0f} MB)")
    for name, (wall, cpu, _out) in (("files source", ours), (f"tar | zstd -3 -T{THREADS}", zstd)):
        print(f"   {name:<36} {files / wall:9.0f} files/s  {size / wall / 1e6:6.0f} MB/s  "
              f"{cpu / (size / 1e9):6.2f} CPU s/GB")
    print(f"   ratio {zstd[0] / ours[0]:.2f} (target >= 0.8)")


SITE = """
[daemon]
state_dir = "var"
[shelf]
cartridges = ["BEN001L5", "BEN002L5", "BEN101L4", "BEN102L4"]
[shelf.capacity_gib]
"LTO-4" = 64
"LTO-5" = 64
[drives.lto4]
kind = "virtual"
generation = "LTO-4"
native_rate_mb_s = 120
floor_rate_mb_s = 40
buffer_mib = {buffer}
[drives.lto5]
kind = "virtual"
generation = "LTO-5"
native_rate_mb_s = 140
floor_rate_mb_s = 47
buffer_mib = {buffer}
[pools.vdi-daily]
generation = "LTO-5"
retention_days = 14
[pools.files-daily]
generation = "LTO-4"
retention_days = 14
[xo]
simulator = true
[jobs.nightly-vdi]
source = "xo"
drive = "lto5"
pool = "vdi-daily"
part_mib = 4096
[jobs.nightly-files]
source = "files"
drive = "lto4"
pool = "files-daily"
paths = [{paths}]
part_mib = 4096
compression_threads = 2
"""


class Site:
    """The daemon's service on a scratch config, with the XO simulator in a process of its own."""

    def __init__(self, work: Path, paths: list[Path], *, xo_scale: float, buffer_mib: int = 512) -> None:
        from console.config.loading import load_config
        from console.engine.daemon.service import TapeService
        from console.engine.jobs.sources import JobSources
        from console.engine.sources.xo_client import XoClient

        folder = work / "site"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        (folder / "config.toml").write_text(SITE.format(buffer=buffer_mib,
                                                        paths=", ".join(f'"{p}"' for p in paths)))
        self.config = load_config(folder / "config.toml")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        token_file = work / "xo.token"
        token_file.unlink(missing_ok=True)
        self.xo = subprocess.Popen([sys.executable, "-m", "console", "xosim", "--port", str(port), "--seed", "1",
                                    "--scale", str(xo_scale), "--token-file", str(token_file)], cwd=ROOT,
                                   stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not token_file.exists() or not _answers(port):
            if time.monotonic() > deadline or self.xo.poll() is not None:
                raise SystemExit("bench: the XO simulator did not start")
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port}"
        self.sources = JobSources(self.config, lambda: XoClient(url, token_file=token_file))
        self.service = TapeService(self.config, members_for=self.sources)

    def run(self, *jobs: str) -> list[dict]:
        runs = [self.service.jobs.start(job, "bench") for job in jobs]
        for r in runs:
            self.service.jobs.wait(r["id"], 3600)
        finals = [self.service.jobs.get(r["id"]) for r in runs]
        for final in finals:
            if final["state"] != "done":
                raise SystemExit(f"bench: {final['job']} ended {final['state']}: {final['error']}")
        return finals

    def close(self) -> None:
        self.sources.close()
        self.service.close()
        self.xo.terminate()
        self.xo.wait()


def both_drives(work: Path, text_mib: int, xo_scale: float) -> None:
    tree = work / "tree-drives"
    if not (tree / "share").exists():
        generate_demo_tree(tree, size=text_mib * MIB, seed=2)
    site = Site(work, [tree / "mail", tree / "share"], xo_scale=xo_scale)
    try:
        c0 = cpu_seconds()
        finals = site.run("nightly-vdi", "nightly-files")
        cpu = cpu_seconds() - c0
        total = sum(f["bytes"] for f in finals)
        print(f"3. both drives at once, native rates (CPU {cpu:.1f} s for both: {cpu / (total / 1e9):.2f} CPU s "
              "per GB written; the XO simulator's own process not counted)")
        for final in finals:
            native = {"lto4": 120e6, "lto5": 140e6}[final["drive"]]
            drive = site.service.slots[final["drive"]].drive
            shoe = getattr(drive, "speed", None)
            print(f"   {final['drive']} {final['job']:<14} {final['bytes'] / 1e9:6.2f} GB  "
                  f"{final['tape_rate'] / 1e6:6.1f} MB/s onto tape ({final['tape_rate'] / native:.0%} of native, "
                  f"target >= 95%)  underruns {final['underruns']} (target 0)  "
                  f"stream warnings {final.get('stream_risk_warnings', 0)}"
                  + (f"  shoe-shine events {shoe.shoe_shine_events}" if shoe is not None else ""))
    finally:
        site.close()


def restore_times(work: Path, set_mib: int) -> None:
    from console.engine.restore.manager import RestoreManager
    from console.engine.restore.plan import RestoreRequest

    data = work / "restore-tree"
    if not (data / ".complete").exists():
        shutil.rmtree(data, ignore_errors=True)
        rng = random.Random(9)
        for i in range(set_mib // 8):
            path = data / "scans" / f"{i // 64:02d}" / f"scan{i:04d}.pdf"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(rng.randbytes(8 * MIB))
        (data / ".complete").touch()
    site = Site(work, [data / "scans"], xo_scale=0.01)
    try:
        [final] = site.run("nightly-files")
        [record] = [s for s in site.service.sets() if s["id"] in final["sets"]]
        names = sorted(p.relative_to(data).as_posix() for p in (data / "scans").rglob("*.pdf"))
        manager = RestoreManager(site.config, site.service.inventory, site.service.slots,
                                 autoload=lambda drive, barcode: drive.load(barcode), jobs=site.service.jobs)

        def restore(members: list[str], out: str) -> tuple[float, int]:
            target = work / out
            shutil.rmtree(target, ignore_errors=True)
            t0 = time.perf_counter()
            started = manager.start_restore(RestoreRequest(record["id"], tuple(members), str(target)), "bench")
            manager.wait(started["id"], 3600)
            done = manager.get(started["id"])
            if not done["ok"]:
                raise SystemExit(f"bench: restore {members} failed: {done['problems'] or done['error']}")
            return time.perf_counter() - t0, done["drive_reads"]["bytes_read"]

        near_start = restore([names[1]], "r-start")
        near_end = restore([names[-2]], "r-end")
        through = restore([], "r-all")
        manager.close()
        print(f"4. restore from a {record['bytes'] / 1e9:.2f} GB files set, virtual LTO-4 reading at 120 MB/s")
        for what, (seconds, read) in (("one file near the start", near_start), ("one file near the end", near_end),
                                      ("the whole set read through", through)):
            print(f"   {what:<28} {seconds:6.2f} s  {read / 1e6:8.1f} MB read from tape")
        print(f"   end/start {near_end[0] / near_start[0]:.2f} (target within 2x), "
              f"read-through/end {through[0] / near_end[0]:.1f}x (target >= 10x)")
    finally:
        site.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--text-mib", type=int, default=300, help="demo tree for comparison 1 (default 300)")
    parser.add_argument("--maildir", type=Path, default=Path("/tmp/tc-maildir"))
    parser.add_argument("--files", type=int, default=500_000)
    parser.add_argument("--drives-mib", type=int, default=2048, help="demo tree for comparison 3 (default 2048)")
    parser.add_argument("--xo-scale", type=float, default=8.0, help="XO simulator scale for comparison 3")
    parser.add_argument("--set-mib", type=int, default=2048)
    parser.add_argument("--only", default="compression,maildir,drives,restore")
    parser.add_argument("--work", help="scratch folder (default: a temporary one, removed after)")
    args = parser.parse_args()
    for tool in ("tar", "zstd", "pigz"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench: {tool} is not installed (apt-get install {tool})")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="tcbench-"))
    work.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(","))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; "
          f"median of {args.repeat}")
    try:
        if "compression" in only:
            compare_compression(work, args.text_mib, args.repeat)
        if "maildir" in only:
            compare_maildir(args.maildir, args.files, args.repeat, work)
        if "drives" in only:
            both_drives(work, args.drives_mib, args.xo_scale)
        if "restore" in only:
            restore_times(work, args.set_mib)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
