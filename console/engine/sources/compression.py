"""The compression stage of a files job: the inner tar as independent frames of zstd, gzip or nothing.

The inner tar is cut into frames of `frame_bytes` (64 MiB by default) and each frame is compressed on
its own into a complete zstd frame or gzip member. Concatenated, they are one ordinary `.tar.zst` or
`.tar.gz` stream (`tar --zstd -xf`, `zstd -d | tar -x`, `tar -xzf` read it whole), and a restore of one
file can start decompressing at the frame holding it. Every frame's start is recorded as a `Frame`:
where it begins in the compressed member and in the inner tar.

- zstd (the default): the `zstandard` library, `threads` frames compressed at once on a thread pool,
  level 1..19, a content checksum in every frame.
- gzip: `pigz -p threads` when installed (one pigz per frame), else zlib on a thread pool, each 1 MiB
  of tar its own gzip member (a chunk whose samples do not shrink is stored rather than compressed).
- none: the inner tar as it is, for drives doing hardware compression.

The compressed stream runs up to `readahead_bytes` ahead of its consumer in a thread, so the tree is
walked and compressed while the consumer hashes and writes to the tape buffer.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import threading
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import zstandard

from console.config.schema import COMPRESSION_LEVELS, DEFAULT_LEVELS
from console.engine.tapeformat.tar_headers import Buffer

Codec = Literal["zstd", "gzip", "none"]
CODECS: tuple[Codec, ...] = ("zstd", "gzip", "none")
MEMBER_NAMES: dict[str, str] = {"zstd": "backup.tar.zst", "gzip": "backup.tar.gz", "none": "backup.tar"}
LEVELS = COMPRESSION_LEVELS
FRAME_BYTES = 64 << 20  # inner tar bytes per independent frame

SAMPLES, SAMPLE_SIZE, STORE_RATIO = 4, 8192, 0.98
_F_SETPIPE_SZ = 1031


class CompressionError(Exception):
    """The compression stage cannot run (pigz missing or failed); str() is one line."""


@dataclass(frozen=True, slots=True)
class Compression:
    codec: Codec = "zstd"
    level: int = DEFAULT_LEVELS["zstd"]
    threads: int = 2
    frame_bytes: int = FRAME_BYTES
    gzip_tool: Literal["auto", "pigz", "threads"] = "auto"

    def __post_init__(self) -> None:
        if self.codec not in CODECS:
            raise CompressionError(f"compression {self.codec!r} is not one of {', '.join(CODECS)}")
        low, high = LEVELS[self.codec]
        if not low <= self.level <= high:
            raise CompressionError(f"compression level {self.level} is not {low}..{high} for {self.codec}")
        if self.threads < 1:
            raise CompressionError(f"compression threads {self.threads} is not at least 1")
        if self.frame_bytes < 512 or self.frame_bytes % 512:
            raise CompressionError(f"frame size {self.frame_bytes} is not a multiple of 512")

    @property
    def member_name(self) -> str:
        return MEMBER_NAMES[self.codec]


@dataclass(frozen=True, slots=True)
class Frame:
    number: int
    packed_offset: int  # where the frame begins in the compressed member
    tar_offset: int  # where its data begins in the inner tar


def pigz_path() -> str | None:
    return shutil.which("pigz")


def frames_of(chunks: Iterable[Buffer], frame_bytes: int) -> Iterator[list[Buffer]]:
    """The chunks grouped into frames of `frame_bytes` (every chunk but the last is `frame_bytes` or
    divides it exactly)."""
    frame: list[Buffer] = []
    size = 0
    for chunk in chunks:
        n = memoryview(chunk).nbytes
        if size + n > frame_bytes:
            raise ValueError("the chunk size must divide the frame size")
        frame.append(chunk)
        size += n
        if size == frame_bytes:
            yield frame
            frame, size = [], 0
    if frame:
        yield frame


class FramedOutput:
    """Counts what a compressor hands out and records where each frame starts."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.packed = 0
        self.tar = 0

    def start(self) -> None:
        self.frames.append(Frame(len(self.frames), self.packed, self.tar))

    def out(self, data: Buffer) -> Buffer:
        self.packed += memoryview(data).nbytes
        return data


# ---------------------------------------------------------------------------------------- codecs


def zstd_stream(frames: Iterable[list[Buffer]], level: int, threads: int, out: FramedOutput) -> Iterator[Buffer]:
    """Each frame one complete zstd frame (with a content checksum). Frames are compressed on `threads`
    pool threads at once (libzstd releases the GIL), each frame by one thread: libzstd's own workers
    would drain at every frame's end, and measured slower (bench/files_compression.py)."""
    local = threading.local()

    def compress(frame: list[Buffer]) -> tuple[int, list[bytes]]:
        compressor = getattr(local, "compressor", None)
        if compressor is None:
            compressor = local.compressor = zstandard.ZstdCompressor(level=level, write_checksum=True)
        stream = compressor.compressobj()
        pieces = [stream.compress(chunk) for chunk in frame]
        pieces.append(stream.flush())
        return sum(memoryview(c).nbytes for c in frame), [p for p in pieces if p]

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="zstd") as pool:
        pending: deque[Future[tuple[int, list[bytes]]]] = deque()
        try:
            for frame in frames:
                pending.append(pool.submit(compress, frame))
                while len(pending) > threads:
                    yield from _zstd_done(pending.popleft(), out)
            while pending:
                yield from _zstd_done(pending.popleft(), out)
        finally:
            for future in pending:
                future.cancel()


def _zstd_done(future: Future[tuple[int, list[bytes]]], out: FramedOutput) -> Iterator[Buffer]:
    size, pieces = future.result()
    out.start()
    out.tar += size
    for piece in pieces:
        yield out.out(piece)


def plain_stream(frames: Iterable[list[Buffer]], out: FramedOutput) -> Iterator[Buffer]:
    for frame in frames:
        out.start()
        for chunk in frame:
            out.tar += memoryview(chunk).nbytes
            yield out.out(chunk)


def _incompressible(view: memoryview) -> bool:
    """True when samples spread over the chunk all fail to shrink at level 1 (photos, archives...)."""
    if len(view) < SAMPLES * SAMPLE_SIZE:
        return False
    step = (len(view) - SAMPLE_SIZE) // (SAMPLES - 1)
    for i in range(SAMPLES):
        sample = view[i * step : i * step + SAMPLE_SIZE]
        if len(zlib.compress(sample, 1)) < STORE_RATIO * SAMPLE_SIZE:
            return False
    return True


def _gzip_member(data: Buffer, level: int) -> bytes:
    view = memoryview(data)
    if level and _incompressible(view):
        level = 0  # stored deflate blocks: still gzip, at memory speed
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(view) + compressor.flush()


def thread_gzip(frames: Iterable[list[Buffer]], level: int, threads: int, out: FramedOutput) -> Iterator[Buffer]:
    """Each chunk compressed on a pool thread into a complete gzip member, in order; a frame is a run
    of members, so it starts on a member boundary."""
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="gzip") as pool:
        pending: deque[tuple[bool, int, Future[bytes]]] = deque()
        try:
            for frame in frames:
                for i, chunk in enumerate(frame):
                    pending.append((i == 0, memoryview(chunk).nbytes, pool.submit(_gzip_member, chunk, level)))
                    while len(pending) >= 2 * threads:
                        yield from _gzip_done(pending.popleft(), out)
            while pending:
                yield from _gzip_done(pending.popleft(), out)
        finally:
            for _first, _size, future in pending:
                future.cancel()


def _gzip_done(item: tuple[bool, int, Future[bytes]], out: FramedOutput) -> Iterator[Buffer]:
    first, size, future = item
    data = future.result()
    if first:
        out.start()
    out.tar += size
    yield out.out(data)


def _grow_pipe(fd: int) -> None:
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, _F_SETPIPE_SZ, 1 << 20)


def pigz_gzip(
    chunks: Iterable[Buffer], level: int, threads: int, *, pigz: str = "pigz", out_chunk: int = 1 << 20
) -> Iterator[bytearray | memoryview]:
    """Compress through `pigz -p threads` into one gzip member: a thread feeds the chunks (and so runs
    their producer), the caller's thread reads the compressed stream in pieces of `out_chunk` bytes."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            [pigz, f"-{level}", "-p", str(threads), "-c"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            bufsize=0,
        )
        stdin, stdout = proc.stdin, proc.stdout
        assert stdin is not None and stdout is not None
        _grow_pipe(stdin.fileno())
        _grow_pipe(stdout.fileno())
        stop = threading.Event()
        failure: list[BaseException] = []

        def feed() -> None:
            source = iter(chunks)
            fd = stdin.fileno()
            try:
                for chunk in source:
                    view = memoryview(chunk).cast("B")
                    while len(view):
                        view = view[os.write(fd, view) :]
                    if stop.is_set():
                        break
            except BrokenPipeError as exc:
                if not stop.is_set():
                    failure.append(exc)
            except BaseException as exc:  # handed to the reading thread
                failure.append(exc)
            finally:
                close = getattr(source, "close", None)
                if close is not None:
                    close()
                stdin.close()

        feeder = threading.Thread(target=feed, name="pigz-feed", daemon=True)
        feeder.start()
        done = False
        try:
            fd = stdout.fileno()
            while True:
                buf = bytearray(out_chunk)
                view = memoryview(buf)
                pos = 0
                while pos < out_chunk:
                    got = os.readv(fd, [view[pos:]])
                    if got == 0:
                        break
                    pos += got
                if pos == out_chunk:
                    yield buf
                    continue
                if pos:
                    yield view[:pos]
                break
            feeder.join()
            code = proc.wait()
            if failure:
                raise failure[0]
            if code != 0:
                errors.seek(0)
                text = errors.read().decode(errors="replace").strip().replace("\n", "; ")
                raise CompressionError(f"pigz exited with {code}: {text or 'no message'}")
            done = True
        finally:
            if not done:
                stop.set()
                if proc.poll() is None:
                    proc.kill()
                feeder.join()
                proc.wait()
            stdout.close()


def pigz_frames(frames: Iterable[list[Buffer]], level: int, threads: int, pigz: str, out: FramedOutput
                ) -> Iterator[Buffer]:
    """One pigz run per frame: each frame a gzip member of its own."""
    for frame in frames:
        out.start()
        out.tar += sum(memoryview(c).nbytes for c in frame)
        for data in pigz_gzip(frame, level, threads, pigz=pigz):
            yield out.out(data)


def compressed_stream(chunks: Iterable[Buffer], settings: Compression, out: FramedOutput) -> Iterator[Buffer]:
    """The member's bytes: the inner tar's chunks as independent frames of `settings.codec`."""
    frames = frames_of(chunks, settings.frame_bytes)
    if settings.codec == "zstd":
        return zstd_stream(frames, settings.level, settings.threads, out)
    if settings.codec == "none":
        return plain_stream(frames, out)
    pigz = pigz_path() if settings.gzip_tool in ("auto", "pigz") else None
    if settings.gzip_tool == "pigz" and pigz is None:
        raise CompressionError("pigz is not installed")
    if pigz is not None:
        return pigz_frames(frames, settings.level, settings.threads, pigz, out)
    return thread_gzip(frames, settings.level, settings.threads, out)


def tool_name(settings: Compression) -> str:
    """What compresses, in the manifest's words."""
    if settings.codec == "zstd":
        return f"zstandard {zstandard.__version__} (libzstd {zstandard.ZSTD_VERSION[0]}.{zstandard.ZSTD_VERSION[1]})"
    if settings.codec == "none":
        return "none"
    if settings.gzip_tool in ("auto", "pigz") and pigz_path():
        return "pigz"
    return "zlib-threads"
