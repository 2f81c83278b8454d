"""[rotation] in config.toml: how many nights the swap list looks ahead; errors name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config.errors import ConfigError
from console.config.loading import embedded_default_path, load_config

ROOT = Path(__file__).resolve().parents[2]
SITE = """
[shelf]
cartridges = ["TST001L5"]

[shelf.capacity_gib]
"LTO-5" = 1

[drives.lto5]
kind = "virtual"
generation = "LTO-5"
"""


def test_the_lookahead_defaults_to_a_week_and_is_set_in_every_shipped_config(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(SITE)
    assert load_config(tmp_path / "config.toml").rotation.lookahead_nights == 7
    for path in (embedded_default_path(), ROOT / "config.example.toml"):
        assert "[rotation]" in path.read_text() and load_config(path).rotation.lookahead_nights == 7
    (tmp_path / "config.toml").write_text(SITE + "\n[rotation]\nlookahead_nights = 21\n")
    assert load_config(tmp_path / "config.toml").rotation.lookahead_nights == 21


@pytest.mark.parametrize(("text", "problem"), [
    ("lookahead_nights = 0", "rotation.lookahead_nights: must be 1 to 90 nights, got 0"),
    ("lookahead_nights = 91", "rotation.lookahead_nights: must be 1 to 90 nights, got 91"),
    ('lookahead_nights = "7"', "rotation.lookahead_nights: must be an integer, got '7'"),
    ("nights = 7", "rotation.nights: unknown key (known: lookahead_nights)"),
])
def test_a_bad_rotation_table_names_its_line(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "config.toml"
    body = SITE + "\n[rotation]\n" + text + "\n"
    path.write_text(body)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    line = body.splitlines().index(text) + 1
    assert str(caught.value) == f"{path}:{line}: {problem}"
