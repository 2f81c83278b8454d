"""A restore or verify run of the daemon (GET /v1/restores/{id}) in the operator's words.

While it runs: what it does now (positioning, reading, waiting for a tape to be inserted, and where that
tape is), bytes of the total, rate, time left, the member, the tapes in order. Once it ended: each member
restored and checked against the sha256 the inventory recorded, or why not, and where the data went.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.wire import units
from console.wire.states import FINISHED

Json = dict[str, Any]


@dataclass(frozen=True)
class Waiting:
    """The run waits for someone to insert a tape."""

    verb: str  # INSERT, or BRING BACK when it is offsite
    tape: str  # as the sticker or label reads
    drive: str
    where: str  # where it is now and what to do, in plain words
    wrong: str | None  # the wrong tape the daemon found (and ejected) last, said plainly


@dataclass(frozen=True)
class Outcome:
    ok: bool
    verdict: str  # one line: restored and verified, or what went wrong
    lines: list[str]  # one per member (or set, for a verify), then the notes
    where: str | None  # where the data is
    unchecked: bool  # a member's sha256 was not checked: a verify of the tape would


def finished(run: Json) -> bool:
    return run.get("state") in FINISHED


def _tape_record(name: str | None, tapes: list[Json]) -> Json | None:
    if not name:
        return None
    return next((t for t in tapes if name in (t.get("label"), t["barcode"])), None)


def _where_to_fetch(tape: Json | None, drive: str, generation: str) -> str:
    into = f"put it into drive {drive}{f' ({generation})' if generation else ''}"
    location = (tape or {}).get("location") or "unknown"
    if location == "shelf":
        return f"Take it from the shelf and {into}."
    if location.startswith("offsite"):
        vault = location.split(":", 1)[1] if ":" in location else "the vault"
        return f"It is offsite ({vault}): recall it from there, then {into}."
    if location == f"drive:{drive}":
        return f"It is in drive {drive}: the daemon is reading its label."
    if location.startswith("drive:"):
        return f"It is in drive {location.split(':', 1)[1]}: eject it there, then {into}."
    return f"Find it (the inventory says: {location}), then {into}."


def waiting(run: Json, tapes: list[Json], drives: list[Json]) -> Waiting | None:
    """What the run waits for, when it waits for a tape."""
    need = run.get("need")
    if run.get("state") != "waiting" or not need:
        return None
    name = run.get("need_tape") or run.get("tape") or "?"
    record = _tape_record(name, tapes)
    drive = run.get("drive") or "?"
    generation = next((d.get("generation") or "" for d in drives if d.get("name") == drive), "")
    wrong = None
    last_wrong = run.get("wrong_tape") or {}
    if last_wrong.get("wanted") in (run.get("need_tape"), name) and last_wrong.get("found"):
        found = last_wrong["found"]
        wrong = f"Drive {drive} got {found}, not {name}: it was ejected. Put {found} back on the shelf."
    verb = "BRING BACK" if ((record or {}).get("location") or "").startswith("offsite") else "INSERT"
    return Waiting(verb=verb, tape=name, drive=drive, where=_where_to_fetch(record, drive, generation), wrong=wrong)


def doing(run: Json) -> str:
    """What the run does now, one line."""
    state, drive, tape = run.get("state"), run.get("drive"), run.get("tape")
    what = "verify" if run.get("kind") == "verify" else "restore"
    if state == "queued":
        return f"Starting the {what} on drive {drive}…"
    if state == "waiting":
        return f"Waiting for tape {tape} in drive {drive}."
    if state in FINISHED:
        return f"The {what} is {state}."
    if not run.get("bytes"):
        if not tape:
            return f"Loading the tape into drive {drive}…"
        moves = (run.get("drive_reads") or {}).get("positioning") or []
        if moves:
            return f"Positioning tape {tape} in drive {drive} ({moves[-1]})…"
        return f"Loading and positioning tape {tape} in drive {drive}…"
    at = f", set {run['set']}" if run.get("set") else ""
    return f"Reading tape {tape} in drive {drive}{at}."


def figures(run: Json, width: int = 24) -> str:
    """The bar, percent, bytes of the total, rate and time left."""
    done, total = run.get("bytes") or 0, run.get("expected_bytes") or 0
    share = units.fraction(done, max(total, done)) if total else None
    parts = [units.bar(share, width), units.percent(share), f"{units.size(done)} of {units.size(total or None)}"]
    if run.get("state") == "running" and run.get("rate"):
        parts.append(units.rate(run["rate"]))
        if run.get("eta_seconds") is not None:
            parts.append(f"{units.duration(run['eta_seconds'])} left")
    return "  ".join(parts)


def member(run: Json, width: int = 72) -> str:
    name = run.get("member") or ""
    if not name:
        return ""
    return "Now: " + (name if len(name) <= width else "…" + name[-(width - 1):])


def tape_marks(run: Json) -> str:
    """The tapes of the plan in order: ✔ read, ▶ now, · still to come."""
    names = [t.get("label") or t["barcode"] for t in (run.get("plan") or {}).get("tapes") or []]
    if not names and run.get("tape"):
        names = [run["tape"]]
    if not names:
        return ""
    current = names.index(run["tape"]) if run.get("tape") in names else -1
    done = run.get("state") == "done"
    marks = []
    for index, name in enumerate(names):
        mark = "✔" if done or index < current else "▶" if index == current else "·"
        marks.append(f"{mark} {name}")
    return "Tapes: " + "   ".join(marks)


def _restored(result: Json, to: str | None, unchecked: bool) -> str:
    name = result["name"]
    if not result.get("ok"):
        return f"✘ {name}: {result.get('problem') or 'not restored'}"
    if "vdi" in result:
        how = "new VDI" if result.get("created", True) else "applied onto VDI"
        return f"✔ {name}: sha256 matches the manifest; in Xen Orchestra as {how} {result['vdi']}"
    if "files" in result:
        extra = [f"{result['replaced']} replaced"] if result.get("replaced") else []
        extra += [f"{result['refused']} refused"] if result.get("refused") else []
        check = "sha256 not checked (the archive was not read to its end)" if unchecked else \
            "sha256 matches the manifest"
        return (f"✔ {name}: {result['files']} file(s), {units.size(result.get('file_bytes'))} under {to}"
                + (f" ({', '.join(extra)})" if extra else "") + f"; {check}")
    return f"✔ {name} ({units.size(result.get('size'))}): sha256 matches the manifest"


def restore_outcome(run: Json) -> Outcome:
    request = run.get("request") or {}
    to, sr = request.get("to"), request.get("to_xo")
    notes = list(run.get("notes") or [])
    unchecked = bool(run.get("stopped_early"))
    results = run.get("results") or []
    lines = [_restored(r, to, unchecked) for r in results]
    lines += [f"✘ {r['name']}: refused: {r['why']}" for r in run.get("refused") or []]
    plan = run.get("plan") or {}
    lines += [f"✘ {u['name']}: cannot be restored: {u['why']}" for u in plan.get("unrestorable") or []]
    lines += [f"· {n}" for n in notes]  # the run's loads and ejects come apart (tape_moves): not news at the end
    asked = plan.get("member_count", len(results))
    good = sum(1 for r in results if r.get("ok"))
    state = run.get("state")
    if state == "done" and run.get("ok"):
        verdict = (f"Restored: {good} of {asked} member(s). " + (
            "The files asked for came out before the end of the archive, so its sha256 was not checked: "
            "press v to verify the tape." if unchecked else "Each one's sha256 matches the manifest."))
    elif state == "done":
        verdict = f"Not everything was restored: {good} of {asked} member(s). See below why."
    elif state == "cancelled":
        verdict = f"Cancelled ({run.get('error') or 'by the operator'}). {good} of {asked} member(s) were restored."
    elif state == "interrupted":
        verdict = f"Interrupted: {run.get('error')}. {good} of {asked} member(s) had been restored."
    else:
        verdict = f"The restore failed: {run.get('error') or 'see below'}."
    where = None
    if good and to:
        where = f"The restored data is in {to} on the backup server."
    elif good and sr:
        where = f"The disks are in Xen Orchestra, on SR {sr}."
    return Outcome(ok=state == "done" and bool(run.get("ok")), verdict=verdict, lines=lines, where=where,
                   unchecked=unchecked and state == "done")


def verify_outcome(run: Json) -> Outcome:
    lines = []
    for r in run.get("results") or []:
        head = f"set {r['set']} on {r.get('tape')} (tape file {r['file']})"
        if r.get("ok"):
            lines.append(f"✔ {head}: intact, {r['matching']} of {r['members']} member(s) match the manifest")
        else:
            why = r.get("error") or "; ".join(f"{b['name']}: {b['why']}" for b in (r.get("bad") or [])[:3])
            lines.append(f"✘ {head}: {r['state']}: {why}")
    if run.get("state") == "done" and run.get("ok"):
        verdict = "Verified: every member on tape matches the sha256 of the manifest."
    elif run.get("state") == "done":
        verdict = "The verify found damage: see below."
    else:
        verdict = f"The verify {run.get('state')}: {run.get('error') or 'see below'}."
    return Outcome(ok=run.get("state") == "done" and bool(run.get("ok")), verdict=verdict, lines=lines, where=None,
                   unchecked=False)


def outcome(run: Json) -> Outcome:
    return verify_outcome(run) if run.get("kind") == "verify" else restore_outcome(run)


def verify_targets(run: Json) -> list[tuple[str, int]]:
    """(tape, set) of each set a restore read, for POST /v1/verify."""
    found: list[tuple[str, int]] = []
    for tape in (run.get("plan") or {}).get("tapes") or []:
        for s in tape.get("sets") or []:
            found.append((tape.get("label") or tape["barcode"], s["set"]))
    return found
