"""The archive's independent frames: the frame table leads to every file of a tree, from its frame alone."""

from __future__ import annotations

import io
import random
import subprocess
import tarfile
import zlib
from pathlib import Path

import pytest
import zstandard

from console.engine.inventory.file_index import FileIndex
from console.engine.inventory.frame_table import FrameTable
from console.engine.sources.compression import Compression
from console.engine.sources.files import FilesSource, pigz_path

MODES = [
    "zstd",
    pytest.param("pigz", marks=pytest.mark.skipif(pigz_path() is None, reason="pigz not installed")),
    "threads",
    "none",
]
FRAME = 64 << 10


def settings(mode: str) -> Compression:
    if mode == "zstd":
        return Compression("zstd", 3, 2, FRAME)
    if mode == "none":
        return Compression("none", 0, 2, FRAME)
    return Compression("gzip", 6, 2, FRAME, gzip_tool=mode)  # type: ignore[arg-type]


def generated_tree(root: Path, files: int = 300) -> Path:
    """Small files and a few spanning several frames, text and random bytes, nested folders."""
    rng = random.Random(11)
    words = [b"tape", b"restore", b"frame", b"offsite", b"invoice", b"vault"]
    for i in range(files):
        path = root / f"d{i % 7}" / f"sub{i % 3}" / f"f{i:04d}.dat"
        path.parent.mkdir(parents=True, exist_ok=True)
        if i % 50 == 0:
            data = rng.randbytes(200_000)  # crosses frames
        else:
            data = b" ".join(rng.choice(words) for _ in range(rng.randint(0, 3000)))
        path.write_bytes(data)
    return root


def from_frame_on(mode: str, packed: bytes, start: int) -> io.RawIOBase | io.BytesIO:
    """The inner tar from the frame at `start` on, read from the compressed bytes after it only."""
    tail = packed[start:]
    if mode == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(tail), read_across_frames=True)
    if mode == "none":
        return io.BytesIO(tail)
    out, rest = [], tail
    while rest:  # every gzip member after the frame's start
        inflate = zlib.decompressobj(wbits=31)
        out.append(inflate.decompress(rest))
        rest = inflate.unused_data
    return io.BytesIO(b"".join(out))


@pytest.mark.parametrize("mode", MODES)
def test_every_file_is_found_from_its_frame_alone(mode: str, tmp_path: Path) -> None:
    tree = generated_tree(tmp_path / "tree")
    index = FileIndex(tmp_path / "index.db")
    source = FilesSource({"tree": tree}, compression=settings(mode), index=index, set_id="run1")
    packed = b"".join(bytes(c) for c in source.chunks())
    table = FrameTable(index.path)
    frames = table.frames("run1")
    assert len(frames) == -(-source.stats.tar_bytes // FRAME) > 10
    assert [f.tar_offset for f in frames] == [i * FRAME for i in range(len(frames))]
    layout = table.layout("run1")
    assert layout is not None and layout.codec == settings(mode).codec and layout.packed_bytes == len(packed)
    checked = 0
    for entry in index.files("run1"):
        frame = table.frame_holding("run1", entry.offset)
        assert frame is not None and frame.tar_offset <= entry.offset < frame.tar_offset + FRAME
        stream = from_frame_on(mode, packed, frame.packed_offset)
        stream.read(entry.offset - frame.tar_offset)
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            info = tar.next()
            assert info is not None and info.name == entry.path
            handle = tar.extractfile(info)
            assert handle is not None and handle.read() == (tmp_path / entry.path).read_bytes()
        checked += 1
    assert checked == 300
    table.close()
    index.close()


def test_concatenated_zstd_frames_are_one_stream_to_the_zstd_command(tmp_path: Path) -> None:
    tree = generated_tree(tmp_path / "tree", files=60)
    source = FilesSource({"tree": tree}, compression=settings("zstd"))
    packed = b"".join(bytes(c) for c in source.chunks())
    assert len(source.frames) > 3 and packed.count(b"\x28\xb5\x2f\xfd") >= len(source.frames)
    (tmp_path / "backup.tar.zst").write_bytes(packed)
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["tar", "--zstd", "-xf", str(tmp_path / "backup.tar.zst"), "-C", str(out)], check=True)
    subprocess.run(["zstd", "-tq", str(tmp_path / "backup.tar.zst")], check=True)  # every frame's checksum
    for path in tree.rglob("*.dat"):
        assert (out / "tree" / path.relative_to(tree)).read_bytes() == path.read_bytes()
