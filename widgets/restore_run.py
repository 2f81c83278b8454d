"""Following a restore in the daemon: its progress, the tape to insert in big plain words, then the result.

The panel polls GET /v1/restores/{id} at a modest rate in an async worker (the UI never waits on it),
draws what the run does now, and once it ended what each member came to. After a restore that did not
read every sha256 (the files asked for came out before the archive's end) it can verify the sets read
(POST /v1/verify, one tape after the other) and shows that result too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from console.client import restore_follow as follow
from console.client.daemon_client import DaemonError, DaemonUnavailable
from console.client.restore_request import command
from widgets.big_text import BigText
from widgets.console_host import ConsoleHost, host_of

Json = dict[str, Any]
POLL_SECONDS = 1.0
UNANSWERED_SECONDS = 3.0  # the daemon did not answer: ask again after this
CANCELLING = "Cancelling: the daemon stops at the next block…"
ASKING_AGAIN = ". Asking again…"


def refusal(exc: DaemonError | DaemonUnavailable) -> str:
    """The daemon's answer to a refused request, as one line to show."""
    if isinstance(exc, DaemonUnavailable):
        return f"The daemon does not answer: {exc}"
    if exc.status >= 500:
        return f"The daemon failed: {exc}"
    return f"Refused: {exc}"  # the reason in words; the HTTP status is for the logs, not the operator


class RestoreRunPanel(VerticalScroll, can_focus=True):
    """One restore (and the verifies after it) as the daemon runs it."""

    DEFAULT_CSS = """
    RestoreRunPanel {
        height: 1fr;
        #run-title { text-style: bold; margin-bottom: 1; }
        #run-verb { color: $accent; margin-bottom: 1; }
        #run-tape { margin-bottom: 1; }
        #run-where { text-style: bold; }
        #run-wrong { color: $error; text-style: bold; }
        #run-state { text-style: bold; }
        #run-verdict { text-style: bold; margin-bottom: 1; }
        #run-verdict.-ok { color: $success; }
        #run-verdict.-bad { color: $error; }
        #run-where-data { text-style: bold; margin-bottom: 1; }
        #run-problem { color: $error; }
        #run-keys { text-style: bold; color: $accent; margin-top: 1; }
        #run-hint { color: $foreground-muted; margin-top: 1; }
    }
    """

    class Changed(Message):
        """The run moved on: a new state, or it (and every verify after it) ended."""

        def __init__(self, run: Json, ended: bool) -> None:
            super().__init__()
            self.run = run
            self.ended = ended

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.what = ""  # the walkthrough's words for what is restored
        self.restore: Json | None = None  # the restore run, as last seen
        self.current: Json | None = None  # the run followed now: the restore, then each verify
        self.verifies: list[Json] = []
        self.verify_queue: list[tuple[str, int]] = []
        self.problem: str | None = None

    @property
    def console(self) -> ConsoleHost:
        return host_of(self.app)

    def compose(self) -> ComposeResult:
        yield Static("", id="run-title", markup=False)
        yield BigText("", id="run-verb")
        yield BigText("", id="run-tape")
        yield Static("", id="run-where", markup=False)
        yield Static("", id="run-wrong", markup=False)
        yield Static("", id="run-state", markup=False)
        yield Static("", id="run-figures", markup=False)
        yield Static("", id="run-member", markup=False)
        yield Static("", id="run-verdict", markup=False)
        yield Static("", id="run-where-data", markup=False)
        yield Static("", id="run-lines", markup=False)
        yield Static("", id="run-tapes", markup=False)
        yield Static("", id="run-problem", markup=False)
        yield Static("", id="run-keys", markup=False)
        yield Static("", id="run-hint", markup=False)

    # ---- what the screen asks
    @property
    def running(self) -> bool:
        return self.current is not None and not follow.finished(self.current)

    @property
    def ended(self) -> bool:
        return self.current is not None and follow.finished(self.current) and not self.verify_queue

    @property
    def can_verify(self) -> bool:
        """The restore ended and left a sha256 unchecked, and no verify ran yet."""
        if not self.ended or self.restore is None or self.verifies:
            return False
        return follow.outcome(self.restore).unchecked and bool(follow.verify_targets(self.restore))

    def follow(self, run: Json, what: str = "") -> None:
        """Follow a run the daemon just started (its 202 answer) or one found running."""
        self.what = what
        self.restore = run if run.get("kind") != "verify" else None
        self.verifies, self.verify_queue, self.problem = [], [], None
        self._take(run)
        self._follow_runs(run)

    def verify(self) -> None:
        """Verify every set the restore read, one tape after the other."""
        if not self.can_verify or self.restore is None:
            return
        self.verify_queue = follow.verify_targets(self.restore)
        self.problem = None
        self._verify_next()

    async def cancel(self) -> None:
        """Ask the daemon to cancel the run followed now (it stops at the next block)."""
        if self.current is None or not self.running:
            return
        try:
            run = await self.console.link.post(f"/restores/{self.current['id']}/cancel")
        except (DaemonError, DaemonUnavailable) as exc:
            self.problem = f"Cannot cancel: {refusal(exc)}"
            self.verify_queue = []
            self.draw()
            return
        self.verify_queue = []
        self.problem = CANCELLING
        self._take(run)

    # ---- polling
    @work(exclusive=True, group="restore-follow")
    async def _follow_runs(self, run: Json) -> None:
        run_id = run["id"]
        while True:
            try:
                run = await self.console.link.get(f"/restores/{run_id}")
            except DaemonUnavailable as exc:
                self.problem = f"{refusal(exc)}{ASKING_AGAIN}"
                self.draw()
                await asyncio.sleep(max(UNANSWERED_SECONDS, self._pause()))
                continue
            except DaemonError as exc:
                self.problem = f"Cannot follow run {run_id}: {refusal(exc)}"
                self.draw()
                return
            self._take(run)
            if follow.finished(run):
                if self.verify_queue:
                    self._verify_next()
                return
            await asyncio.sleep(self._pause())

    @work(exclusive=True, group="restore-verify")
    async def _verify_next(self) -> None:
        tape, set_id = self.verify_queue[0]  # stays queued until the daemon took it: the panel is not 'ended'
        try:
            run = await self.console.link.post("/verify", {"tape": tape, "set": set_id})
        except (DaemonError, DaemonUnavailable) as exc:
            self.problem = f"Cannot verify tape {tape}: {refusal(exc)}"
            self.verify_queue = []
            self.draw()
            self.post_message(self.Changed(self.current or {}, self.ended))
            return
        self.verify_queue.pop(0)
        self._take(run)
        self._follow_runs(run)

    def _pause(self) -> float:
        return min(POLL_SECONDS, self.console.poller.busy_seconds)

    def _take(self, run: Json) -> None:
        before = (self.current or {}).get("id"), (self.current or {}).get("state")
        if self.problem and (self.problem.endswith(ASKING_AGAIN) or self.problem == CANCELLING
                             and follow.finished(run)):
            self.problem = None  # it answers again; the cancel took
        self.current = run
        if run.get("kind") == "verify":
            self.verifies = [v for v in self.verifies if v["id"] != run["id"]] + [run]
        else:
            self.restore = run
        self.draw()
        if (run.get("id"), run.get("state")) != before or self.ended:
            self.post_message(self.Changed(run, self.ended))

    # ---- drawing
    def draw(self) -> None:
        run = self.current
        if run is None:
            return
        snapshot = self.console.snapshot
        waiting = follow.waiting(run, snapshot.tapes, snapshot.drives)
        over = self.ended
        self.query_one("#run-title", Static).update(self._title(run))
        verb, tape = self.query_one("#run-verb", BigText), self.query_one("#run-tape", BigText)
        for name in ("#run-verb", "#run-tape", "#run-where", "#run-wrong"):
            self.query_one(name).display = waiting is not None
        if waiting is not None:
            verb.text = waiting.verb
            tape.text = waiting.tape
            self.query_one("#run-where", Static).update(
                f"{waiting.where}\nThe {run.get('kind', 'restore')} goes on by itself once the daemon has read "
                "the tape's label.")
            self.query_one("#run-wrong", Static).update(waiting.wrong or "")
            self.query_one("#run-wrong").display = bool(waiting.wrong)
        for name in ("#run-state", "#run-figures", "#run-member"):
            self.query_one(name).display = not over and waiting is None
        if not over:
            self.query_one("#run-state", Static).update(follow.doing(run))
            self.query_one("#run-figures", Static).update(follow.figures(run) if waiting is None else "")
            self.query_one("#run-member", Static).update(follow.member(run) if waiting is None else "")
        marks = self.query_one("#run-tapes", Static)
        marks.update(follow.tape_marks(run) if not over else "")
        marks.display = not over
        self._draw_result(over)
        problem = self.query_one("#run-problem", Static)
        problem.update(self.problem or "")
        problem.display = bool(self.problem)
        self.query_one("#run-keys", Static).update(self._keys(over))
        hint = self.query_one("#run-hint", Static)
        hint.update(self._hint(run) if over else "")
        hint.display = over

    def _title(self, run: Json) -> str:
        if run.get("kind") == "verify":
            return f"Verify {run.get('title', '').removeprefix('verify ')} (run {run['id']}, drive {run.get('drive')})"
        request = run.get("request") or {}
        to = f"folder {request['to']}" if request.get("to") else f"Xen Orchestra SR {request.get('to_xo')}"
        return f"Restore {self.what or 'set ' + str(request.get('set'))} into {to} (run {run['id']})"

    def _draw_result(self, over: bool) -> None:
        verdict = self.query_one("#run-verdict", Static)
        where = self.query_one("#run-where-data", Static)
        lines = self.query_one("#run-lines", Static)
        for widget in (verdict, where, lines):
            widget.display = over and self.restore is not None
        if not over or self.restore is None:
            return
        result = follow.outcome(self.restore)
        texts, ok = [result.verdict], result.ok
        body = list(result.lines)
        for run in self.verifies:
            checked = follow.outcome(run)
            texts.append(checked.verdict)
            ok = ok and checked.ok
            body += checked.lines
        verdict.update("\n".join(texts))
        verdict.set_class(ok, "-ok")
        verdict.set_class(not ok, "-bad")
        where.update(result.where or "")
        where.display = bool(result.where)
        lines.update("\n".join(body))

    def _keys(self, over: bool) -> str:
        if not over:
            return "c: cancel   Esc: leave it running (the daemon goes on without the console)"
        return ("v: verify the tape   " if self.can_verify else "") + "n: another restore   Esc: close"

    def _hint(self, run: Json) -> str:
        request = run.get("request") or {}
        if run.get("kind") == "verify":
            return f"From the command line: tapeconsole verify {request.get('tape')} --set {request.get('set')} --wait"
        if "set" not in request:
            return ""
        return f"From the command line: {command(request)}"
