"""A label read from tape is outside input: a field of the wrong kind is a LabelError, never a label."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from console.engine.tapeformat.label import LabelError, TapeLabel, build_label_file, checked_label, parse_label_file

GOOD = TapeLabel.new("VDI001", "DEM001L5", "vdi-daily", "LTO-5", datetime(2026, 1, 1, tzinfo=UTC)).to_json()


@pytest.mark.parametrize("change", [
    {"label": None}, {"label": "../x"}, {"pool": "../../etc/passwd"}, {"created": {}}, {"created": "yesterday"},
    {"uuid": 7}, {"uuid": "not-a-uuid"}, {"generation": "LTO-99"}, {"barcode": ["A"]}, {"format_version": "1"},
    {"format_version": True}, {"writer": 3}, {"extra": 1},
])
def test_a_label_field_of_the_wrong_kind_is_refused(change: dict) -> None:
    with pytest.raises(LabelError) as caught:
        checked_label({**GOOD, **change})
    assert "\n" not in str(caught.value) and "TAPECONSOLE-LABEL.json" in str(caught.value)


def test_a_label_that_is_not_an_object_or_nests_too_deep_is_refused() -> None:
    for fields in ([], "x", 3, None):
        with pytest.raises(LabelError):
            checked_label(fields)
    import io
    import tarfile

    buffer = io.BytesIO()
    data = b"[" * 100_000 + b"]" * 100_000
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("TAPECONSOLE-LABEL.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(LabelError):
        parse_label_file(buffer.getvalue())


def test_a_good_label_reads_back() -> None:
    label = checked_label(json.loads(json.dumps(GOOD)))
    assert parse_label_file(build_label_file(label, 65536)) == label
