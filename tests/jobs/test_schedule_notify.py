"""The schedule with a controlled clock, missed runs reported, and notifications to a local SMTP sink."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from console.config.schema import JobConfig, NotifyConfig, PoolConfig
from console.engine.inventory import Inventory
from console.engine.jobs.schedule import Scheduler
from console.engine.notify import Notifier


def job(name: str, schedule: str) -> JobConfig:
    return JobConfig(name=name, source="xo", drive="lto5", pool="vdi-daily", eject_when_done=True, part_bytes=1 << 30,
                     schedule=schedule, vms=("*",), vdi_format="vhd", remote_path=None, paths=(),
                     compression="zstd", compression_level=3, compression_threads=0,
                     frame_bytes=64 << 20)


class Clock:
    def __init__(self, text: str) -> None:
        self.set(text)

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).astimezone().timestamp()

    def __call__(self) -> float:
        return self.now


def test_schedule_fires_on_time_and_reports_missed_runs(tmp_path: Path) -> None:
    clock = Clock("2026-11-23T20:00")  # a Monday
    inv = Inventory(tmp_path / "inv.json", clock=lambda: datetime.fromtimestamp(clock()).astimezone())
    started: list[tuple[str, str]] = []
    jobs = {"nightly-vdi": job("nightly-vdi", "30 22 * * 1-5"), "weekly": job("weekly", "0 6 * * 6")}
    sched = Scheduler(jobs, lambda name, user: started.append((name, user)), inv, clock=clock)
    assert sched.catch_up() == {}
    clock.set("2026-11-23T22:29:30")
    assert sched.tick() == []
    clock.set("2026-11-23T22:30:10")
    assert sched.tick() == ["nightly-vdi"] and started == [("nightly-vdi", "schedule")]
    clock.set("2026-11-23T22:31:00")
    assert sched.tick() == []
    assert sched.next_runs()["nightly-vdi"].startswith("2026-11-24T22:30")

    # the daemon is down from Monday night to Thursday morning
    missed_calls: list[tuple[str, int]] = []
    clock.set("2026-11-26T08:00")
    later = Scheduler(jobs, lambda name, user: started.append((name, user)), inv, clock=clock,
                      on_missed=lambda name, fires: missed_calls.append((name, len(fires))))
    missed = later.catch_up()
    assert [f.strftime("%a %H:%M") for f in missed["nightly-vdi"]] == ["Tue 22:30", "Wed 22:30"]
    assert "weekly" not in missed
    assert missed_calls == [("nightly-vdi", 2)]
    assert [e["job"] for e in inv.audit_entries() if e["action"] == "missed-run"] == ["nightly-vdi"]
    assert started == [("nightly-vdi", "schedule")]  # missed runs are reported, not started late


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_sink():
    import socket

    with socket.socket() as probe:  # a free port on loopback (aiosmtpd checks its own start by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def test_notifications_by_mail_and_command(tmp_path: Path, smtp_sink) -> None:
    sink, port = smtp_sink
    now = datetime(2026, 11, 26, 7, 0).astimezone()
    inv = Inventory(tmp_path / "inv.json", clock=lambda: now)
    inv.sync_pools([PoolConfig("vdi-daily", "LTO-5", 14, "new-each-run", "bank-safe")])
    inv.register_cartridge("DEM001L5", "LTO-5", 1 << 30, "shelf")
    inv.update_tape("DEM001L5", label="DEM001L5", pool="vdi-daily", status="writable",
                    last_written=datetime(2026, 11, 25, 23, 10).astimezone().isoformat())
    run_id = inv.add_run({"job": "nightly-vdi", "drive": "lto5", "state": "done", "bytes": 3 * 10**9,
                          "tapes": ["DEM001L5"], "queued": datetime(2026, 11, 25, 22, 30).astimezone().isoformat(),
                          "started": None, "ended": None, "error": None})
    assert run_id == 1
    inv.set_state("notify.last_summary", datetime(2026, 11, 25, 7, 0).astimezone().timestamp())
    out = tmp_path / "command.out"
    config = NotifyConfig(
        events=("job-failed", "morning-summary", "missed-run"), command=f"(echo $TAPECONSOLE_EVENT; cat) >> {out}",
        mail_to=("ops@example.lan",), mail_from="tapeconsole@backup01", smtp_host="127.0.0.1", smtp_port=port,
        smtp_starttls=False, smtp_user=None, smtp_password_file=None, waiting_minutes=30, summary_at="07:00",
    )
    notifier = Notifier(config, inv, clock=lambda: now.timestamp(), hostname="backup01")
    text = notifier.morning_summary()
    assert "nightly-vdi" in text and "done" in text and "DEM001L5 (DEM001L5, pool vdi-daily) -> bank-safe" in text
    notifier.on_missed("nightly-files", [datetime(2026, 11, 25, 22, 30)])
    notifier.send("tape-full", "not configured", "this event is not in the list")
    deadline = time.monotonic() + 10
    while len(sink.messages) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    from email import message_from_bytes, policy

    subjects = [str(message_from_bytes(m[2], policy=policy.default)["Subject"]).strip() for m in sink.messages]
    assert len(sink.messages) == 2 and all(m[1] == ["ops@example.lan"] for m in sink.messages)
    assert subjects[0] == "[tapeconsole backup01] night: 1 of 1 runs done, 1 tape(s) to take offsite"
    assert "nightly-files: 1 scheduled run(s) missed" in subjects[1]
    lines = out.read_text()
    assert lines.startswith("morning-summary\n") and "missed-run\n" in lines and "tape-full" not in lines


def test_an_unreachable_mail_server_is_logged_not_raised(tmp_path: Path, caplog) -> None:
    inv = Inventory(tmp_path / "inv.json")
    config = NotifyConfig(events=("job-failed",), command=None, mail_to=("ops@example.lan",), mail_from="t@b",
                          smtp_host="127.0.0.1", smtp_port=1, smtp_starttls=False, smtp_user=None,
                          smtp_password_file=None, waiting_minutes=30, summary_at="07:00")
    Notifier(config, inv).send("job-failed", "x", "y")
    assert "notify mail to ops@example.lan via 127.0.0.1:1 failed" in caplog.text


def test_verify_runs_on_its_own_schedule(tmp_path: Path) -> None:
    import threading

    clock = Clock("2026-11-28T11:00")  # a Saturday
    inv = Inventory(tmp_path / "inv.json", clock=lambda: datetime.fromtimestamp(clock()).astimezone())
    verified = threading.Event()
    sched = Scheduler({}, lambda name, user: None, inv, clock=clock, verify_schedule="0 12 * * 6",
                      on_verify=verified.set)
    sched.catch_up()
    clock.set("2026-11-28T11:59")
    assert sched.tick() == [] and not verified.is_set()
    clock.set("2026-11-28T12:00:20")
    assert sched.tick() == ["_verify"]
    assert verified.wait(5)
    assert "_verify" not in sched.next_runs()


def test_verify_table_in_the_config(tmp_path: Path) -> None:
    from console.config.errors import ConfigError
    from console.config.loading import load_config

    root = Path(__file__).resolve().parents[2]
    text = (root / "config.toml").read_text()
    (tmp_path / "config.toml").write_text(text + '\n[verify]\nschedule = "0 12 * * 6"\npool = "vdi-daily"\n')
    config = load_config(tmp_path / "config.toml")
    assert config.verify is not None and (config.verify.pool, config.verify.tapes) == ("vdi-daily", 1)
    (tmp_path / "config.toml").write_text(text + '\n[verify]\nschedule = "every saturday"\n')
    with pytest.raises(ConfigError, match="verify.schedule: must be a cron expression"):
        load_config(tmp_path / "config.toml")
