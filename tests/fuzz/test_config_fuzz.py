"""Mutated config.toml files: each loads, or fails with one line naming the file; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.config.errors import ConfigError
from console.config.loading import embedded_default_path, load_config
from tests.fuzz.mutations import mutated_text

ROOT = Path(__file__).resolve().parents[2]
GOOD = [embedded_default_path().read_bytes(), (ROOT / "config.example.toml").read_bytes()]
FAST = settings(max_examples=500, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SLOW = settings(FAST, max_examples=10_000)


def check_one(folder: Path, data: bytes) -> None:
    path = folder / "config.toml"
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError as exc:
        text = str(exc)
        assert "\n" not in text and text.startswith(str(path)), text


@pytest.mark.parametrize("which", [0, 1], ids=["embedded", "example"])
@FAST
@given(data=st.data())
def test_a_mutated_config_is_one_line_or_loads(tmp_path: Path, which: int, data: st.DataObject) -> None:
    check_one(tmp_path, data.draw(mutated_text(GOOD[which])))


@pytest.mark.slow
@SLOW
@given(data=mutated_text(GOOD[0]) | mutated_text(GOOD[1]))
def test_many_more_mutated_configs(tmp_path: Path, data: bytes) -> None:
    check_one(tmp_path, data)


@pytest.mark.parametrize("line, expected", [
    ('simulator_scale = inf', "xo.simulator_scale: must be a finite number"),
    ('simulator_scale = nan', "xo.simulator_scale: must be a finite number"),
])
def test_inf_and_nan_are_refused_by_name(tmp_path: Path, line: str, expected: str) -> None:
    text = GOOD[0].decode().replace("simulator_scale = ", f"{line}\n#", 1)
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_a_byte_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[daemon]\nstate_dir = \"v\xffr\"\n")
    with pytest.raises(ConfigError, match=r"config.toml:2: not UTF-8 text \(byte 23 is 0xff\)"):
        load_config(path)
