"""Mutated labels, manifests and set tape files: each is taken, or refused with its own one-line error
(LabelError, ManifestError, TarSetError); never a TypeError, KeyError or RecursionError."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.engine.restore.scan import find_manifest
from console.engine.tapeformat.label import LabelError, TapeLabel, build_label_file, checked_label, parse_label_file
from console.engine.tapeformat.manifest_check import ManifestError, checked_manifest
from console.engine.tapeformat.tar_headers import TarSetError
from console.engine.tapeformat.tar_reader import TarSetReader
from console.engine.tapeformat.tar_writer import TarSetWriter

FAST = settings(max_examples=500, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(FAST, max_examples=10_000)
RECORD = 4096
LABEL = TapeLabel.new("VDI001", "DEM001L5", "vdi-daily", "LTO-5", datetime(2026, 1, 1, tzinfo=UTC))


def good_set() -> tuple[bytes, dict[str, Any]]:
    records: list[bytes] = []
    writer = TarSetWriter(lambda r: records.append(bytes(r)), RECORD)
    writer.add_member("vms/a.vhd", 5000, [b"a" * 5000])
    writer.add_member("vms/b.json", 10, [b"{}" * 5])
    manifest = writer.finish({"job": "nightly-vdi", "run": 3, "set": 4, "source": "xo", "pool": "vdi-daily",
                              "started": "2026-01-01T00:00:00+00:00", "state": "complete",
                              "parts": [{"name": "vms/a.vhd", "member": "vms/a.vhd", "part": 0}]})
    return b"".join(records), manifest


SET, MANIFEST = good_set()
HOSTILE = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                     max_size=3), max_leaves=8)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += paths(item, (*prefix, i))
    return out


@st.composite
def mutated_json(draw: st.DrawFn, good: dict[str, Any]) -> Any:
    value: Any = json.loads(json.dumps(good))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(value)))
        new = draw(HOSTILE | st.just("[" * 5000))
        if not where:
            value = new
            continue
        holder = value
        try:
            for key in where[:-1]:
                holder = holder[key]
            holder[where[-1]] = new
        except (KeyError, IndexError, TypeError):
            pass
    return value


@st.composite
def mutated_bytes(draw: st.DrawFn, good: bytes) -> bytes:
    data = bytearray(good)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        chunk = draw(st.binary(min_size=1, max_size=16))
        data[at:at + len(chunk)] = chunk
    return bytes(data[:draw(st.sampled_from([len(data), len(data), len(data) // 2, 1024]))])


def check_label(fields: Any) -> None:
    try:
        checked_label(fields)
    except LabelError as exc:
        assert "\n" not in str(exc)


def check_manifest(manifest: Any) -> None:
    try:
        checked_manifest(manifest, file_bytes=len(SET))
    except ManifestError as exc:
        assert "\n" not in str(exc)


def check_set(data: bytes) -> None:
    found = find_manifest(data)
    assert found is None or isinstance(found[0], dict)
    try:
        for member in TarSetReader(iter([data[i:i + RECORD] for i in range(0, len(data), RECORD)])):
            member.read()
    except TarSetError as exc:
        assert "\n" not in str(exc)
    try:
        parse_label_file(data)
    except LabelError:
        pass


@FAST
@given(fields=mutated_json(LABEL.to_json()))
def test_a_mutated_label_is_taken_or_refused_in_one_line(fields: Any) -> None:
    check_label(fields)


@FAST
@given(manifest=mutated_json(MANIFEST))
def test_a_mutated_manifest_is_taken_or_refused_in_one_line(manifest: Any) -> None:
    check_manifest(manifest)


@FAST
@given(data=mutated_bytes(SET) | mutated_bytes(build_label_file(LABEL, RECORD)))
def test_a_mutated_tape_file_is_read_or_refused_in_one_line(data: bytes) -> None:
    check_set(data)


@pytest.mark.slow
@SLOW
@given(fields=mutated_json(LABEL.to_json()), manifest=mutated_json(MANIFEST), data=mutated_bytes(SET))
def test_many_more_mutated_labels_manifests_and_sets(fields: Any, manifest: Any, data: bytes) -> None:
    check_label(fields)
    check_manifest(manifest)
    check_set(data)
