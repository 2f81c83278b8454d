"""config.toml: the embedded default, the real-site example, and errors that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli.main import main
from console.config.errors import ConfigError, find_line
from console.config.loading import embedded_default_path, load_config

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
[daemon]
state_dir = "state"

[shelf]
cartridges = ["TST001L5", "TST002L4"]

[shelf.capacity_gib]
"LTO-4" = 1
"LTO-5" = 2

[drives.lto5]
kind = "virtual"
generation = "LTO-5"

[pools.vdi-daily]
generation = "LTO-5"
retention_days = 14
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_embedded_default_is_the_root_config_and_loads() -> None:
    assert embedded_default_path().read_text() == (ROOT / "config.toml").read_text()
    config = load_config(ROOT / "config.toml")
    assert set(config.drives) == {"lto4", "lto5"}
    assert config.drives["lto4"].generation == "LTO-4" and config.drives["lto5"].generation == "LTO-5"
    assert all(d.kind == "virtual" for d in config.drives.values())
    assert set(config.pools) >= {"vdi-daily", "files-daily"}
    assert config.pools["vdi-daily"].generation == "LTO-5"
    assert config.pools["files-daily"].generation == "LTO-4"
    assert config.daemon.state_dir == ROOT / "var"
    assert config.xo is not None and config.xo.simulator


def test_example_config_is_a_real_site() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert config.drives["lto4"].kind == "st" and str(config.drives["lto4"].device) == "/dev/nst0"
    assert str(config.drives["lto5"].device) == "/dev/nst1"
    assert config.xo is not None and config.xo.url and config.xo.token_file
    assert config.pools["monthly"].retention_days is None


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.daemon.state_dir == tmp_path / "state"
    assert config.daemon.socket == tmp_path / "state" / "tapeconsole.sock"
    assert config.shelf is not None and config.shelf.path == tmp_path / "state" / "shelf"
    assert config.shelf.capacity_bytes["LTO-5"] == 2 * 1024**3


@pytest.mark.parametrize(
    ("change", "expected_key", "expected_text", "line_of"),
    [
        (('generation = "LTO-5"\n\n[pools', 'generation = "LTO-6x"\n\n[pools'), "drives.lto5.generation",
         "must be one of", 'generation = "LTO-6x"'),
        (('kind = "virtual"', 'kind = "virtual"\nspeed = 3'), "drives.lto5.speed", "unknown key", "speed = 3"),
        (('kind = "virtual"', 'kind = "st"'), "drives.lto5.device", "no-rewind device", "[drives.lto5]"),
        (('"TST002L4"', '"TST02L4"'), "shelf.cartridges", "not an LTO barcode", "cartridges ="),
        (("retention_days = 14", "retention_days = -3"), "pools.vdi-daily.retention_days", "between 0",
         "retention_days = -3"),
        (('"LTO-4" = 1', '"LTO-4" = 0'), "shelf.capacity_gib.LTO-4", "greater than 0", '"LTO-4" = 0'),
        (("retention_days = 14", 'retention_days = "14"'), "pools.vdi-daily.retention_days", "must be an integer",
         'retention_days = "14"'),
        (("[pools.vdi-daily]", "[pools.VDI]"), "pools.VDI", "lower-case", "[pools.VDI]"),
    ],
)
def test_bad_config_names_key_line_and_problem(tmp_path: Path, change: tuple[str, str], expected_key: str,
                                               expected_text: str, line_of: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    expected_line = next(i for i, line in enumerate(text.splitlines(), 1) if line_of in line)
    assert message.startswith(f"{path}:{expected_line}: {expected_key}: "), message
    assert expected_text in message
    assert "\n" not in message


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("retention_days = 14", "retention_days = = 14"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    line = next(i for i, s in enumerate(path.read_text().splitlines(), 1) if "= = 14" in s)
    assert str(caught.value).startswith(f"{path}:{line}: not valid TOML")


def test_missing_drives_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="drives: missing table"):
        load_config(write(tmp_path, '[daemon]\nstate_dir = "x"\n'))
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


def test_cli_exits_2_with_one_line_on_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.replace('kind = "virtual"', 'kind = "floppy"'))
    assert main(["--config", str(path), "tapes", "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"{path}:" in err and "drives.lto5.kind" in err and "'floppy'" in err


def test_config_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.replace("retention_days = 14", "retention_days = 1.5"))
    monkeypatch.setenv("TAPECONSOLE_CONFIG", str(path))
    assert main(["tapes"]) == 2
    assert "pools.vdi-daily.retention_days" in capsys.readouterr().err


def test_find_line_handles_quoted_keys_and_tables() -> None:
    text = '[a]\nx = 1\n[a."b.c"]\n"y" = 2\n'
    assert find_line(text, "a.x") == 2
    assert find_line(text, 'a."b.c".y') == 4
    assert find_line(text, 'a."b.c".missing') == 3


FILES_JOB = GOOD + """
[pools.files-daily]
generation = "LTO-5"
retention_days = 14

[jobs.nightly-files]
source = "files"
drive = "lto5"
pool = "files-daily"
paths = ["data"]
"""


def test_a_files_job_compresses_with_zstd_level_3_by_default(tmp_path: Path) -> None:
    job = load_config(write(tmp_path, FILES_JOB)).jobs["nightly-files"]
    assert (job.compression, job.compression_level, job.compression_threads, job.frame_bytes) == (
        "zstd", 3, 0, 64 << 20)
    gzip = load_config(write(tmp_path, FILES_JOB + 'compression = "gzip"\n')).jobs["nightly-files"]
    assert (gzip.compression, gzip.compression_level) == ("gzip", 6)
    small = load_config(write(tmp_path, FILES_JOB + 'compression = "none"\nframe_mib = 1\n')).jobs["nightly-files"]
    assert (small.compression, small.compression_level, small.frame_bytes) == ("none", 0, 1 << 20)


@pytest.mark.parametrize(
    ("extra", "key", "text"),
    [
        ('compression = "lz4"', "jobs.nightly-files.compression", "must be one of zstd, gzip, none, got 'lz4'"),
        ("compression_level = 12", "jobs.nightly-files.compression_level", "must be 1 to 9 for gzip"),
        ("compression_level = 22", "jobs.nightly-files.compression_level", "must be 1 to 19 for zstd"),
        ("frame_mib = 0", "jobs.nightly-files.frame_mib", "must be 1 to 4096"),
    ],
)
def test_bad_compression_settings_name_the_key(tmp_path: Path, extra: str, key: str, text: str) -> None:
    body = FILES_JOB + ('compression = "gzip"\n' if "for gzip" in text else "") + extra + "\n"
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert f": {key}: " in message and text in message and "\n" not in message, message
