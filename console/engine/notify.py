"""Telling someone: a command to run and/or mail through SMTP, per event kind in config.toml [notify].

Events: job-failed, waiting-for-tape (once a job has waited `waiting_minutes`), tape-full,
missed-run (the daemon was down at a scheduled time), morning-summary (the night's runs, the
tapes to take offsite and the tapes to bring back, from the swap list). A notification that cannot be
sent is logged; it never stops a backup.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from console.config.schema import NotifyConfig
from console.engine.inventory import Inventory

if TYPE_CHECKING:
    from console.engine.jobs.backup import BackupRun

log = logging.getLogger("tapeconsole.notify")
LAST_SUMMARY = "notify.last_summary"


class Notifier:
    def __init__(self, config: NotifyConfig, inventory: Inventory, *, clock: Callable[[], float] = time.time,
                 hostname: str | None = None, swap_list: Callable[[], dict[str, Any]] | None = None) -> None:
        self.config = config
        self.inventory = inventory
        self.swap_list = swap_list  # the daemon's morning swap list (GET /v1/swap-list), when it has one
        self.clock = clock
        self.hostname = hostname or socket.gethostname()
        self.sent: list[tuple[str, str]] = []  # (event, subject), for the console and tests
        self._timers: list[threading.Timer] = []

    # ---- hooks
    def on_run_event(self, kind: str, run: BackupRun) -> None:
        if kind == "job-failed":
            self.send(kind, f"backup {run.job.name} failed", self._run_text(run))
        elif kind == "tape-full":
            self.send(kind, f"tape {run.tape} is full ({run.job.name})",
                      f"Job {run.job.name} filled tape {run.tape} on drive {run.job.drive} and continues on the "
                      f"next tape of pool {run.job.pool}.\n\n{self._run_text(run)}")
        elif kind == "waiting-for-tape":
            self._after_waiting(run)

    def _after_waiting(self, run: BackupRun) -> None:
        since = run.waiting_since

        def still_waiting() -> None:
            if run.state == "waiting-for-tape" and run.waiting_since == since:
                minutes = self.config.waiting_minutes
                self.send("waiting-for-tape", f"{run.job.name} has waited {minutes} min for a tape",
                          f"{run.waiting}\n\n{self._run_text(run)}")

        timer = threading.Timer(self.config.waiting_minutes * 60, still_waiting)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def on_missed(self, job: str, fires: list[datetime]) -> None:
        when = "\n".join(f"  {f:%Y-%m-%d %H:%M}" for f in fires[:50])
        self.send("missed-run", f"{job}: {len(fires)} scheduled run(s) missed",
                  f"The tapeconsole daemon was not running when job {job} should have started:\n{when}\n\n"
                  f"Start it by hand if the backup is still needed: tapeconsole backup {job}")

    def morning_summary(self) -> str:
        """The night's runs and what to take offsite since the last summary; sent, and returned."""
        now = self.clock()
        since = float(self.inventory.get_state(LAST_SUMMARY, now - 24 * 3600))
        since_iso = datetime.fromtimestamp(since).astimezone().isoformat(timespec="seconds")
        runs = [r for r in self.inventory.runs() if (r.get("queued") or r.get("started") or "") >= since_iso[:19]
                or (r.get("ended") or "") >= since_iso[:19]]
        lines = ["Runs since " + since_iso + ":"]
        for r in runs:
            size = (r.get("bytes") or 0) / 1e9
            tapes = ", ".join(r.get("tapes") or []) or "-"
            lines.append(f"  {r['job']:<20} {r['state']:<12} {size:8.1f} GB  tapes {tapes}"
                         + (f"  ({r['error']})" if r.get("error") else ""))
        if not runs:
            lines.append("  none")
        lines += drive_lines(runs)
        plan = self._swap_list()
        offsite = plan["take_out"] if plan is not None else self.tapes_to_take_offsite(since_iso)
        lines.append("")
        lines.append("Take offsite:" if offsite else "Take offsite: nothing")
        for tape in offsite:
            pool = self.inventory.pool(tape["pool"]) if tape.get("pool") else None
            vault = tape.get("vault") or (pool["vault"] if pool else "vault")
            lines.append(f"  {tape['label'] or tape['barcode']} ({tape['barcode']}, pool {tape['pool']}) -> {vault}")
        back = plan["recall"] if plan is not None else []
        if plan is not None:
            lines += self._recall_lines(plan)
        failed = sum(1 for r in runs if r["state"] not in ("done",))
        subject = f"night: {len(runs) - failed} of {len(runs)} runs done, {len(offsite)} tape(s) to take offsite"
        subject += f", {len(back)} to bring back" if back else ""
        text = "\n".join(lines) + "\n"
        self.send("morning-summary", subject, text)
        self.inventory.set_state(LAST_SUMMARY, now)
        return text

    def _swap_list(self) -> dict[str, Any] | None:
        if self.swap_list is None:
            return None
        try:
            return self.swap_list()
        except Exception:  # the summary still goes out, with the night's runs
            log.exception("morning summary: the swap list failed")
            return None

    @staticmethod
    def _recall_lines(plan: dict[str, Any]) -> list[str]:
        """Bring back (the recall list for the courier), and the nights no tape can take."""
        lines = ["", f"Bring back (the next {plan['lookahead_nights']} nights):" if plan["recall"]
                 else "Bring back: nothing"]
        for tape in plan["recall"]:
            lines.append(f"  {tape['label'] or tape['barcode']} ({tape['barcode']}, pool {tape['pool']}) from "
                         f"{tape['vault']}, for the night of {tape['night']} ({tape['job']})")
        by_job: dict[str, list[dict[str, Any]]] = {}
        for short in plan["shortages"]:
            by_job.setdefault(short["job"], []).append(short)
        for job, shorts in by_job.items():
            nights = shorts[0]["night"] + (f" to {shorts[-1]['night']} ({len(shorts)} nights)" if shorts[1:] else "")
            lines.append(f"  No tape for {job} on the night of {nights}: {shorts[0]['problem']}")
        return lines

    def tapes_to_take_offsite(self, since_iso: str) -> list[dict[str, Any]]:
        """Tapes written since then and now on the shelf (ejected): they go to the vault."""
        return [t for t in self.inventory.tapes()
                if t.get("last_written") and t["last_written"] >= since_iso[:19] and t["location"] == "shelf"]

    @staticmethod
    def _run_text(run: BackupRun) -> str:
        snap = run.snapshot()
        return "\n".join(f"{key}: {snap[key]}" for key in (
            "job", "id", "drive", "pool", "state", "error", "waiting", "started", "ended", "bytes", "tapes", "sets")
        ) + "\n"

    # ---- sending
    def send(self, event: str, subject: str, text: str) -> None:
        if event not in self.config.events:
            return
        subject = f"[tapeconsole {self.hostname}] {subject}"
        self.sent.append((event, subject))
        log.info("notify %s: %s", event, subject)
        if self.config.command:
            self._run_command(event, subject, text)
        if self.config.mail_to:
            self._mail(subject, text)

    def _run_command(self, event: str, subject: str, text: str) -> None:
        env = {**os.environ, "TAPECONSOLE_EVENT": event, "TAPECONSOLE_SUBJECT": subject}
        try:
            done = subprocess.run(self.config.command, shell=True, input=text.encode(), env=env, timeout=60,
                                  capture_output=True)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.error("notify command failed for %s: %s", event, exc)
            return
        if done.returncode != 0:
            err = done.stderr.decode(errors="replace").strip().splitlines()
            log.error("notify command exited %d for %s: %s", done.returncode, event, err[-1] if err else "")

    def _mail(self, subject: str, text: str) -> None:
        cfg = self.config
        message = EmailMessage()
        message["From"] = cfg.mail_from
        message["To"] = ", ".join(cfg.mail_to)
        message["Subject"] = subject
        message.set_content(text)
        try:
            with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=30) as smtp:
                if cfg.smtp_starttls:
                    smtp.starttls()
                if cfg.smtp_user:
                    password = cfg.smtp_password_file.read_text().strip() if cfg.smtp_password_file else ""
                    smtp.login(cfg.smtp_user, password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("notify mail to %s via %s:%d failed: %s", ", ".join(cfg.mail_to), cfg.smtp_host,
                      cfg.smtp_port, exc)

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()


def drive_lines(runs: list[dict[str, Any]]) -> list[str]:
    """Whether each drive streamed, per run that wrote to it: its rate onto tape, underruns, CPU."""
    by_drive: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        if run.get("tape_rate") is not None:
            by_drive.setdefault(run.get("drive") or "?", []).append(run)
    if not by_drive:
        return []
    lines = ["", "Drives:"]
    for drive, drive_runs in sorted(by_drive.items()):
        for run in drive_runs:
            streamed = run.get("streamed")
            verdict = "streamed" if streamed else "did not stream (shoe-shine)" if streamed is False else "?"
            floor = run.get("floor_rate")
            below = floor is not None and run["tape_rate"] < floor
            lines.append(
                f"  {drive:<6} {run['job']:<20} {verdict}: {run['tape_rate'] / 1e6:.1f} MB/s onto tape"
                + (f" (floor {floor / 1e6:.0f} MB/s)" if below else "")
                + f", {run.get('underruns', 0)} underrun(s) after the initial fill, "
                f"{run.get('cpu_seconds', 0.0):.1f} daemon CPU s"
                + (" (shared with runs at the same time)" if run.get("cpu_shared_with") else ""))
    return lines
