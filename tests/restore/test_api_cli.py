"""The restore API on a real Unix socket (main routes plus restore_routes), and the CLI commands against it."""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette

from console.cli import restore_commands
from console.cli.restore_commands import RESTORE_COMMANDS, add_restore_commands
from console.client.daemon_client import DaemonClient, DaemonError
from console.config.schema import Config
from console.engine.daemon.api import build_app
from console.engine.daemon.routes.restore import restore_routes
from tests.restore.conftest import RestoreSite, make_tree, same_tree


@pytest.fixture
def served(restore_site) -> Iterator[tuple[RestoreSite, Config]]:
    """A site whose service and RestoreManager answer on a short Unix socket, as the daemon will."""
    rs = restore_site(part_mib=1)
    folder = Path(tempfile.mkdtemp(prefix="tcr-", dir="/tmp"))
    socket_path = folder / "s.sock"
    app = Starlette(routes=build_app(rs.service).routes + restore_routes(rs.service, rs.manager))
    server = uvicorn.Server(uvicorn.Config(app, uds=str(socket_path), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    config = rs.service.config
    config = dataclasses.replace(config, daemon=dataclasses.replace(config.daemon, socket=socket_path))
    yield rs, config
    server.should_exit = True
    thread.join(10)
    socket_path.unlink(missing_ok=True)
    folder.rmdir()


def cli(config: Config, *argv: str) -> int:
    """Run one restore command as `tapeconsole` does: 1 refused or failed, 2 usage (main() maps the same)."""
    parser = argparse.ArgumentParser(prog="tapeconsole")
    add_restore_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    try:
        return RESTORE_COMMANDS[args.command](config, args)
    except DaemonError as exc:
        print(f"tapeconsole: {exc}")
        return 2 if exc.is_usage_error else 1


def test_the_api_finds_plans_restores_verifies_and_scans(served, tmp_path: Path) -> None:
    rs, config = served
    make_tree(rs.folder / "data")
    [record] = rs.sets_of(rs.backup("nightly-files"))
    with DaemonClient(config.daemon.socket) as client:
        found = client.get("/find?pattern=doc1.txt")
        assert [(f["path"], f["set"]) for f in found["files"]] == [("shares/dept1/doc1.txt", record["id"])]
        body = {"set": record["id"], "to": str(tmp_path / "out"), "members": ["shares/dept1/doc1.txt"]}
        plan = client.post("/restore-plan", body)
        assert plan["tapes"][0]["barcode"] == record["barcode"] and plan["tapes"][0]["where"] == "in drive lto4"
        run = client.post("/restores", body)
        assert run["kind"] == "restore" and run["state"] in ("queued", "running")
        while (run := client.get(f"/restores/{run['id']}"))["state"] not in ("done", "failed", "cancelled"):
            time.sleep(0.05)
        assert run["ok"], run["problems"]
        assert (tmp_path / "out/shares/dept1/doc1.txt").read_bytes() == \
            (rs.folder / "data/shares/dept1/doc1.txt").read_bytes()
        verify = client.post("/verify", {"tape": record["tape"]})
        scan = None
        while client.get(f"/restores/{verify['id']}")["state"] == "running":
            time.sleep(0.05)
        scan = client.post("/drives/lto4/scan")
        while client.get(f"/restores/{scan['id']}")["state"] == "running":
            time.sleep(0.05)
        runs = client.get("/restores")
        assert [(r["kind"], r["ok"]) for r in runs] == [("restore", True), ("verify", True), ("scan", True)]
        # every refusal is one line, with the HTTP status the CLI maps to its exit code
        for call, status, message in (
            (lambda: client.post("/restores", {"set": 999, "to": "/tmp/x"}), 404, "no set 999 in the inventory"),
            (lambda: client.post("/restores", {"set": record["id"]}), 400, "give exactly one target"),
            (lambda: client.post("/restores", {"set": "one", "to": "/x"}), 400, "'set' must be a set number"),
            (lambda: client.post("/restores", {"set": record["id"], "to": str(tmp_path / "out")}), 409,
             "is not empty"),
            (lambda: client.post("/verify", {"tape": "NOPE"}), 404, "no tape labelled NOPE"),
            (lambda: client.post("/drives/nope/scan"), 404, "no drive named 'nope'"),
            (lambda: client.get("/find?night=tomorrow&pattern=x"), 400, "night 'tomorrow' must be a date"),
            (lambda: client.get("/find"), 400, "find needs a path pattern, a VM or a VDI"),
            (lambda: client.post(f"/restores/{run['id']}/cancel"), 409, f"run {run['id']} is not running"),
            (lambda: client.get("/restores/77"), 404, "no restore, verify or scan run 77"),
        ):
            with pytest.raises(DaemonError) as caught:
                call()
            assert caught.value.status == status and message in str(caught.value), (message, str(caught.value))
            assert "\n" not in str(caught.value)


def test_the_cli_restores_verifies_scans_and_finds(served, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    rs, config = served
    monkeypatch.setattr(restore_commands, "POLL_SECONDS", 0.05)
    make_tree(rs.folder / "data")
    [files] = rs.sets_of(rs.backup("nightly-files"))
    [vdis] = rs.sets_of(rs.backup("nightly-vdi"))

    assert cli(config, "find", "invoice", "--json") == 1  # nothing of that name was backed up
    assert "nothing on tape matches pattern invoice" in capsys.readouterr().err
    assert cli(config, "find", "doc1.txt", "--json") == 0
    found = json.loads(capsys.readouterr().out)
    assert [f["set"] for f in found["files"]] == [files["id"]]
    assert cli(config, "find", "--vm", "dc01") == 0 and "dc01_system" in capsys.readouterr().out
    assert cli(config, "find", "x", "--night", "03/01/2026") == 2

    out = tmp_path / "files"
    assert cli(config, "restore", str(files["id"]), "--to", str(out), "--plan") == 0
    assert files["barcode"] in capsys.readouterr().out and not out.exists()
    assert cli(config, "restore", str(files["id"]), "--to", str(out), "--wait") == 0
    assert same_tree(rs.folder / "data" / "shares", out / "shares")
    assert cli(config, "restore", str(files["id"]), "--to", str(out), "--wait") == 1
    assert "is not empty" in capsys.readouterr().out
    assert cli(config, "restore", str(vdis["id"]), "--to", str(tmp_path / "v"), "--member", "vms/dc01-*",
               "--wait") == 0
    assert len(list((tmp_path / "v").rglob("*.vhd"))) == 1
    assert cli(config, "restore", str(vdis["id"]), "--to-xo", "no-such-sr", "--wait") == 1
    assert "Xen Orchestra has no SR no-such-sr" in capsys.readouterr().out

    assert cli(config, "verify", vdis["tape"], "--wait") == 0
    assert cli(config, "scan", "lto5") == 0
    image = rs.service.shelf.image_path(vdis["barcode"])
    raw = bytearray(image.read_bytes())
    at = raw.rfind(b"conectix") - 4096  # inside the last VHD's data
    raw[at] ^= 0xFF
    image.write_bytes(bytes(raw))
    assert cli(config, "verify", vdis["tape"], "--set", str(vdis["id"]), "--wait") == 1
    err = capsys.readouterr().err
    assert "0 of 1 set(s) intact" in err and "damaged" in err
    assert cli(config, "restore", str(vdis["id"]), "--to", str(tmp_path / "v2"), "--wait") == 1
    assert "does not match its sha256" in capsys.readouterr().err
