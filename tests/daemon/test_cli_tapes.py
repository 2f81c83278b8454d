"""The foundation through the real CLI and a real daemon: load, label, read, eject, refusals, exit codes."""

from __future__ import annotations

import json
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.daemon.conftest import Site


def json_out(site: Site, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    capsys.readouterr()
    assert site.run(*args, "--json") == 0
    return json.loads(capsys.readouterr().out)


def last_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    return err


def test_daemon_autostarts_with_a_0660_socket_and_stops(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    drives = json_out(site, capsys, "drives")
    assert [(d["name"], d["kind"], d["generation"], d["state"], d["loaded"]) for d in drives] == [
        ("lto4", "virtual", "LTO-4", "no-tape", None),
        ("lto5", "virtual", "LTO-5", "no-tape", None),
    ]
    assert all(set(d["position"]) == {"file", "block"} for d in drives)
    mode = stat.S_IMODE(site.socket.stat().st_mode)
    assert mode == 0o660
    assert site.run("daemon", "status") == 0
    assert "daemon running" in capsys.readouterr().out
    assert site.run("daemon", "stop") == 0
    assert not site.socket.exists()
    assert site.run("daemon", "status") == 1
    assert "no daemon answers" in last_error(capsys)
    assert site.run("daemon", "start") == 0
    assert "daemon started" in capsys.readouterr().out


def test_tapes_json_lists_the_shelf(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    tapes = {t["barcode"]: t for t in json_out(site, capsys, "tapes")}
    assert set(tapes) == {"TST001L5", "TST002L5", "TST003L5", "TST101L4", "TST102L4", "WPR001L5"}
    t = tapes["TST001L5"]
    for key in ("barcode", "label", "generation", "pool", "status", "location", "bytes_used", "capacity", "expires"):
        assert key in t
    assert (t["label"], t["generation"], t["status"], t["location"], t["expires"]) == (
        None, "LTO-5", "blank", "shelf", None)
    assert t["capacity"] == 128 * 1024 * 1024
    assert tapes["TST101L4"]["generation"] == "LTO-4"


def test_label_round_trip_read_back_and_listed_by_gnu_tar(site: Site, capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    assert site.run("load", "lto5", "TST001L5") == 0
    assert "loaded tape TST001L5, blank" in capsys.readouterr().out
    assert site.run("label", "lto5", "TST001L5", "--pool", "vdi-daily") == 0
    drives = {d["name"]: d for d in json_out(site, capsys, "drives")}
    assert drives["lto5"]["loaded"] == "TST001L5" and drives["lto5"]["label"] == "TST001L5"
    assert drives["lto5"]["state"] == "idle"
    tape = next(t for t in json_out(site, capsys, "tapes") if t["barcode"] == "TST001L5")
    assert (tape["label"], tape["pool"], tape["status"], tape["location"]) == (
        "TST001L5", "vdi-daily", "writable", "drive:lto5")

    out = tmp_path / "file0.tar"
    assert site.run("read", "lto5", "--file", "0", "--output", str(out)) == 0
    assert out.stat().st_size == 262144
    listing = subprocess.run(["tar", "-b", "512", "-tvf", str(out)], capture_output=True, text=True, check=True)
    assert "TAPECONSOLE-LABEL.json" in listing.stdout and "README.txt" in listing.stdout
    label = json.loads(subprocess.run(["tar", "-xOf", str(out), "TAPECONSOLE-LABEL.json"],
                                      capture_output=True, check=True).stdout)
    assert label["label"] == "TST001L5" and label["pool"] == "vdi-daily" and label["generation"] == "LTO-5"

    # the output is never silently replaced, and a missing tape file is a clean refusal
    assert site.run("read", "lto5", "--file", "0", "--output", str(out)) == 1
    assert "exists" in last_error(capsys)
    assert site.run("read", "lto5", "--file", "3", "--output", str(tmp_path / "f3")) == 1
    assert "tape file 3 does not exist" in last_error(capsys)
    assert not (tmp_path / "f3").exists() and not (tmp_path / ".f3.partial").exists()

    # eject, load again: the label is read back from the tape
    assert site.run("eject", "lto5") == 0
    assert json_out(site, capsys, "drives")[1]["loaded"] is None
    tape = next(t for t in json_out(site, capsys, "tapes") if t["barcode"] == "TST001L5")
    assert tape["location"] == "shelf"
    assert site.run("load", "lto5", "TST001L5") == 0
    assert "label TST001L5 (pool vdi-daily)" in capsys.readouterr().out
    actions = [e["action"] for e in json_out(site, capsys, "audit")]
    assert actions == ["config-first-seen", "load", "label", "read", "eject", "load"]


def test_refusals_name_the_tape_and_exit_1(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    # LTO-5 media cannot go into the LTO-4 drive
    assert site.run("load", "lto4", "TST001L5") == 1
    assert "TST001L5" in last_error(capsys)
    # write-protected cartridge
    assert site.run("load", "lto5", "WPR001L5") == 0
    assert site.run("label", "lto5", "WPR001L5", "--pool", "vdi-daily") == 1
    assert "WPR001L5 is write-protected" in last_error(capsys)
    assert site.run("eject", "lto5") == 0
    # LTO-4 media in the LTO-5 drive is writable, but not for an LTO-5 pool
    assert site.run("load", "lto5", "TST101L4") == 0
    assert site.run("label", "lto5", "TST101L4", "--pool", "vdi-daily") == 1
    assert "pool vdi-daily takes LTO-5 media, tape TST101L4 is LTO-4" in last_error(capsys)
    assert site.run("label", "lto5", "TST101L4", "--pool", "nosuch") == 1
    assert "pool 'nosuch' does not exist" in last_error(capsys)
    assert site.run("label", "lto5", "TST101L4", "--pool", "files-daily") == 0
    capsys.readouterr()
    assert site.run("eject", "lto5") == 0
    # a label already in the inventory
    assert site.run("load", "lto5", "TST002L5") == 0
    assert site.run("label", "lto5", "TST101L4", "--pool", "vdi-daily") == 1
    assert "label TST101L4 is already in the inventory, on tape TST101L4" in last_error(capsys)
    # relabelling asks for the old label typed back
    assert site.run("label", "lto5", "TST002L5", "--pool", "vdi-daily") == 0
    capsys.readouterr()
    assert site.run("label", "lto5", "NEW002L5", "--pool", "vdi-daily") == 1
    assert "holds label TST002L5: to relabel it, type --confirm TST002L5" in last_error(capsys)
    assert site.run("label", "lto5", "NEW002L5", "--pool", "vdi-daily", "--confirm", "WRONG") == 1
    capsys.readouterr()
    assert site.run("label", "lto5", "NEW002L5", "--pool", "vdi-daily", "--confirm", "TST002L5") == 0
    capsys.readouterr()
    # bad input: usage errors exit 2, unknown drive exits 1 naming the drives
    assert site.run("label", "lto5", "bad label", "--pool", "vdi-daily") == 2
    assert "must be 1-32 letters" in last_error(capsys)
    assert site.run("eject", "lto9") == 1
    assert "no drive named 'lto9' (drives: lto4, lto5)" in last_error(capsys)
    assert site.run("eject", "lto4") == 1
    assert "drive lto4 holds no tape" in last_error(capsys)
    with pytest.raises(SystemExit) as usage:
        site.run("label", "lto5")
    assert usage.value.code == 2


def test_unexpired_tape_is_never_relabelled(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert site.run("load", "lto5", "TST003L5") == 0
    assert site.run("label", "lto5", "TST003L5", "--pool", "vdi-daily") == 0
    assert site.run("daemon", "stop") == 0
    # a backup was written to it yesterday (the backup issue writes this field)
    inventory = site.folder / "var" / "inventory.json"
    data = json.loads(inventory.read_text())
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
    for doc in data["tapes"].values():
        if doc["barcode"] == "TST003L5":
            doc["last_written"] = yesterday
    inventory.write_text(json.dumps(data))
    capsys.readouterr()
    assert site.run("label", "lto5", "OTHER1", "--pool", "vdi-daily", "--confirm", "TST003L5") == 1
    err = last_error(capsys)
    expires = (datetime.now(UTC) - timedelta(days=1) + timedelta(days=14)).date().isoformat()
    assert "tape TST003L5 (pool vdi-daily) is kept until " + expires in err
    tape = next(t for t in json_out(site, capsys, "tapes") if t["barcode"] == "TST003L5")
    assert tape["label"] == "TST003L5" and tape["expires"] == expires
    # the tape itself still holds its old label
    out = site.folder / "file0.tar"
    assert site.run("read", "lto5", "--file", "0", "--output", str(out)) == 0
    label = json.loads(subprocess.run(["tar", "-xOf", str(out), "TAPECONSOLE-LABEL.json"],
                                      capture_output=True, check=True).stdout)
    assert label["label"] == "TST003L5"
