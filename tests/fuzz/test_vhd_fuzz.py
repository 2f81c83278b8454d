"""Mutated VHD heads (checksums made right again, so the fields themselves are tried): the stream measure
and the file reader answer with the VHD or one VhdError line, never another exception."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.demo.xo_simulator.vhdgen import VhdImage
from console.engine.tapeformat.vhd import VhdError, VhdReader, measure_vhd_stream, vhd_checksum
from tests.xo.test_vhd import U1, small_layer

GOOD = b"".join(VhdImage(small_layer(allocated=0.5), U1).chunks())
FAST = settings(max_examples=500, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SLOW = settings(FAST, max_examples=10_000)
FIELDS = [  # (offset, struct format) of the fields a reader trusts: footer copy, header, first BAT entries
    (8, ">I"), (12, ">I"), (16, ">Q"), (40, ">Q"), (48, ">Q"), (60, ">I"),
    (512 + 8, ">Q"), (512 + 16, ">Q"), (512 + 24, ">I"), (512 + 28, ">I"), (512 + 32, ">I"),
    (1536, ">I"), (1540, ">I"), (1544, ">I"),
]
EDGES = [0, 1, 511, 512, 2**31 - 1, 2**31, 2**32 - 1, 2**63 - 1, 2**63, 2**64 - 1]


def fix_checksums(data: bytearray) -> bytearray:
    struct.pack_into(">I", data, 64, 0)
    struct.pack_into(">I", data, 64, vhd_checksum(data[:512], 64))
    data[-512:] = data[:512]
    header = data[512:1536]
    struct.pack_into(">I", header, 36, 0)
    struct.pack_into(">I", header, 36, vhd_checksum(header, 36))
    data[512:1536] = header
    return data


@st.composite
def mutated_vhd(draw: st.DrawFn) -> bytes:
    data = bytearray(GOOD)
    for _ in range(draw(st.integers(1, 3))):
        offset, fmt = draw(st.sampled_from(FIELDS))
        size = struct.calcsize(fmt)
        value = draw(st.sampled_from(EDGES) | st.integers(0, 2 ** (8 * size) - 1)) % 2 ** (8 * size)
        struct.pack_into(fmt, data, offset, value)
    if draw(st.booleans()):
        at = draw(st.integers(0, 2047))
        data[at:at + 4] = draw(st.binary(min_size=4, max_size=4))
    if draw(st.integers(0, 9)):
        fix_checksums(data)
    cut = draw(st.sampled_from([len(data), len(data), 1000, 1600, len(data) // 2]))
    return bytes(data[:cut])


def check_one(folder: Path, data: bytes) -> None:
    try:
        measure_vhd_stream(iter([data[:700], data[700:]]))
    except VhdError as exc:
        assert "\n" not in str(exc)
    path = folder / "disk.vhd"
    path.write_bytes(data)
    try:
        reader = VhdReader(path)
        if reader.header is not None and reader.header.max_table_entries:
            reader.read_block(0)
    except VhdError as exc:
        assert "\n" not in str(exc)


@FAST
@given(data=mutated_vhd())
def test_a_mutated_vhd_is_read_or_refused_in_one_line(tmp_path: Path, data: bytes) -> None:
    check_one(tmp_path, data)


@pytest.mark.slow
@SLOW
@given(data=mutated_vhd())
def test_many_more_mutated_vhds(tmp_path: Path, data: bytes) -> None:
    check_one(tmp_path, data)
