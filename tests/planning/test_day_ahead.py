"""The daemon's daily check: tomorrow night's run against the tape it will get, warned once a day."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from console.config.loading import load_config
from console.config.schema import NOTIFY_EVENTS, NotifyConfig
from console.engine.jobs.schedule import Scheduler
from console.engine.notify import Notifier
from console.engine.planning.day_ahead import DayAheadCheck
from console.engine.planning.plan import Planner
from tests.planning.conftest import MB, Clock, add_tape, make_config, make_inventory, sparse_file

CAP = 10 * MB


def site(tmp_path: Path, tapes: int):
    clock = Clock("2026-11-26T07:00")  # a Thursday morning; the job runs every night at 22:30
    config = make_config(tmp_path)
    inventory = make_inventory(tmp_path, config, clock)
    for n in range(tapes):
        add_tape(inventory, f"TST00{n + 1}L5", CAP)
    sparse_file(tmp_path / "data" / "mail" / "big.mbox", 7 * MB)  # 7 MB a night: one tape each
    return clock, config, inventory


def test_warns_once_a_day_when_tomorrows_run_finds_no_tape(tmp_path: Path, caplog) -> None:
    clock, config, inventory = site(tmp_path, 1)
    sent: list[tuple[str, str, str]] = []
    check = DayAheadCheck(Planner(config, inventory, clock=clock), lambda *message: sent.append(message))
    with caplog.at_level(logging.WARNING, logger="tapeconsole.planning"):
        warnings = check.run()
    # tonight's run takes the only tape; tomorrow's finds none
    assert [(w["job"], w["night"], w["verdict"]) for w in warnings] == [("nightly-files", "2026-11-27", "no tape")]
    assert [(event, subject) for event, subject, _ in sent] == [
        ("capacity-warning", "nightly-files will not fit its tape tomorrow night (7.0 MB)")]
    assert "runs Friday 2026-11-27 22:30 on drive lto5, pool vdi-daily" in sent[0][2]
    assert "capacity warning: nightly-files on the night of 2026-11-27: no tape for pool vdi-daily" in caplog.text
    assert [e["action"] for e in inventory.audit_entries()].count("capacity-warning") == 1
    clock.set("2026-11-26T15:00")
    assert check.run() == [] and len(sent) == 1  # once a day, not every time it looks
    clock.set("2026-11-27T07:00")
    assert len(check.run()) == 1 and len(sent) == 2  # the next day, still short: warned again


def test_no_warning_when_tomorrow_has_its_tape(tmp_path: Path) -> None:
    clock, config, inventory = site(tmp_path, 2)
    sent: list[tuple[str, str, str]] = []
    assert DayAheadCheck(Planner(config, inventory, clock=clock), lambda *m: sent.append(m)).run() == []
    assert sent == []


def test_a_run_that_will_spill_is_warned(tmp_path: Path) -> None:
    clock, config, inventory = site(tmp_path, 3)
    sparse_file(tmp_path / "data" / "share" / "iso", 8 * MB)  # 15 MB a night now: two tapes a run
    warnings = DayAheadCheck(Planner(config, inventory, clock=clock)).run()
    # tonight takes TST001 and spills onto TST002; tomorrow has TST003 and nothing to spill onto
    assert [(w["verdict"], w["expected"]) for w in warnings] == [("spills", 15 * MB)]
    assert "1 tape short" in warnings[0]["text"]


def test_the_scheduler_runs_the_check_once_a_day_and_notifies(tmp_path: Path) -> None:
    clock, config, inventory = site(tmp_path, 1)
    out = tmp_path / "notified"
    notify = NotifyConfig(events=NOTIFY_EVENTS, command=f"(echo $TAPECONSOLE_EVENT; cat) >> {out}", mail_to=(),
                          mail_from="t@b", smtp_host="localhost", smtp_port=25, smtp_starttls=False, smtp_user=None,
                          smtp_password_file=None, waiting_minutes=30, summary_at="07:00")
    notifier = Notifier(notify, inventory, clock=clock, hostname="backup01")
    checked = threading.Semaphore(0)
    check = DayAheadCheck(Planner(config, inventory, clock=clock), notifier.send)

    def run_check() -> None:
        check.run()
        checked.release()

    sched = Scheduler(config.jobs, lambda name, user: None, inventory, clock=clock, capacity_at="07:00",
                      on_capacity=run_check)
    clock.set("2026-11-26T06:59")
    sched.catch_up()
    assert sched.tick() == []
    clock.set("2026-11-26T07:00:20")
    assert sched.tick() == [] and checked.acquire(timeout=30)  # the check is no job start
    clock.set("2026-11-26T07:01:00")
    sched.tick()
    assert not checked.acquire(timeout=0.5)  # not every minute
    assert "_capacity-check" not in sched.next_runs()
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = out.read_text()
    assert text.startswith("capacity-warning\nJob nightly-files runs Friday 2026-11-27 22:30")


def test_capacity_warning_is_a_notify_event(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    assert "capacity-warning" in NOTIFY_EVENTS
    text = (root / "config.example.toml").read_text()
    (tmp_path / "config.toml").write_text(text.replace('paths = ["/srv/mail", "/srv/shares"]', 'paths = ["/tmp"]'))
    config = load_config(tmp_path / "config.toml")
    assert config.notify is not None and "capacity-warning" in config.notify.events
