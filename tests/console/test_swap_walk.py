"""The tape swap's model without a screen: the phases each step starts in, doing each phase with the daemon
(a fake that answers or refuses), skipping, the end, and what the onsite person reads."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from console.client.daemon_client import DaemonError, DaemonUnavailable
from console.client.poller import Snapshot
from console.client.swap_list import BringBack, Recalled, SwapPlan, plan_from_answer
from console.client.swap_walk import Step, SwapWalk
from console.wire.swap_list import PutIn, TakeOut
from tests.console.fake_daemon import recording

Json = dict[str, Any]
RECALL = [
    {"barcode": "DEM007L5", "label": "DEM007L5", "vault": "bank-safe", "night": "2026-12-12", "job": "nightly-vdi"},
    {"barcode": "DEM008L5", "label": None, "vault": "bank-safe", "night": "2026-12-13", "job": "nightly-vdi"},
]


class Daemon:
    """Answers POSTs from `replies` (an exception is raised), keeps what was posted."""

    def __init__(self, **replies: Any) -> None:
        self.replies = {path.replace("_", "/"): reply for path, reply in replies.items()}
        self.posts: list[tuple[str, Json | None]] = []

    async def post(self, path: str, body: Json | None) -> Any:
        self.posts.append((path, body))
        reply = self.replies.get(path.strip("/"), {"ok": True})
        if isinstance(reply, Exception):
            raise reply
        return reply


class Look:
    """The poller's last snapshot, changed by a test as the daemon would change it."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.snapshot = Snapshot(drives=answers["/drives"], tapes=answers["/tapes"], tick=1)

    def __call__(self) -> Snapshot:
        return self.snapshot

    def tape(self, barcode: str, **fields: Any) -> None:
        next(t for t in self.snapshot.tapes if t["barcode"] == barcode).update(fields)

    def drive(self, name: str, **fields: Any) -> None:
        for d in self.snapshot.drives:
            if d["name"] == name:
                d.update(fields)


def morning() -> tuple[dict[str, Any], Look]:
    answers = copy.deepcopy(recording("morning"))
    return answers, Look(answers)


def walk_of(answers: dict[str, Any], look: Look, plan: SwapPlan | None = None) -> SwapWalk:
    walk = SwapWalk(plan, look)
    if plan is None:
        walk.plan_answered(answers["/swap-list"])
    assert walk.start()
    return walk


def put_in(barcode: str, drive: str, label: str | None = None, location: str = "shelf") -> PutIn:
    return PutIn(barcode, label, drive, "nightly-vdi", "", "restore", location, False)


def drive_read(name: str, barcode: str, label: str | None = None) -> Json:
    return {"name": name, "loaded": barcode, "label": label, "blank": label is None, "warning": None}


# ---- the plan
def test_without_a_plan_it_waits_then_says_why_and_starts_once_the_daemon_was_seen() -> None:
    answers, look = morning()
    walk = SwapWalk(None, look)
    walk.asking_for_plan()
    view = walk.view()
    assert (view.progress, view.verb, view.where, view.keys) == (
        "Tape swap", "WAIT", "Asking the daemon which tapes to swap…", "Esc: close")
    walk.plan_refused("the recording has no answer for GET /swap-list")
    view = walk.view()
    assert view.where == "The daemon could not say which tapes to swap: the recording has no answer for GET /swap-list"
    assert (view.result, view.keys) == ("Press r to ask again, or tell the operator.", "r: ask again   Esc: close")
    assert not walk.start() and walk.start_over()  # the daemon's list is asked for again
    walk.plan_answered(answers["/swap-list"])
    look.snapshot = replace(look.snapshot, error="the daemon does not answer")
    assert not walk.start() and walk.steps == []
    look.snapshot = replace(look.snapshot, error=None, tick=0)
    assert not walk.start()
    look.snapshot = replace(look.snapshot, tick=2)
    assert walk.start() and len(walk.steps) == 6 and not walk.start()


def test_an_empty_plan_has_nothing_to_swap_and_its_notes_say_why() -> None:
    _, look = morning()
    walk = SwapWalk(SwapPlan((), (), ("No pool has a tape to spare.",)), look)
    assert walk.start() and walk.steps == [] and walk.at_end and not walk.complete
    view = walk.view()
    assert (view.progress, view.verb, view.where) == ("Tape swap: nothing to do", "NOTHING TO SWAP",
                                                      "No pool has a tape to spare.")
    assert not walk.start_over()  # a list of its own (the restore's) is never asked of the daemon


# ---- the phases each step starts in
def test_steps_go_out_then_back_then_in_and_each_starts_from_where_its_tape_is() -> None:
    answers, look = morning()
    answers["/swap-list"]["recall"] = RECALL
    look.drive("lto5", loaded="DEM001L5", label="DEM001L5")
    walk = walk_of(answers, look)
    kinds = [type(s.item).__name__ for s in walk.steps]
    assert kinds == ["TakeOut"] * 4 + ["BringBack"] + ["PutIn"] * 2
    assert walk.steps[0].phase == "eject"  # still in lto5
    view = walk.view()
    assert (view.verb, view.tape) == ("EJECT", "DEM001L5") and "Drive lto5 (LTO-5) still holds it" in view.where
    assert view.progress == "Tape swap: step 1 of 7" and view.keys == "Enter: done   s: skip this step   Esc: stop"
    assert view.checklist.startswith("▶ DEM001L5 → offsite   · DEM101L4 → offsite")
    assert "· 2 from bank-safe → shelf   · DEM003L5 → drive lto5" in view.checklist
    for index in (1, 4, 5):
        walk.begin(walk.steps[index])
    assert [walk.steps[i].phase for i in (1, 4, 5)] == ["take", "recall", "clear"]  # lto5 holds DEM001L5
    assert walk.steps[5].found == "DEM001L5" and walk.steps[4].name == "2 TAPES"


def test_an_insert_starts_from_offsite_from_the_right_tape_in_the_drive_or_from_an_empty_drive() -> None:
    answers, look = morning()
    plan = SwapPlan((), (put_in("DEM002L5", "lto5", "DEM002L5", "offsite:offsite-vault"),
                         put_in("DEM101L4", "lto4", "DEM101L4"), put_in("DEM102L4", "lto4", "DEM102L4")), ())
    look.drive("lto4", loaded="DEM101L4", label="DEM101L4")
    look.tape("DEM002L5", location="offsite:offsite-vault")  # where the inventory says it is counts
    walk = walk_of(answers, look, plan)
    fetch, judged, clear = walk.steps
    assert fetch.phase == "fetch" and walk.words(fetch)[:2] == ("BRING BACK", "DEM002L5")
    assert "It is offsite (offsite-vault)" in walk.words(fetch)[2]
    walk.begin(judged)
    assert judged.phase == "correct" and judged.result == "Correct: drive lto4 reads DEM101L4."
    walk.begin(clear)
    assert (clear.phase, clear.found) == ("clear", "DEM101L4") and walk.words(clear)[:2] == ("EJECT", "DEM101L4")
    look.drive("lto4", loaded=None, label=None)
    walk.begin(clear)
    assert clear.phase == "insert" and walk.words(clear)[0] == "INSERT"


# ---- doing each phase with the daemon
async def test_taking_out_reports_the_move_and_goes_on() -> None:
    answers, look = morning()
    look.drive("lto5", loaded="DEM001L5", label="DEM001L5")
    walk, daemon = walk_of(answers, look), Daemon()
    shown: list[str] = []
    await walk.do_step(walk.steps[0], daemon.post, lambda: shown.append(walk.steps[0].result))
    assert shown == ["Working…"] and daemon.posts == [("/drives/lto5/eject", None)]
    assert (walk.steps[0].phase, walk.steps[0].result, walk.current) == ("take", "Ejected.", 0)
    await walk.do_step(walk.steps[0], daemon.post)
    assert daemon.posts[-1] == ("/swaps", {"barcode": "DEM001L5", "direction": "out", "verdict": "moved",
                                           "drive": "lto5"})
    assert walk.steps[0].phase == "done" and walk.current == 1 and not walk.busy


async def test_a_refused_step_stays_says_why_and_only_the_tapes_not_yet_reported_are_reported_again() -> None:
    answers, look = morning()
    answers["/swap-list"].update(take_out=[], recall=RECALL)
    walk = walk_of(answers, look)
    step = walk.steps[0]
    assert isinstance(step.item, BringBack) and step.item.tapes[1] == Recalled("DEM008L5", None, "2026-12-13",
                                                                              "nightly-vdi")

    class Once(Daemon):
        async def post(self, path: str, body: Json | None) -> Any:
            if body and body["barcode"] == "DEM008L5" and not any(b and b["barcode"] == "DEM008L5"
                                                                  for _, b in self.posts):
                self.posts.append((path, body))
                raise DaemonError(409, "no tape DEM008L5 in the inventory")
            return await super().post(path, body)

    daemon = Once()
    await walk.do_step(step, daemon.post)
    assert step.phase == "recall" and walk.current == 0 and step.reported == {"DEM007L5"}
    assert step.result == ("That did not work: no tape DEM008L5 in the inventory. Press Enter to try again, or ask "
                           "the operator.")
    await walk.do_step(step, daemon.post)
    assert [b["barcode"] for _, b in daemon.posts] == ["DEM007L5", "DEM008L5", "DEM008L5"]
    assert step.phase == "done" and walk.current == 1


async def test_an_insert_reads_the_label_back_and_a_correct_tape_is_reported_once() -> None:
    answers, look = morning()
    walk = walk_of(answers, look, SwapPlan((), (put_in("DEM003L5", "lto5"),), ()))
    step = walk.steps[0]
    phases: list[str] = []
    daemon = Daemon(drives_lto5_load=drive_read("lto5", "DEM003L5"))
    await walk.do_step(step, daemon.post, lambda: phases.append(step.phase))
    assert phases == ["insert", "reading"]
    assert daemon.posts == [("/drives/lto5/load", {"barcode": "DEM003L5"}),
                            ("/swaps", {"barcode": "DEM003L5", "direction": "in", "verdict": "correct",
                                        "drive": "lto5", "found": "DEM003L5"})]
    view = walk.view()
    assert (view.verb, view.verdict, view.result) == ("CORRECT", "correct", "")
    assert view.where == "Correct: drive lto5 holds DEM003L5, blank as expected.\nPress Enter for the next step."
    await walk.do_step(step, daemon.post)
    assert len(daemon.posts) == 2 and step.phase == "done" and walk.at_end and walk.complete
    view = walk.view()
    assert (view.progress, view.verb, view.verdict) == ("Tape swap: finished", "ALL DONE", None)
    assert view.where.startswith("0 tape(s) went to the offsite box, 1 tape(s) are in their drives.")
    assert view.keys == "Enter or Esc: close" and view.checklist == "✔ DEM003L5 → drive lto5"


async def test_a_correct_tape_the_daemon_did_not_record_is_loaded_again() -> None:
    answers, look = morning()
    walk = walk_of(answers, look, SwapPlan((), (put_in("DEM003L5", "lto5"),), ()))
    step = walk.steps[0]
    daemon = Daemon(drives_lto5_load=drive_read("lto5", "DEM003L5"), swaps=DaemonUnavailable("connection refused"))
    await walk.do_step(step, daemon.post)
    assert step.phase == "insert" and step.reported == set()
    assert step.result.startswith("That did not work: connection refused.")


async def test_a_wrong_tape_is_named_reported_ejected_and_asked_for_again() -> None:
    answers, look = morning()
    walk = walk_of(answers, look, SwapPlan((), (put_in("DEM103L4", "lto4"),), ()))
    step = walk.steps[0]
    daemon = Daemon(drives_lto4_load=drive_read("lto4", "DEM103L4", label="DEM001L5"))
    await walk.do_step(step, daemon.post)
    assert daemon.posts[-1] == ("/swaps", {"barcode": "DEM103L4", "direction": "in", "verdict": "wrong",
                                           "drive": "lto4", "found": "DEM001L5"})
    view = walk.view()
    assert (view.verb, view.tape, view.verdict) == ("WRONG TAPE", "DEM001L5", "wrong")
    assert "reads DEM001L5, but DEM103L4 should be blank" in view.where and view.where.endswith("Then insert DEM103L4.")
    assert step.reported == set()  # a wrong tape confirms nothing
    await walk.do_step(step, daemon.post)
    assert daemon.posts[-1] == ("/drives/lto4/eject", None)
    assert (step.phase, step.result) == ("insert", "Ejected DEM001L5. Put it back on the shelf.")


async def test_a_wrong_tape_whose_report_failed_says_both() -> None:
    answers, look = morning()
    walk = walk_of(answers, look, SwapPlan((), (put_in("DEM103L4", "lto4"),), ()))
    step = walk.steps[0]
    daemon = Daemon(drives_lto4_load=drive_read("lto4", "DEM103L4", label="DEM001L5"),
                    swaps=DaemonError(500, "disk full"))
    await walk.do_step(step, daemon.post)
    first, second = step.result.split("\n")
    assert step.phase == "wrong" and first.startswith("Wrong tape: drive lto4 reads DEM001L5")
    assert second.startswith("That did not work: disk full.")


async def test_a_load_that_failed_stays_on_insert() -> None:
    answers, look = morning()
    walk = walk_of(answers, look, SwapPlan((), (put_in("DEM003L5", "lto5"),), ()))
    daemon = Daemon(drives_lto5_load=DaemonError(409, "drive lto5 is busy"))
    await walk.do_step(walk.steps[0], daemon.post)
    assert walk.steps[0].phase == "insert" and "drive lto5 is busy" in walk.view().result


async def test_a_tape_fetched_from_offsite_is_recorded_back_then_the_drive_is_cleared() -> None:
    answers, look = morning()
    look.drive("lto5", loaded="DEM001L5", label="DEM001L5")
    look.tape("DEM002L5", location="offsite:v")
    walk = walk_of(answers, look, SwapPlan((), (put_in("DEM002L5", "lto5", "DEM002L5", "offsite:v"),), ()))
    step = walk.steps[0]
    daemon = Daemon()
    await walk.do_step(step, daemon.post)
    assert daemon.posts == [("/swaps", {"barcode": "DEM002L5", "direction": "back", "verdict": "moved"})]
    assert (step.phase, step.found, step.result) == ("clear", "DEM001L5", "Recorded: it is back on the shelf.")
    await walk.do_step(step, daemon.post)
    assert step.phase == "insert" and daemon.posts[-1] == ("/drives/lto5/eject", None)


# ---- skipping, and the end
def test_skipped_steps_are_passed_over_and_named_at_the_end() -> None:
    answers, look = morning()
    walk = walk_of(answers, look)
    walk.steps[2].phase = "done"  # done already (another console): passed over
    assert walk.skip() and walk.current == 1 and walk.skip() and walk.current == 3
    assert walk.view().checklist.startswith("– DEM001L5 → offsite   – DEM101L4 → offsite   ✔ DEM002L5 → offsite   ▶")
    walk.busy = True
    assert not walk.skip() and walk.current == 3
    walk.busy = False
    while walk.skip():
        pass
    assert walk.at_end and not walk.complete and not walk.skip()
    view = walk.view()
    assert view.verb == "ALL DONE" and view.result.startswith("Skipped: DEM001L5, DEM101L4, DEM102L4, DEM003L5")
    assert view.where.startswith("1 tape(s) went to the offsite box, 0 tape(s) are in their drives.")


def test_the_plans_notes_follow_the_step_count() -> None:
    answers, look = morning()
    answers["/swap-list"]["notes"] = ["Pool files-daily has no tape to spare."]
    walk = walk_of(answers, look)
    assert walk.view().progress == "Tape swap: step 1 of 6   (Pool files-daily has no tape to spare.)"
    assert [type(s) for s in walk.steps] == [Step] * 6
    assert isinstance(plan_from_answer(answers["/swap-list"]).take_out[0], TakeOut)


def test_a_relabelled_tape_is_named_by_its_sticker_with_the_label_beside_it() -> None:
    answers, look = morning()
    out = TakeOut("DEM004L5", "NIGHTLY-3", "lto5", "nightly-vdi", "vdi-daily", "bank-safe", False, None)
    walk = walk_of(answers, look, SwapPlan((out,), (put_in("DEM003L5", "lto5", "WEEKLY-1"),), ()))
    view = walk.view()
    assert view.tape == "DEM004L5"  # the big name is what the cartridge's sticker reads
    assert view.where.startswith("Sticker DEM004L5, label NIGHTLY-3.")
    assert "DEM004L5 (label NIGHTLY-3) → offsite" in view.checklist
    assert "DEM003L5 (label WEEKLY-1) → drive lto5" in view.checklist


def test_the_swap_list_command_names_the_sticker_first() -> None:
    from console.cli.render import swap_list

    text = swap_list({"day": "2026-12-01", "take_out": [{"barcode": "DEM004L5", "label": "NIGHTLY-3", "pool": "p",
                                                         "vault": "v", "expires": None}],
                      "put_in": [], "recall": [], "lookahead_nights": 3, "shortages": [], "notes": []})
    assert "  DEM004L5 (label NIGHTLY-3) pool p: to v (kept forever)" in text
