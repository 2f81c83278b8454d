"""console.demo.xo_simulator.vhdgen, brotli_store and filters: the simulator's building blocks."""

from __future__ import annotations

import os
import uuid
import zlib

import pytest

from console.demo.xo_simulator.brotli_store import brotli_store
from console.demo.xo_simulator.filters import FilterError, compile_filter
from console.demo.xo_simulator.vhdgen import Disk, Layer, VhdImage, raw_chunks

MiB = 1024 * 1024


def test_layers_are_deterministic_from_their_seed() -> None:
    a, b, c = (Layer(seed=s, virtual_size=8 * MiB, allocated=0.5) for s in (1, 1, 2))
    assert a.block_ids() == b.block_ids()
    assert b"".join(raw_chunks(a)) == b"".join(raw_chunks(b)) != b"".join(raw_chunks(c))


def test_allocation_fraction_and_content_kinds() -> None:
    layer = Layer(seed=3, virtual_size=400 * 64 * 1024, allocated=0.25, compressible=0.5, block_size=64 * 1024)
    assert 60 < len(layer.block_ids()) < 140  # 25 % of 400
    ratios = [len(zlib.compress(layer.block(i)[1], 1)) / (64 * 1024) for i in layer.block_ids()]
    compressible = sum(r < 0.2 for r in ratios)
    random_like = sum(r > 0.95 for r in ratios)
    assert compressible + random_like == len(ratios)
    assert compressible > 10 and random_like > 10


def test_partial_blocks_are_zero_outside_their_bitmap() -> None:
    layer = Layer(seed=4, virtual_size=2 * MiB, allocated=1.0, partial=1.0, block_size=MiB)
    for index in layer.block_ids():
        bitmap, data = layer.block(index)
        for sector in range(MiB // 512):
            if not bitmap[sector >> 3] & (0x80 >> (sector & 7)):
                assert data[sector * 512 : (sector + 1) * 512] == bytes(512)


def test_disk_reads_through_its_layers() -> None:
    base = Layer(seed=1, virtual_size=4 * 64 * 1024, allocated=1.0, compressible=0.0, block_size=64 * 1024)
    top = Layer(seed=2, virtual_size=4 * 64 * 1024, allocated=1.0, compressible=0.0, partial=1.0,
                block_size=64 * 1024)
    merged = b"".join(raw_chunks(Disk((base, top))))
    below, above = b"".join(raw_chunks(base)), b"".join(raw_chunks(top))
    for sector in range(len(merged) // 512):
        block, inner = divmod(sector, 128)
        covered = top.block(block)[0][inner >> 3] & (0x80 >> (inner & 7))
        expected = above if covered else below
        assert merged[sector * 512 : (sector + 1) * 512] == expected[sector * 512 : (sector + 1) * 512]


def test_vhd_image_length_matches_its_bytes() -> None:
    image = VhdImage(Layer(seed=5, virtual_size=5 * MiB + 512, allocated=0.7), uuid.UUID(int=9))
    assert image.length == sum(len(c) for c in image.chunks())


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, MiB, MiB + 1, 3 * MiB + 7])
def test_brotli_store_decodes_with_real_brotli(size: int) -> None:
    brotli = pytest.importorskip("brotli")
    data = os.urandom(size)
    assert brotli.decompress(brotli_store(data)) == data


def test_filters() -> None:
    objects = [
        {"name_label": "mail01", "power_state": "Running", "size": 10, "tags": ["prod"], "shared": True},
        {"name_label": "erp01", "power_state": "Halted", "size": 30, "tags": [], "shared": False},
    ]

    def names(text: str) -> list[str]:
        predicate = compile_filter(text)
        return [o["name_label"] for o in objects if predicate(o)]

    assert names("") == ["mail01", "erp01"]
    assert names("power_state:running") == ["mail01"]
    assert names("!power_state:running") == ["erp01"]
    assert names("size:>20") == ["erp01"]
    assert names("size:<=10 shared:true") == ["mail01"]
    assert names("size:30") == ["erp01"]
    assert names("tags:prod") == ["mail01"]
    assert names("tags:length:0") == ["erp01"]
    assert names("ERP") == ["erp01"]
    assert names('name_label:"mail"') == ["mail01"]
    with pytest.raises(FilterError):
        compile_filter(":nokey")
