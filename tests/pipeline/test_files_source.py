"""The files source: trees -> backup.tar.zst (.tar.gz, .tar) parts on a set -> plain tools restore them
byte-identical."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from console.demo.file_tree import DemoTree
from console.engine.inventory.file_index import FileIndex
from console.engine.pipeline.parts import MemberCursor, SourceMember
from console.engine.sources.compression import Compression, CompressionError
from console.engine.sources.files import FilesSource, FilesSourceError, InnerTar, TreeRoot, pigz_path
from console.engine.tapeformat.tar_writer import TarSetWriter

from .helpers import FileSink, gnu_tar, tree_snapshot

COMPRESSORS = [
    "zstd",
    pytest.param("pigz", marks=pytest.mark.skipif(pigz_path() is None, reason="pigz not installed")),
    "threads",
    "none",
]
UNPACK = {"zstd": "zstd -dc", "gzip": "gzip -dc", "none": "cat"}  # what the tape's README says, per codec


def settings(mode: str, *, level: int | None = None, threads: int = 2, frame_bytes: int = 64 << 20) -> Compression:
    """A compression mode of the tests: zstd, pigz or threads (gzip), none."""
    if mode == "zstd":
        return Compression("zstd", level or 3, threads, frame_bytes)
    if mode == "none":
        return Compression("none", 0, threads, frame_bytes)
    return Compression("gzip", level or 6, threads, frame_bytes, gzip_tool=mode)  # type: ignore[arg-type]


def unpacked(source: FilesSource) -> bytes:
    """The inner tar of a whole stream, decompressed by the codec's own command-line tool."""
    data = b"".join(bytes(c) for c in source.chunks())
    command = UNPACK[source.compression.codec].split()
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout


def backup_to_set(source: FilesSource, record_file: Path, part_size: int) -> dict:
    """What a files job does: the stream cut into parts by the pipeline's MemberCursor, into one set."""
    cursor = MemberCursor([SourceMember(name=source.member_name, length=None, open=source.chunks, source="files")])
    with open(record_file, "wb") as f:
        writer = TarSetWriter(FileSink(f))
        while cursor.has_more():
            part = cursor.next_part(part_size)
            writer.add_member(part.name, part.length, part.chunks, mtime=1_700_000_000)
        return writer.finish({"source": source.summary()})


def restore(record_file: Path, work: Path, member: str = "backup.tar.zst") -> Path:
    """What the tape's README tells an operator to do, with GNU tar, cat and zstd/gzip only."""
    members = work / "members"
    members.mkdir()
    gnu_tar("-b", "512", "-xf", record_file, "-C", members)
    restored = work / "restored"
    restored.mkdir()
    codec = {"backup.tar.zst": "zstd", "backup.tar.gz": "gzip", "backup.tar": "none"}[member]
    if (members / member).exists():  # one piece: tar reads it directly
        flag = {"zstd": "--zstd", "gzip": "-z", "none": ""}[codec]
        gnu_tar(*filter(None, [flag, "-xf", members / member, "-C", restored]))
        return restored
    script = f"cat {member}.part* | {UNPACK[codec]}"
    stream = subprocess.run(script, shell=True, cwd=members, check=True, capture_output=True).stdout
    gnu_tar("-xf", "-", "-C", restored, stdin=stream)
    return restored


def roots_of(demo: DemoTree) -> dict[str, Path]:
    return {"mail": demo.mail, "share": demo.share}


def source_tree_snapshot(demo: DemoTree) -> dict:
    snap = {}
    for name, path in roots_of(demo).items():
        snap[name] = ("dir", 0, oct(path.stat().st_mode & 0o7777))
        snap.update({f"{name}/{rel}": v for rel, v in tree_snapshot(path).items()})
    return snap


@pytest.mark.parametrize("compressor", COMPRESSORS)
def test_round_trip_in_parts(compressor: str, demo_tree: DemoTree, tmp_path: Path) -> None:
    source = FilesSource(roots_of(demo_tree), compression=settings(compressor, level=1, frame_bytes=1 << 20))
    manifest = backup_to_set(source, tmp_path / "set.tar", part_size=1 << 20)
    names = [m["name"] for m in manifest["members"]]
    assert len(names) > 1 and names[0] == f"{source.member_name}.part0001"
    assert compressor not in ("pigz", "threads") or source.compressor == ("pigz" if compressor == "pigz" else
                                                                           "zlib-threads")
    assert len(source.frames) > 1  # concatenated frames, read whole by the plain tools below
    restored = restore(tmp_path / "set.tar", tmp_path, source.member_name)
    assert tree_snapshot(restored) == source_tree_snapshot(demo_tree)
    assert source.warnings == []
    stats = manifest["source"]["stats"]
    assert stats["files"] == demo_tree.files and stats["file_bytes"] == demo_tree.bytes
    assert stats["compressed_bytes"] == sum(m["size"] for m in manifest["members"])


@pytest.mark.parametrize("compressor", COMPRESSORS)
def test_small_stream_is_one_member(compressor: str, tmp_path: Path) -> None:
    tree = tmp_path / "docs"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "notes.txt").write_text("minutes of the meeting\n" * 100)
    (tree / "link").symlink_to("sub/notes.txt")
    (tree / "empty dir").mkdir()
    source = FilesSource({"docs": tree}, compression=settings(compressor))
    manifest = backup_to_set(source, tmp_path / "set.tar", part_size=1 << 20)
    assert [m["name"] for m in manifest["members"]] == [source.member_name]
    restored = restore(tmp_path / "set.tar", tmp_path, source.member_name)
    assert tree_snapshot(restored / "docs") == tree_snapshot(tree)
    assert os.readlink(restored / "docs" / "link") == "sub/notes.txt"


def test_thread_stream_is_concatenated_gzip_members(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    tree.mkdir()
    (tree / "big.txt").write_bytes(b"abcdefgh" * 600_000)  # several 1 MiB chunks
    data = b"".join(bytes(c) for c in FilesSource({"t": tree}, compression=settings("threads")).chunks())
    assert data.count(b"\x1f\x8b\x08") >= 5  # one gzip member per chunk
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        assert tar.extractfile("t/big.txt").read() == b"abcdefgh" * 600_000  # type: ignore[union-attr]


def test_file_index_finds_files_and_offsets_point_at_headers(demo_tree: DemoTree, tmp_path: Path) -> None:
    index = FileIndex(tmp_path / "index.db")
    source = FilesSource(roots_of(demo_tree), index=index, set_id="set-1")
    inner = unpacked(source)
    assert index.count("set-1") == demo_tree.files
    assert index.sets()[0].complete
    hits = index.search("mail/*/Maildir/cur/*", set_id="set-1", limit=None)
    expected = sorted(f"mail/{p.relative_to(demo_tree.mail)}" for p in demo_tree.mail.glob("*/Maildir/cur/*"))
    assert sorted(h.path for h in hits) == expected
    for hit in index.search("*.csv", limit=None) + index.search("*Übersicht*"):
        header = tarfile.TarInfo.frombuf(inner[hit.offset : hit.offset + 512], "utf-8", "surrogateescape")
        if header.type == tarfile.XHDTYPE:  # a pax header first: the ustar block follows its records
            assert hit.data_offset - 512 > hit.offset
        else:
            assert header.name == hit.path
        content = (Path(str(demo_tree.root)) / hit.path).read_bytes()
        assert inner[hit.data_offset : hit.data_offset + hit.size] == content
        assert hit.size == len(content)
    long_one = index.search("*Letter to the building authority*")
    assert len(long_one) == 1 and len(long_one[0].path.encode()) > 100


def test_index_offsets_match_gnu_tar_block_numbers(tmp_path: Path, demo_tree: DemoTree) -> None:
    index = FileIndex(tmp_path / "index.db")
    source = FilesSource({"share": demo_tree.share}, index=index, set_id="s")
    inner = tmp_path / "inner.tar"
    inner.write_bytes(unpacked(source))
    listing = gnu_tar("-R", "-tf", inner)
    blocks = {line.split(": ", 1)[1]: int(line.split(":")[0].split()[1]) for line in listing.splitlines()}
    for entry in index.files("s"):
        assert entry.data_offset == (blocks[entry.path] + 1) * 512


class Saboteur:
    """Real mischief at the moment the source opens or reads a given file."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.on_open: dict[str, str] = {}
        self.on_read: dict[str, str] = {}
        real_open, real_readv = os.open, os.readv

        def fake_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
            action = self.on_open.get(os.path.basename(str(path)))
            if action == "vanish":
                os.unlink(path)
            elif action == "deny":
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, flags, *args, **kwargs)

        def fake_readv(fd, buffers):  # type: ignore[no-untyped-def]
            path = os.readlink(f"/proc/self/fd/{fd}")
            action = self.on_read.pop(os.path.basename(path), None)
            if action == "shrink":
                os.truncate(path, 1000)
            elif action == "grow":
                with open(path, "ab") as f:
                    f.write(b"appended while reading")
            elif action == "fail":
                raise OSError(5, "Input/output error")
            return real_readv(fd, buffers)

        monkeypatch.setattr(os, "open", fake_open)
        monkeypatch.setattr(os, "readv", fake_readv)


@pytest.mark.parametrize("compressor", COMPRESSORS)
def test_changing_vanishing_unreadable_files(compressor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "share"
    tree.mkdir()
    content = {
        name: os.urandom(5000 + i)
        for i, name in enumerate(["grows", "intact", "shrinks", "vanishes", "denied", "ioerr"])
    }
    for name, data in content.items():
        (tree / name).write_bytes(data)
    sab = Saboteur(monkeypatch)
    sab.on_open.update(vanishes="vanish", denied="deny")
    sab.on_read.update(shrinks="shrink", grows="grow", ioerr="fail")
    source = FilesSource({"share": tree}, compression=settings(compressor))
    backup_to_set(source, tmp_path / "set.tar", part_size=1 << 20)
    monkeypatch.undo()
    warnings = {w.path: w.message for w in source.warnings}
    assert set(warnings) == {"share/grows", "share/shrinks", "share/vanishes", "share/denied", "share/ioerr"}
    assert f"shrank by {len(content['shrinks']) - 1000} bytes; padded with zeros" in warnings["share/shrinks"]
    assert "grew by 22 bytes" in warnings["share/grows"]
    assert "removed before we read it" in warnings["share/vanishes"]
    assert "Permission denied" in warnings["share/denied"]
    assert "read error at byte 0: Input/output error" in warnings["share/ioerr"]
    restored = restore(tmp_path / "set.tar", tmp_path, source.member_name) / "share"
    assert sorted(p.name for p in restored.iterdir()) == ["grows", "intact", "ioerr", "shrinks"]
    assert (restored / "intact").read_bytes() == content["intact"]
    assert (restored / "grows").read_bytes() == content["grows"]  # cut at the declared size
    assert (restored / "shrinks").read_bytes() == content["shrinks"][:1000] + bytes(len(content["shrinks"]) - 1000)
    assert (restored / "ioerr").read_bytes() == bytes(len(content["ioerr"]))
    assert source.stats.warnings == 5


def test_special_files_are_skipped_with_a_warning(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    tree.mkdir()
    os.mkfifo(tree / "pipe")
    (tree / "ok.txt").write_text("fine")
    source = FilesSource({"t": tree})
    inner = unpacked(source)
    assert [str(w) for w in source.warnings] == ["t/pipe: fifo ignored"]
    with tarfile.open(fileobj=io.BytesIO(inner)) as tar:
        assert tar.getnames() == ["t", "t/ok.txt"]


def test_inner_tar_matches_gnu_tar_for_the_same_tree(demo_tree: DemoTree, tmp_path: Path) -> None:
    """Same names, sizes, modes, owners and mtimes as GNU tar lists for its own archive of the tree."""
    ours = tmp_path / "ours.tar"
    tar = InnerTar([TreeRoot("share", demo_tree.share)])
    with open(ours, "wb") as f:
        for chunk in tar.chunks():
            f.write(chunk)
    assert ours.stat().st_size % 10240 == 0
    listing = sorted(gnu_tar("-tvf", ours, "--full-time").splitlines())
    reference = subprocess.run(
        "tar --sort=name -cf - share | tar -tvf - --full-time",
        shell=True,
        cwd=demo_tree.root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert listing == sorted(reference.splitlines())


def test_bad_configuration() -> None:
    with pytest.raises(FilesSourceError, match="not a directory"):
        FilesSource({"x": "/nonexistent/dir"})
    with pytest.raises(FilesSourceError, match="bad root name"):
        FilesSource({"a/b": "/tmp"})
    with pytest.raises(CompressionError, match="level 12 is not 1..9 for gzip"):
        Compression("gzip", 12)
    with pytest.raises(CompressionError, match="compression 'lz4'"):
        Compression("lz4", 1)  # type: ignore[arg-type]
    with pytest.raises(FilesSourceError, match="frame size"):
        FilesSource({"t": "/tmp"}, compression=Compression(frame_bytes=(1 << 20) + 512))
    if pigz_path() is None or shutil.which("pigz") is None:
        with pytest.raises(FilesSourceError, match="pigz"):
            FilesSource({"t": "/tmp"}, compression=settings("pigz"))


def test_abandoned_stream_stops_pigz(demo_tree: DemoTree) -> None:
    if pigz_path() is None:
        pytest.skip("pigz not installed")
    source = FilesSource(roots_of(demo_tree), compression=settings("pigz", frame_bytes=1 << 20))
    stream = source.chunks()
    next(stream)
    stream.close()  # must not hang nor leave a pigz behind
    children = subprocess.run(["pgrep", "-P", str(os.getpid()), "pigz"], capture_output=True).stdout
    assert children == b""
