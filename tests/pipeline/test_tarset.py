"""TarSetWriter / TarSetReader: sets that GNU tar reads, fixed records, manifest, length errors."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.engine.tapeformat.manifest import MANIFEST_NAME
from console.engine.tapeformat.tar_headers import RECORD_SIZE, ChecksumError, MemberLengthError, TarSetError, tar_header
from console.engine.tapeformat.tar_reader import TarSetReader, read_set
from console.engine.tapeformat.tar_writer import TarSetWriter

from .helpers import FileSink, gnu_tar, records_of, sha256

LONG_NAME = "projects/" + "very long folder name/" * 6 + "final drawing v3.pdf"
MEMBERS: list[tuple[str, bytes, float]] = [
    ("a.txt", b"hello tape\n", 1_700_000_000),
    ("empty", b"", 1_700_000_001),
    ("one-block.bin", os.urandom(512), 1_700_000_002.5),
    ("xo/metadata.json", b'{"vm": "mail01"}', 1_700_000_003.123456),
    (LONG_NAME, os.urandom(70_000), 1_700_000_004),
    ("Übersicht Büro.txt", "grüße\n".encode(), 1_700_000_005),
    ("disk.vhd", os.urandom(3 * RECORD_SIZE + 777), 1_700_000_006),
]


def write_set(path: Path, members=MEMBERS, record_size: int = RECORD_SIZE, chunk: int = 50_000) -> dict:
    with open(path, "wb") as f:
        sink = FileSink(f, record_size)
        writer = TarSetWriter(sink, record_size)
        for name, data, mtime in members:
            writer.add_member(name, len(data), (data[i : i + chunk] for i in range(0, len(data), chunk)), mtime=mtime)
        manifest = writer.finish({"job": "job-1", "source": "test", "started": "2024-05-01T22:00:00Z"})
        assert sink.records == writer.records_written
    return manifest


def test_gnu_tar_lists_members_in_order_with_manifest_last(record_file: Path) -> None:
    write_set(record_file)
    names = gnu_tar("-b", "512", "-tf", record_file).splitlines()
    assert names == [m[0] for m in MEMBERS] + [MANIFEST_NAME]


def test_file_is_whole_records_and_every_sink_call_one_record(record_file: Path) -> None:
    write_set(record_file)  # FileSink asserts the size of every call
    assert record_file.stat().st_size % RECORD_SIZE == 0


def test_gnu_tar_extracts_byte_identical_with_exact_mtimes(record_file: Path, tmp_path: Path) -> None:
    write_set(record_file)
    out = tmp_path / "out"
    out.mkdir()
    gnu_tar("-b", "512", "-xf", record_file, "-C", out)
    for name, data, mtime in MEMBERS:
        assert (out / name).read_bytes() == data
        assert (out / name).stat().st_mtime_ns == round(mtime * 1e9)


def test_manifest_sha256_sizes_and_offsets_are_right(record_file: Path) -> None:
    manifest = write_set(record_file)
    raw = record_file.read_bytes()
    on_disk = json.loads(gnu_tar("-b", "512", "-xOf", record_file, MANIFEST_NAME))
    assert on_disk == manifest
    assert manifest["format_version"] == 1 and manifest["record_size"] == RECORD_SIZE
    assert manifest["job"] == "job-1" and manifest["source"] == "test"
    # GNU tar -R prints the block of each member's ustar header; data follows it.
    blocks = {}
    for line in gnu_tar("-b", "512", "-R", "-tvf", record_file).splitlines():
        match = re.match(r"block (\d+): \S+ \S+ +\d+ \S+ \S+ (.*)$", line)
        if match:
            blocks[match[2]] = int(match[1])
    for entry, (name, data, _) in zip(manifest["members"], MEMBERS, strict=True):
        assert entry["name"] == name and entry["size"] == len(data)
        assert entry["sha256"] == sha256(data)
        assert raw[entry["data_offset"] : entry["data_offset"] + len(data)] == data
        assert entry["data_offset"] == (blocks[name] + 1) * 512
        assert entry["header_offset"] <= blocks[name] * 512


def test_reader_round_trip_and_checks(record_file: Path) -> None:
    manifest = write_set(record_file)
    reader = TarSetReader(records_of(record_file))
    got = {m.name: (m.read(), m.mtime) for m in reader}
    for name, data, mtime in MEMBERS:
        assert got[name] == (data, pytest.approx(mtime))
    assert reader.manifest == manifest
    assert reader.digests == {m["name"]: m["sha256"] for m in manifest["members"]}


def test_reader_seeks_to_a_member_record(record_file: Path) -> None:
    manifest = write_set(record_file)
    entry = next(m for m in manifest["members"] if m["name"] == LONG_NAME)
    record = entry["header_offset"] // RECORD_SIZE
    reader = TarSetReader(
        records_of(record_file, first=record),
        start_offset=record * RECORD_SIZE,
        first_header=entry["header_offset"],
        manifest=manifest,
    )
    member = next(iter(reader))
    assert member.name == LONG_NAME and member.data_offset == entry["data_offset"]
    assert member.read() == dict((n, d) for n, d, _ in MEMBERS)[LONG_NAME]


def test_reader_detects_corruption(record_file: Path) -> None:
    manifest = write_set(record_file)
    entry = next(m for m in manifest["members"] if m["name"] == "disk.vhd")
    raw = bytearray(record_file.read_bytes())
    raw[entry["data_offset"] + 1000] ^= 0xFF
    record_file.write_bytes(raw)
    with pytest.raises(ChecksumError, match="disk.vhd"):
        for _ in read_set(record_file):
            pass
    with pytest.raises(ChecksumError, match="disk.vhd"):  # checked at the member with a known manifest
        for member in TarSetReader(records_of(record_file), manifest=manifest):
            assert member.name != MANIFEST_NAME
            member.read()


def test_writer_does_not_keep_caller_buffers(tmp_path: Path) -> None:
    """Data left in a partial record must be copied: the caller may reuse its buffer at once."""
    data = os.urandom(5 * RECORD_SIZE + 12345)
    out = io.BytesIO()
    writer = TarSetWriter(FileSink(out))
    writer.begin_member("reused", len(data), mtime=0)
    scratch = bytearray(100_003)
    for i in range(0, len(data), len(scratch)):
        piece = data[i : i + len(scratch)]
        scratch[: len(piece)] = piece
        writer.write(memoryview(scratch)[: len(piece)])
        scratch[:] = b"\xaa" * len(scratch)
    writer.end_member()
    writer.finish({})
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        assert tar.extractfile("reused").read() == data  # type: ignore[union-attr]


def test_short_stream_raises_and_abort_keeps_the_set_valid(record_file: Path, tmp_path: Path) -> None:
    with open(record_file, "wb") as f:
        writer = TarSetWriter(FileSink(f))
        with pytest.raises(MemberLengthError) as err:
            writer.add_member("short.vhd", 100_000, [b"x" * 60_000])
        assert str(err.value) == "member 'short.vhd': expected 100000 bytes, got 60000"
        assert (err.value.expected, err.value.got) == (100_000, 60_000)
        with pytest.raises(TarSetError, match="abort_member"):
            writer.write(b"more")
        record = writer.abort_member("source stopped early")
        writer.add_member("after", 3, [b"abc"])
        manifest = writer.finish({})
    assert record.error == "source stopped early"
    assert manifest["members"][0]["error"] == "source stopped early"
    out = tmp_path / "out"
    out.mkdir()
    gnu_tar("-b", "512", "-xf", record_file, "-C", out)
    assert (out / "short.vhd").read_bytes() == b"x" * 60_000 + bytes(40_000)
    assert (out / "after").read_bytes() == b"abc"


def test_long_stream_raises(record_file: Path) -> None:
    with open(record_file, "wb") as f:
        writer = TarSetWriter(FileSink(f))
        with pytest.raises(MemberLengthError, match="expected 10 bytes, got at least 12") as err:
            writer.add_member("long", 10, [b"12345678", b"abcd", b"never read"])
        assert "\n" not in str(err.value)
        writer.abort_member("longer than declared")
        writer.finish({})
    assert gnu_tar("-b", "512", "-xOf", record_file, "long") == "12345678ab"


def test_sink_failure_breaks_the_writer() -> None:
    def sink(record: memoryview) -> None:
        raise OSError(28, "No space left on device")

    writer = TarSetWriter(sink)
    with pytest.raises(OSError):
        writer.add_member("big", RECORD_SIZE, [bytes(RECORD_SIZE)])
    with pytest.raises(TarSetError, match="failed earlier"):
        writer.finish({})


def test_manifest_fields_cannot_override_format() -> None:
    writer = TarSetWriter(lambda record: None)
    with pytest.raises(ValueError, match="members"):
        writer.finish({"members": []})


def test_header_for_huge_member_uses_pax_size() -> None:
    header = tar_header("big.vhd", 9 << 30, mtime=1_700_000_000)
    with tarfile.open(fileobj=io.BytesIO(header + bytes(1024))) as tar:
        info = tar.next()
    assert info is not None and info.name == "big.vhd" and info.size == 9 << 30


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\"),
    min_size=1,
    max_size=120,
).filter(lambda n: n not in (".", "..", MANIFEST_NAME))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    record_size=st.sampled_from([512, 10240, 65536, RECORD_SIZE]),
    members=st.lists(
        st.tuples(names, st.integers(0, 300_000), st.integers(1, 70_000)),
        min_size=1,
        max_size=6,
        unique_by=lambda m: m[0],
    ),
)
def test_any_members_round_trip(record_size: int, members: list[tuple[str, int, int]]) -> None:
    out = io.BytesIO()
    sink = FileSink(out, record_size)
    writer = TarSetWriter(sink, record_size)
    expected = {}
    for i, (name, size, chunk) in enumerate(members):
        data = bytes([i % 251]) * size
        expected[name] = data
        writer.add_member(name, size, (data[j : j + chunk] for j in range(0, size, chunk)), mtime=1_600_000_000 + i)
    manifest = writer.finish({"job": "h"})
    raw = out.getvalue()
    assert len(raw) % record_size == 0 and sink.records * record_size == len(raw)
    reader = TarSetReader(records_of_bytes(raw, record_size))
    assert {m.name: m.read() for m in reader if m.name != MANIFEST_NAME} == expected
    assert reader.manifest == manifest
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:  # an independent reader agrees
        assert [t.name for t in tar] == [m[0] for m in members] + [MANIFEST_NAME]


def records_of_bytes(raw: bytes, record_size: int):
    return (raw[i : i + record_size] for i in range(0, len(raw), record_size))
