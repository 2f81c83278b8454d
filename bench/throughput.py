"""Side-by-side throughput of tapeconsole's pipeline and the tools a user would otherwise use.

    .venv/bin/python bench/throughput.py [--size-mib 1024] [--repeat 3] [--work DIR]

Everything runs in one process tree, on the same generated data, warm page cache, one after the other,
and prints ratios (tapeconsole / the other tool; higher is better for tapeconsole):
 1. an uncompressed set written through the pipeline (tar writer -> memory buffer -> drive writer thread)
    to a virtual drive with no speed limit, vs `tar -b 512 -cf - DIR | mbuffer -s 256k -m 512M -o FILE`,
    and vs the same with `tee >(sha256sum)` in the middle (the checksum work tapeconsole's manifest does);
 2. the files source's gzip compression (pigz when installed, else zlib threads) vs `tar -cf - DIR | pigz -p 2`
    on the same text-heavy tree (the demo's mail store and share); zstd, the default, is compared in
    bench/files_compression.py;
 3. both drives at once: a VDI job from the built-in XO simulator to one virtual drive and a files job to
    the other, each drive's rate and the CPU seconds per GB written.
Needs GNU tar, mbuffer and pigz on the PATH.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from console.demo.file_tree import generate_demo_tree  # noqa: E402
from console.engine.drives.shelf import Shelf  # noqa: E402
from console.engine.drives.virtual import VirtualDrive  # noqa: E402
from console.engine.pipeline.parts import MemberCursor, SourceMember  # noqa: E402
from console.engine.pipeline.set_writer import SetProgress, write_set  # noqa: E402
from console.engine.sources.compression import Compression  # noqa: E402
from console.engine.sources.files import FilesSource  # noqa: E402

MIB = 1024 * 1024
RECORD = 256 * 1024


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (pigz, tar, mbuffer)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(action: Callable[[], None], repeat: int, before: Callable[[], None] | None = None) -> tuple[float, float]:
    """(median seconds, median CPU seconds) over `repeat` runs; `before` (untimed) clears the last run's output."""
    walls, cpus = [], []
    for _ in range(repeat):
        if before is not None:
            before()
            os.sync()
        c0, t0 = cpu_seconds(), time.perf_counter()
        action()
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds() - c0)
    return statistics.median(walls), statistics.median(cpus)


def make_disk_tree(root: Path, size: int) -> int:
    """VM-disk-like data: a few large files, part random, part zeros (sparse VHD blocks), some small ones."""
    rng = random.Random(7)
    root.mkdir(parents=True, exist_ok=True)
    total, n = 0, 0
    while total < size:
        length = min(size - total, rng.choice([64, 128, 256]) * MIB)
        with open(root / f"disk{n:02d}.vhd", "wb") as f:
            left = length
            while left:
                piece = min(left, 4 * MIB)
                f.write(rng.randbytes(piece) if rng.random() < 0.7 else bytes(piece))
                left -= piece
        total += length
        n += 1
    return total


def file_members(root: Path) -> Iterator[SourceMember]:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        def chunks(p: Path = path) -> Iterator[bytes]:
            with open(p, "rb") as f:
                while chunk := f.read(MIB):
                    yield chunk

        yield SourceMember(name=str(path.relative_to(root)), length=path.stat().st_size, open=chunks,
                           source="bench")


def pipeline_to_virtual_drive(data: Path, work: Path) -> Callable[[], None]:
    def run() -> None:
        shelf = Shelf(work / "shelf")
        shelf.ensure("BEN001L5", 64 << 30)
        drive = VirtualDrive("bench", "LTO-5", shelf)
        drive.load("BEN001L5")
        drive.set_block_size(0)
        outcome = write_set(drive, MemberCursor(file_members(data)), record_size=RECORD, buffer_bytes=512 * MIB,
                            space_left=60 << 30, part_bytes=4 << 30, manifest_fields={"job": "bench"},
                            progress=SetProgress(), cancel=threading.Event())
        drive.eject()
        drive.close()
        os.sync()  # on disk, as the tar side's output is
        if outcome.state != "complete":
            raise SystemExit(f"bench: pipeline set ended {outcome.state}: {outcome.error}")

    return run


def tar_mbuffer(data: Path, work: Path) -> Callable[[], None]:
    def run() -> None:
        out = work / "mbuffer.tar"
        cmd = f"tar -b 512 -cf - -C {data} . | mbuffer -q -f -s 256k -m 512M -o {out}"
        subprocess.run(cmd, shell=True, check=True, stderr=subprocess.DEVNULL)
        os.sync()

    return run


def tar_sha256_mbuffer(data: Path, work: Path) -> Callable[[], None]:
    """The same, with the stream's sha256 taken on the way (tee to sha256sum): the checksum work a manifest needs."""
    def run() -> None:
        out = work / "mbuffer.tar"
        cmd = (f"tar -b 512 -cf - -C {data} . | tee >(sha256sum > {work / 'stream.sha256'}) "
               f"| mbuffer -q -f -s 256k -m 512M -o {out}")
        subprocess.run(cmd, shell=True, executable="/bin/bash", check=True, stderr=subprocess.DEVNULL)
        os.sync()

    return run


def files_source(tree: Path, threads: int) -> Callable[[], None]:
    def run() -> None:
        source = FilesSource({"mail": tree / "mail", "share": tree / "share"},
                             compression=Compression("gzip", 6, threads))
        for _ in source.chunks():
            pass

    return run


def tar_pigz(tree: Path, threads: int) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(f"tar -cf - -C {tree} mail share | pigz -6 -p {threads} > /dev/null", shell=True, check=True)

    return run


def both_drives(work: Path, tree: Path) -> dict[str, dict[str, float]]:
    """Run a VDI job and a files job at once through the daemon's service, unlimited virtual drives."""
    from console.config.loading import load_config
    from console.engine.daemon.service import TapeService
    from console.engine.jobs.sources import JobSources
    from console.engine.sources.xo_client import XoClient

    site = work / "site"
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir()
    (site / "config.toml").write_text(f"""
[daemon]
state_dir = "var"
[shelf]
cartridges = ["BEN001L5", "BEN002L5", "BEN101L4", "BEN102L4"]
[shelf.capacity_gib]
"LTO-4" = 32
"LTO-5" = 32
[drives.lto4]
kind = "virtual"
generation = "LTO-4"
[drives.lto5]
kind = "virtual"
generation = "LTO-5"
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
paths = ["{tree / 'mail'}", "{tree / 'share'}"]
part_mib = 256
""")
    config = load_config(site / "config.toml")
    # the fake XO runs as a process of its own: its CPU (making VHDs) is not tapeconsole's
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token_file = work / "xo.token"
    xo = subprocess.Popen([sys.executable, "-m", "console", "xosim", "--port", str(port), "--seed", "1",
                           "--scale", "6", "--token-file", str(token_file)], cwd=ROOT, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not token_file.exists() or not _answers(port):
        if time.monotonic() > deadline or xo.poll() is not None:
            raise SystemExit("bench: the XO simulator did not start")
        time.sleep(0.2)
    url = f"http://127.0.0.1:{port}"
    sources = JobSources(config, lambda: XoClient(url, token_file=token_file))
    service = TapeService(config, members_for=sources)
    try:
        c0 = cpu_seconds()
        runs = [service.jobs.start("nightly-vdi", "bench"), service.jobs.start("nightly-files", "bench")]
        for r in runs:
            service.jobs.wait(r["id"], 1800)
        cpu = cpu_seconds() - c0
        result: dict[str, dict[str, float]] = {}
        total = 0
        for r in runs:
            final = service.jobs.get(r["id"])
            if final["state"] != "done":
                raise SystemExit(f"bench: {final['job']} ended {final['state']}: {final['error']}")
            sets = [s for s in service.sets() if s["id"] in final["sets"]]
            seconds = sum(_seconds(s["started"], s["ended"]) for s in sets) or 1e-9
            written = sum(s["bytes"] for s in sets)
            total += written
            result[final["drive"]] = {"bytes": written, "seconds": seconds, "mb_s": written / seconds / 1e6}
        result["cpu"] = {"seconds": cpu, "per_gb": cpu / (total / 1e9)}
        return result
    finally:
        sources.close()
        service.close()
        xo.terminate()
        xo.wait()


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def sha256_rate() -> float:
    import hashlib

    data = os.urandom(64 * MIB)
    started = time.perf_counter()
    hashlib.sha256(data).hexdigest()
    return len(data) / (time.perf_counter() - started) / 1e6


def _seconds(start: str, end: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="data for comparison 1 (default 1024)")
    parser.add_argument("--text-mib", type=int, default=300, help="demo tree for comparison 2 (default 300)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", help="scratch folder (default: a temporary one, removed after)")
    parser.add_argument("--only", default="1,2,3", help="comparisons to run (default 1,2,3)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    for tool in ("tar", "mbuffer", "pigz"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench: {tool} is not installed (apt-get install {tool})")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="tcbench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        disks = work / "disks"
        size = make_disk_tree(disks, args.size_mib * MIB)
        tree = work / "tree"
        if not tree.exists():
            generate_demo_tree(tree, size=args.text_mib * MIB, seed=1)
        tree_bytes = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
        threads = min(2, os.cpu_count() or 1)
        print(f"machine: {os.cpu_count()} cores; data: {size / MIB:.0f} MiB disk-like, {tree_bytes / MIB:.0f} MiB "
              f"mail and office files; median of {args.repeat}")

        if "1" in only:
            # each side's previous output is removed before the timer starts (deleting a GiB file takes a while)
            ours, ours_cpu = timed(pipeline_to_virtual_drive(disks, work), args.repeat,
                                   before=lambda: shutil.rmtree(work / "shelf", ignore_errors=True))
            theirs, theirs_cpu = timed(tar_mbuffer(disks, work), args.repeat,
                                       before=lambda: (work / "mbuffer.tar").unlink(missing_ok=True))
            hashed, hashed_cpu = timed(tar_sha256_mbuffer(disks, work), args.repeat,
                                       before=lambda: (work / "mbuffer.tar").unlink(missing_ok=True))
            print(f"1. uncompressed set   tapeconsole {size / ours / 1e6:7.0f} MB/s   "
                  f"tar|mbuffer {size / theirs / 1e6:7.0f} MB/s   ratio {theirs / ours:.2f} (target >= 1.0)")
            print(f"   with a checksum    tapeconsole {size / ours / 1e6:7.0f} MB/s   "
                  f"tar|tee >(sha256sum)|mbuffer {size / hashed / 1e6:5.0f} MB/s   ratio {hashed / ours:.2f}")
            gb = size / 1e9
            print(f"   CPU per GB         tapeconsole {ours_cpu / gb:7.2f} s      tar|tee >(sha256sum)|mbuffer "
                  f"{hashed_cpu / gb:5.2f} s      ratio {hashed_cpu / ours_cpu:.2f} (target >= 1.0)")
            print(f"   (tapeconsole also computes the sha256 of every member for its manifest; sha256 alone runs at "
                  f"{sha256_rate():.0f} MB/s on this CPU)")

        if "2" in only:
            ours, ours_cpu = timed(files_source(tree, threads), args.repeat)
            theirs, theirs_cpu = timed(tar_pigz(tree, threads), args.repeat)
            print(f"2. compression        tapeconsole {tree_bytes / ours / 1e6:7.0f} MB/s   "
                  f"tar|pigz -p {threads} {tree_bytes / theirs / 1e6:5.0f} MB/s   ratio {theirs / ours:.2f} "
                  f"(target >= 0.9)")

        if "3" in only:
            both = both_drives(work, tree)
            print(f"3. both drives        lto5 (VDI from XO) {both['lto5']['mb_s']:6.0f} MB/s   "
                  f"lto4 (files) {both['lto4']['mb_s']:6.0f} MB/s   CPU {both['cpu']['per_gb']:.2f} s per GB written")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
