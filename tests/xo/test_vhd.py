"""console.engine.tapeformat.vhd: parsing, stream length before the data, remote-side reading."""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.demo.xo_simulator.vhdgen import Disk, Layer, VhdImage, fixed_vhd_chunks, raw_chunks
from console.engine.tapeformat.vhd import (
    BLOCK_UNUSED,
    FOOTER_SIZE,
    VhdError,
    VhdFooter,
    VhdHeader,
    bitmap_size,
    geometry_for_size,
    iter_chain_raw,
    measure_vhd_stream,
    read_vhd_info,
    vhd_chain,
)

MiB = 1024 * 1024
U1, U2, U3 = (uuid.UUID(int=n) for n in (0x1111, 0x2222, 0x3333))


def split(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    """`data` cut at the given offsets (sorted, deduplicated)."""
    last = 0
    for cut in sorted({c for c in cuts if 0 < c < len(data)}):
        yield data[last:cut]
        last = cut
    yield data[last:]


def small_layer(seed: int = 1, size: int = 6 * MiB + 3 * 512, **kw: float) -> Layer:
    return Layer(seed=seed, virtual_size=size, block_size=kw.pop("block_size", 2 * MiB), **kw)  # type: ignore[arg-type]


# --- structures ----------------------------------------------------------------------------------


def test_footer_and_header_round_trip() -> None:
    footer = VhdFooter(disk_type=4, current_size=10 * MiB, uuid=U1, timestamp=12345)
    parsed = VhdFooter.parse(footer.pack())
    assert (parsed.disk_type, parsed.current_size, parsed.uuid, parsed.timestamp) == (4, 10 * MiB, U1, 12345)
    assert parsed.geometry == geometry_for_size(10 * MiB)
    header = VhdHeader(table_offset=1536, max_table_entries=5, parent_uuid=U2, parent_unicode_name="été/20260101.vhd")
    back = VhdHeader.parse(header.pack(), parsed)
    assert (back.parent_uuid, back.parent_unicode_name, back.max_table_entries) == (U2, "été/20260101.vhd", 5)


def test_geometry_follows_the_spec_table() -> None:
    # 127 MiB = 260096 sectors; 17 per track -> 15299.8 cylinders x heads; heads = 15; 1020 cylinders cover it
    assert geometry_for_size(127 * MiB) == (1020, 15, 17)
    assert geometry_for_size(2 * 1024 * 1024 * MiB)[1:] == (16, 255)


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img (Debian qemu-utils) not installed")
@pytest.mark.parametrize("mib", [3, 127, 1000, 40_000])
def test_geometry_matches_qemu(tmp_path: Path, mib: int) -> None:
    path = tmp_path / "q.vhd"
    subprocess.run(["qemu-img", "create", "-q", "-f", "vpc", str(path), f"{mib}M"], check=True)
    footer = VhdFooter.parse(path.read_bytes()[:512])  # qemu rounds the size down to whole cylinders
    assert footer.geometry == geometry_for_size(mib * MiB)


def test_parent_name_is_utf16be_with_surrogates() -> None:
    name = "../\U0001f4be backups/20260101T000000Z.vhd"
    raw = VhdHeader(table_offset=1536, max_table_entries=1, parent_unicode_name=name).pack()
    assert raw[64 : 64 + len(name.encode("utf-16-be"))] == name.encode("utf-16-be")
    assert VhdHeader.parse(raw).parent_unicode_name == name


# --- measuring streams ---------------------------------------------------------------------------


def test_dynamic_stream_length_and_chunks_unchanged() -> None:
    image = VhdImage(small_layer(partial=0.5), U1)
    data = b"".join(image.chunks())
    chunks = list(split(data, [3, 700, 1600, 5000]))
    length, out, info = measure_vhd_stream(iter(chunks))
    assert length == len(data) == image.length
    assert list(out) == chunks
    assert (info.disk_type, info.virtual_size, info.uuid) == ("dynamic", 6 * MiB + 1536, str(U1))
    assert info.block_size == 2 * MiB


def test_length_rule_is_vhd_libs() -> None:
    """footer offset = last block's sector * 512 + bitmap + block size (createVhdStreamWithLength)."""
    image = VhdImage(small_layer(allocated=0.7), U1)
    data = b"".join(image.chunks())
    header = VhdHeader.parse(data[512:1536])
    bat = struct.unpack_from(f">{header.max_table_entries}I", data, header.table_offset)
    last = max(s for s in bat if s != BLOCK_UNUSED)
    assert measure_vhd_stream(iter([data])).length == last * 512 + bitmap_size(2 * MiB) + 2 * MiB + FOOTER_SIZE


def test_stream_without_blocks_ends_after_bat() -> None:
    image = VhdImage(small_layer(allocated=0.0), U1)
    data = b"".join(image.chunks())
    assert measure_vhd_stream(iter([data])).length == len(data) == 512 + 1024 + 512 + 512


def test_differencing_stream_gives_parent() -> None:
    image = VhdImage(small_layer(seed=2, allocated=0.3), U2, disk_type="differencing", parent_uuid=U1,
                     parent_name="20260301T220000Z.vhd")
    data = b"".join(image.chunks())
    length, _, info = measure_vhd_stream(iter([data]))
    assert length == len(data)
    assert (info.disk_type, info.parent_uuid, info.parent_name) == ("differencing", str(U1), "20260301T220000Z.vhd")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sectors=st.integers(min_value=1, max_value=600),
    block_shift=st.integers(min_value=0, max_value=6),  # 512 B .. 32 KiB blocks
    allocated=st.floats(min_value=0.0, max_value=1.0),
    partial=st.floats(min_value=0.0, max_value=1.0),
    differencing=st.booleans(),
    parent_name=st.text(min_size=1, max_size=60).filter(lambda s: "\0" not in s),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    cuts=st.lists(st.integers(min_value=1, max_value=4000), max_size=6),
)
def test_measured_length_equals_bytes_received(sectors: int, block_shift: int, allocated: float, partial: float,
                                               differencing: bool, parent_name: str, seed: int,
                                               cuts: list[int]) -> None:
    layer = Layer(seed=seed, virtual_size=sectors * 512, allocated=allocated, partial=partial,
                  block_size=512 << block_shift)
    image = VhdImage(layer, U3, disk_type="differencing" if differencing else "dynamic",
                     parent_uuid=U1 if differencing else None, parent_name=parent_name if differencing else "")
    data = b"".join(image.chunks())
    length, chunks, info = measure_vhd_stream(split(data, cuts))
    assert length == len(data)
    assert b"".join(chunks) == data
    assert info.virtual_size == sectors * 512
    assert info.parent_name == (parent_name if differencing else None)


@settings(max_examples=30, deadline=None)
@given(sectors=st.integers(min_value=1, max_value=3000), cuts=st.lists(st.integers(min_value=1, max_value=2**21)))
def test_fixed_vhd_length_is_size_plus_footer(sectors: int, cuts: list[int]) -> None:
    layer = Layer(seed=sectors, virtual_size=sectors * 512, allocated=0.5, block_size=64 * 1024)
    data = b"".join(fixed_vhd_chunks(layer, U1))
    length, chunks, info = measure_vhd_stream(split(data, cuts), fixed_size=sectors * 512)
    assert length == len(data) == sectors * 512 + 512
    assert b"".join(chunks) == data
    assert info.disk_type == "fixed"


# --- bad input -----------------------------------------------------------------------------------


def _dynamic_bytes() -> bytes:
    return b"".join(VhdImage(small_layer(allocated=0.5), U1).chunks())


def _corrupt(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value) :]


def _with_header_checksum(data: bytes) -> bytes:
    header = bytearray(data[512:1536])
    struct.pack_into(">I", header, 36, 0)
    struct.pack_into(">I", header, 36, ~(sum(header)) & 0xFFFFFFFF)
    return data[:512] + bytes(header) + data[1536:]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: _corrupt(d, 0, b"connectx"), "bad VHD footer copy cookie"),
        (lambda d: _corrupt(d, 100, b"\x01"), "bad VHD footer copy checksum"),
        (lambda d: _corrupt(d, 512, b"cxsparsX"), "bad VHD header cookie"),
        (lambda d: _corrupt(d, 512 + 600, b"\x07"), "bad VHD header checksum"),
        (lambda d: d[:300], "truncated VHD stream: ended at byte 300 in the footer"),
        (lambda d: d[:1000], "truncated VHD stream: ended at byte 1000 in the header"),
        (lambda d: d[:1540], "truncated VHD stream: ended at byte 1540 in the BAT"),
        (lambda d: _with_header_checksum(_corrupt(d, 512 + 16, struct.pack(">Q", 1024))), "overlaps the header"),
        (lambda d: _with_header_checksum(_corrupt(d, 512 + 32, struct.pack(">I", 3000))), "bad VHD block size"),
        (lambda d: _corrupt(d, 1536, struct.pack(">I", 1)), "points at sector 1, inside the head"),
    ],
)
def test_bad_heads_give_one_line_errors(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = mutate(_dynamic_bytes())
    with pytest.raises(VhdError) as info:
        measure_vhd_stream(split(data, [200, 900]))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_raw_data_without_fixed_size_is_a_bad_cookie() -> None:
    with pytest.raises(VhdError, match="bad VHD footer copy cookie"):
        measure_vhd_stream(raw_chunks(small_layer()))


def test_fixed_footer_at_stream_start_is_refused() -> None:
    footer = VhdFooter(disk_type=2, current_size=MiB, uuid=U1, data_offset=0xFFFFFFFFFFFFFFFF).pack()
    with pytest.raises(VhdError, match="fixed VHD footer at the start"):
        measure_vhd_stream(iter([footer + bytes(MiB)]))


# --- files on a remote and an independent check ----------------------------------------------------


def test_read_info_of_files_and_chain(tmp_path: Path) -> None:
    base, delta = small_layer(seed=1, allocated=0.6), small_layer(seed=2, allocated=0.4, partial=0.7)
    VhdImage(base, U1).write(tmp_path / "a.vhd")
    sub = tmp_path / "sub"
    sub.mkdir()
    VhdImage(delta, U2, disk_type="differencing", parent_uuid=U1, parent_name="../a.vhd").write(sub / "b.vhd")
    (tmp_path / "c.vhd").write_bytes(b"".join(fixed_vhd_chunks(base, U3)))
    info = read_vhd_info(sub / "b.vhd")
    assert (info.disk_type, info.parent_name, info.parent_uuid, info.uuid) == (
        "differencing", "../a.vhd", str(U1), str(U2))
    assert read_vhd_info(tmp_path / "c.vhd").disk_type == "fixed"
    assert [i.uuid for i in vhd_chain(sub / "b.vhd")] == [str(U2), str(U1)]
    merged = hashlib.sha256(b"".join(iter_chain_raw(sub / "b.vhd"))).hexdigest()
    assert merged == hashlib.sha256(b"".join(raw_chunks(Disk((base, delta))))).hexdigest()
    assert b"".join(iter_chain_raw(tmp_path / "c.vhd")) == b"".join(raw_chunks(base))


def test_chain_with_wrong_parent_uuid_is_refused(tmp_path: Path) -> None:
    VhdImage(small_layer(), U1).write(tmp_path / "a.vhd")
    VhdImage(small_layer(seed=2), U2, disk_type="differencing", parent_uuid=U3, parent_name="a.vhd").write(
        tmp_path / "b.vhd")
    with pytest.raises(VhdError, match=f"has uuid {U1}, expected {U3}"):
        vhd_chain(tmp_path / "b.vhd")


def test_alias_to_an_alias_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.alias.vhd").write_text("b.alias.vhd")
    with pytest.raises(VhdError, match="aliases must name a VHD"):
        read_vhd_info(tmp_path / "a.alias.vhd")


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img (Debian qemu-utils) not installed")
def test_qemu_img_reads_generated_vhd_as_we_do(tmp_path: Path) -> None:
    """Independent check: qemu's vpc driver sees the same virtual size and the same raw content."""
    layer = small_layer(seed=9, size=9 * MiB + 512 * 5, allocated=0.6, partial=0.5)
    path = VhdImage(layer, U1).write(tmp_path / "d.vhd")
    info = subprocess.run(["qemu-img", "info", "--output=json", str(path)], capture_output=True, text=True,
                          check=True)
    assert '"format": "vpc"' in info.stdout
    assert f'"virtual-size": {layer.virtual_size}' in info.stdout
    subprocess.run(["qemu-img", "convert", "-f", "vpc", "-O", "raw", str(path), str(tmp_path / "d.raw")], check=True)
    assert (tmp_path / "d.raw").read_bytes() == b"".join(raw_chunks(layer))


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img (Debian qemu-utils) not installed")
def test_qemu_img_reads_the_blocks_of_a_differencing_vhd(tmp_path: Path) -> None:
    """qemu has no VHD backing files, but it reads a differencing VHD's own blocks: its layout is sound."""
    top = small_layer(seed=10, allocated=0.5, partial=0.6)
    path = VhdImage(top, U2, disk_type="differencing", parent_uuid=U1, parent_name="base.vhd").write(tmp_path / "d.vhd")
    subprocess.run(["qemu-img", "convert", "-f", "vpc", "-O", "raw", str(path), str(tmp_path / "d.raw")], check=True)
    assert (tmp_path / "d.raw").read_bytes() == b"".join(raw_chunks(top))
