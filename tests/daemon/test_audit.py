"""The audit trail through the real daemon and CLI: the kernel's user, config changes, `audit verify`."""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from console.client.daemon_client import client_user
from tests.daemon.conftest import Site


def audit(site: Site, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    capsys.readouterr()
    assert site.run("audit", "--limit", "100", "--json") == 0
    return json.loads(capsys.readouterr().out)


def me() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def log_of(site: Site) -> Path:
    return site.folder / "var" / "inventory.audit.log"


def test_the_user_is_the_unix_user_of_the_socket_not_the_header(site: Site, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "mallory")
    monkeypatch.setenv("USER", "mallory")
    assert client_user() == "mallory" != me()  # so the CLI claims to be mallory in its header
    assert site.run("load", "lto5", "TST001L5") == 0
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(site.socket)), base_url="http://tapeconsole/v1",
                      headers={"X-Tapeconsole-User": "eve"}) as raw:
        assert raw.post("/drives/lto5/eject", json={}).status_code == 200
    entries = audit(site, capsys)
    assert [(e["action"], e["user"]) for e in entries[-2:]] == [("load", me()), ("eject", me())]


def test_a_changed_config_is_audited_across_a_restart(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    first = [e for e in audit(site, capsys) if e["action"].startswith("config-")]
    assert [e["action"] for e in first] == ["config-first-seen"]
    assert first[0]["file"] == str(site.config) and first[0]["user"] == "tapeconsole"
    text = site.config.read_text()
    old_hash = first[0]["sha256"]
    site.stop()
    changed = text.replace('[pools.files-daily]\ngeneration = "LTO-4"\nretention_days = 14',
                           '[pools.files-daily]\ngeneration = "LTO-4"\nretention_days = 30')
    assert changed != text
    site.config.write_text(changed + '\n[pools.monthly]\ngeneration = "LTO-5"\nretention_days = 365\n')
    entries = [e for e in audit(site, capsys) if e["action"].startswith("config-")]  # starts the daemon again
    assert [e["action"] for e in entries] == ["config-first-seen", "config-changed"]
    change = entries[-1]
    assert change["old_sha256"] == old_hash and change["sha256"] != old_hash
    assert change["changed"] == ["pools.files-daily.retention_days"] and change["added"] == ["pools.monthly"]
    assert "removed" not in change
    # the same file again: nothing to audit
    site.stop()
    assert [e["action"] for e in audit(site, capsys) if e["action"].startswith("config-")] == [
        "config-first-seen", "config-changed"]


def test_audit_verify_exits_0_when_intact_and_1_naming_the_changed_entry(
        site: Site, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert site.run("load", "lto5", "TST001L5") == 0
    assert site.run("label", "lto5", "TST001L5", "--pool", "vdi-daily") == 0
    assert site.run("eject", "lto5") == 0
    capsys.readouterr()
    assert site.run("audit", "verify") == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"audit log intact: 4 entries, tip [0-9a-f]{12}", out[-1])
    answer = site.client().get("/audit/verify")
    assert answer["ok"] and answer["entries"] == 4 and answer["recorded_tip"] == answer["tip"]
    assert out[-1].endswith(answer["tip"]["hash"][:12])
    site.stop()
    # an auditor's copy, checked without a daemon
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(log_of(site), copy / "inventory.audit.log")
    shutil.copy(site.folder / "var" / "inventory.json", copy / "inventory.json")
    assert site.run("audit", "verify", "--file", str(copy / "inventory.audit.log")) == 0
    assert capsys.readouterr().out.strip() == out[-1]
    assert not site.socket.exists()  # --file needs no daemon and starts none
    # someone edits who labelled the tape
    lines = log_of(site).read_text().splitlines(keepends=True)
    entry = json.loads(lines[2])
    assert entry["action"] == "label"
    entry["user"] = "someone-else"
    log_of(site).write_text("".join(lines[:2] + [json.dumps(entry) + "\n"] + lines[3:]))
    problem = f"entry 3 ({entry['time']}, label by someone-else) was changed"
    assert site.run("audit", "verify", "--file", str(log_of(site))) == 1
    assert capsys.readouterr().err.strip() == f"tapeconsole: audit log damaged: {problem}"
    assert site.run("audit", "verify") == 1  # through the daemon (started again)
    err = capsys.readouterr().err.strip()
    assert err == f"tapeconsole: audit log damaged: {problem}"
    assert site.run("audit", "verify", "--json") == 1
    assert json.loads(capsys.readouterr().out)["problem"] == problem
    # bad input: a missing file, --file without verify
    assert site.run("audit", "verify", "--file", str(tmp_path / "nope.log")) == 1
    assert "nope.log: no such file" in capsys.readouterr().err
    assert site.run("audit", "--file", str(log_of(site))) == 2


def test_relabelling_an_expired_tape_is_audited_as_overwrite_expired(site: Site,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert site.run("load", "lto5", "TST003L5") == 0
    assert site.run("label", "lto5", "TST003L5", "--pool", "vdi-daily") == 0
    site.stop()
    # a backup was written to it 20 days ago: its 14 days of retention ended 6 days ago
    inventory = site.folder / "var" / "inventory.json"
    data = json.loads(inventory.read_text())
    written = datetime.now(UTC) - timedelta(days=20)
    for doc in data["tapes"].values():
        if doc["barcode"] == "TST003L5":
            doc["last_written"] = written.isoformat(timespec="seconds")
    inventory.write_text(json.dumps(data))
    assert site.run("label", "lto5", "NEW003L5", "--pool", "vdi-daily", "--confirm", "TST003L5") == 0
    entry = audit(site, capsys)[-1]
    assert entry["action"] == "overwrite-expired" and entry["user"] == me()
    assert (entry["barcode"], entry["label"], entry["old_label"]) == ("TST003L5", "NEW003L5", "TST003L5")
    assert entry["expired"] == (written + timedelta(days=14)).date().isoformat()
    assert site.run("audit", "verify") == 0
