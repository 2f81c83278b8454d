"""Tape file 0: a plain tar that GNU tar lists and reads, and that parses back."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.engine.tapeformat.label import (
    LabelError,
    TapeLabel,
    build_label_file,
    parse_label_file,
)
from console.wire.labels import check_label_text


def make_label() -> TapeLabel:
    return TapeLabel.new("DEM001L5", "DEM001L5", "vdi-daily", "LTO-5", datetime(2026, 11, 26, 22, tzinfo=UTC))


def test_label_file_is_whole_records_and_gnu_tar_reads_it(tmp_path: Path) -> None:
    label = make_label()
    data = build_label_file(label, 262144)
    assert len(data) == 262144
    path = tmp_path / "file0.tar"
    path.write_bytes(data)
    listing = subprocess.run(["tar", "-b", "512", "-tvf", str(path)], capture_output=True, text=True, check=True)
    assert "TAPECONSOLE-LABEL.json" in listing.stdout and "README.txt" in listing.stdout
    out = subprocess.run(["tar", "-xOf", str(path), "TAPECONSOLE-LABEL.json"], capture_output=True, check=True)
    fields = json.loads(out.stdout)
    assert fields["label"] == "DEM001L5" and fields["pool"] == "vdi-daily" and fields["uuid"] == label.uuid
    readme = subprocess.run(["tar", "-xOf", str(path), "README.txt"], capture_output=True, text=True, check=True)
    assert "mt -f /dev/nst0 fsf N" in readme.stdout and "tar -b 512 -xvf" in readme.stdout
    assert parse_label_file(data) == label


def test_foreign_and_damaged_file0(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("hello")
    subprocess.run(["tar", "-cf", str(tmp_path / "other.tar"), "-C", str(tmp_path), "x.txt"], check=True)
    with pytest.raises(LabelError, match="without TAPECONSOLE-LABEL.json"):
        parse_label_file((tmp_path / "other.tar").read_bytes())
    with pytest.raises(LabelError, match="not a tapeconsole label"):
        parse_label_file(b"\x00garbage" * 100)


@pytest.mark.parametrize("text", ["", "has space", "-lead", "x" * 33, "ÄBC"])
def test_bad_label_text_is_refused(text: str) -> None:
    assert check_label_text(text) is not None


def test_good_label_text() -> None:
    assert check_label_text("DEM001L5") is None and check_label_text("vdi-2026.11_a") is None
