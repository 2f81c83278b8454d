"""The capacity plan: for each job, tonight's expected size against the tape it gets, its nights so far and
the forecast drawn against one tape, and the sentences saying when it outgrows the tape and what would help.

The daemon works the plan out (GET /v1/plan: XO calls and tree walks, in its own thread); the screen asks
for it in an async worker, so the console keeps answering while it waits. `r` asks for a fresh plan.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from console.client.daemon_client import DaemonError, DaemonUnavailable
from console.wire.plan_words import size
from widgets.capacity_chart import CapacityChart
from widgets.console_host import ConsoleHost, host_of

Json = dict[str, Any]
PLAN_TIMEOUT = 300.0  # the daemon may call XO and walk file trees
VERDICT_STYLE = {"fits": "$success", "tight": "$warning", "spills": "$error", "no tape": "$error",
                 "unknown": "$foreground-muted"}


def _nights(points: list[Json]) -> list[tuple[date, float]]:
    return [(date.fromisoformat(p["night"]), float(p["bytes"])) for p in points]


def summary(job: Json) -> Content:
    """Two lines: the job and its run; the expected size, the tape, the room and the verdict."""
    estimate, space = job["estimate"], job["space"]
    tape = space.get("tape") or {}
    expected = size(estimate["bytes"]) if estimate["bytes"] is not None else "unknown"
    if estimate["bytes"] is not None and not estimate["exact"]:
        expected = "~" + expected
    when = job.get("next_run")
    run = f"next run {when[5:10]} {when[11:16]}" if when else "no schedule"
    return Content.from_markup(
        "[b]$job[/b]  [$foreground-muted]$source · $drive · pool $pool · $run[/]\n"
        f"expected [b]$expected[/b] on [b]$tape[/b] ($room of room): [{VERDICT_STYLE.get(space['verdict'], '')}]"
        "[b]$verdict[/b][/]",
        job=job["job"], source=job["source"], drive=job["drive"], pool=job["pool"], run=run, expected=expected,
        tape=tape.get("label") or tape.get("barcode") or "no tape",
        room=size(space["room"]) if space.get("room") is not None else "no",
        verdict=space["verdict"] + (f" onto {space['tapes_needed'] - 1} more" if space["verdict"] == "spills" else ""),
    )


def details(job: Json) -> str:
    estimate = job["estimate"]
    lines = [f"estimate: {estimate['error'] or estimate['basis']}", f"tape: {job['space']['text']}",
             job["sentence"]]
    return "\n".join(lines)


class JobPlan(Vertical):
    """One job: its summary, its chart, the sentences."""

    def __init__(self, job: Json, today: date) -> None:
        super().__init__(classes="plan-job")
        self.job = job
        self.today = today

    def compose(self) -> ComposeResult:
        job, forecast = self.job, self.job["forecast"]
        yield Static(summary(job), classes="plan-summary")
        yield CapacityChart(_nights(job["history"]), _nights(forecast.get("projection") or []),
                            float(forecast["capacity"]), self.today, classes="plan-chart")
        legend = Content.from_markup(
            "[$success]▇[/] nights run  [$primary]▇[/] forecast  [$warning]─[/] one $gen tape, $cap usable",
            gen=forecast["generation"], cap=size(forecast["capacity"]))
        yield Static(legend, classes="plan-legend")
        yield Static(details(job), classes="plan-details", markup=False)


class PlanScreen(Screen[None]):
    CSS = """
    PlanScreen #plan-title { height: auto; padding: 0 1; background: $panel; }
    PlanScreen #plan-jobs { height: 1fr; padding: 0 1; }
    PlanScreen .plan-job { height: auto; margin-bottom: 1; }
    PlanScreen .plan-legend { color: $foreground-muted; }
    PlanScreen .plan-details { color: $text; }
    PlanScreen #plan-pools { height: auto; color: $text; }
    """
    BINDINGS = [
        Binding("escape,q", "leave", "close"),
        Binding("r", "fresh", "work it out again"),
        Binding("d", "app.demo", "demo", show=False),  # as on the dashboard
        Binding("d", "app.demo_why", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.plan: Json | None = None

    @property
    def console(self) -> ConsoleHost:
        return host_of(self.app)

    def compose(self) -> ComposeResult:
        yield Static("Capacity plan: asking the daemon (it estimates every job's source)…", id="plan-title",
                     markup=False)
        yield VerticalScroll(id="plan-jobs")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#plan-jobs").focus()
        self.load(fresh=False)

    @work(exclusive=True, group="plan")
    async def load(self, fresh: bool) -> None:
        try:
            plan = await self.console.link.request("GET", "/plan?fresh=1" if fresh else "/plan", timeout=PLAN_TIMEOUT)
        except (DaemonError, DaemonUnavailable) as exc:
            self.query_one("#plan-title", Static).update(f"Capacity plan: cannot get it: {exc}")
            return
        await self.show_plan(plan)

    async def show_plan(self, plan: Json) -> None:
        self.plan = plan
        today = date.fromisoformat(plan["today"])
        late = plan.get("will_not_fit") or []
        title = (f"Capacity plan of {plan['today']}, forecast to {plan['horizon']}: "
                 + (f"{', '.join(late)} will not fit tonight" if late else "every job fits tonight"))
        self.query_one("#plan-title", Static).update(title)
        box = self.query_one("#plan-jobs", VerticalScroll)
        await box.remove_children()
        widgets: list[Static | JobPlan] = [JobPlan(job, today) for job in plan["jobs"]]
        if not plan["jobs"]:
            widgets.append(Static("No job is configured ([jobs.NAME] in config.toml).", markup=False))
        if plan.get("pools"):
            widgets.append(Static("\n".join(p["sentence"] for p in plan["pools"]), id="plan-pools", markup=False))
        await box.mount_all(widgets)

    def action_fresh(self) -> None:
        self.query_one("#plan-title", Static).update("Capacity plan: working it out again…")
        self.load(fresh=True)

    def action_leave(self) -> None:
        self.app.pop_screen()
