"""The restore walkthrough as a plain state model: its steps, what is chosen so far, going on and back, what
each step shows (its question, its choices, its problem line) and the restore request it ends in.

Steps: what (a VM's disk, or a job's file tree), files (which files of a file tree), night (one run of the
job), tapes (the tapes needed and where they are), target (where to: a folder, or for a disk an SR of Xen
Orchestra), run (the daemon restores; the run panel follows it, and shows the result). The model asks the
daemon nothing: the screen fetches (GET /v1/restore-catalog, GET /v1/find, POST /v1/restores) and hands the
answers in; the step widgets draw what the model says. No Textual here.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Template
from typing import Any
from urllib.parse import urlencode

from console.client import restore_plan
from console.client import restore_request as ask
from console.client.restore_follow import finished
from console.client.restore_plan import Night, TapeNeed, Target
from console.wire import units
from console.wire.restore_catalog import RestoreCatalog
from console.wire.swap_list import PutIn
from console.wire.tape_names import sticker_first

Json = dict[str, Any]
STEP_NAMES = ("1 What", "2 Night", "3 Tapes", "4 Where to", "5 Restore", "6 Result")
STEP_OF = {"what": 0, "files": 0, "night": 1, "tapes": 2, "target": 3, "run": 4}
GOING_BACK = ("files", "night", "tapes", "target")  # the steps Esc goes back from (elsewhere it closes)
RESULT = 5  # the run step once the run ended
FIND_LIMIT = 200  # files listed while typing a path
MARKUP_TAG = re.compile(r"\[/?[^\]]*\]")


@dataclass(frozen=True)
class Words:
    """Words to show: `markup` is content markup whose $names are filled from `values` (as plain text)."""

    markup: str
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def plain(self) -> str:
        """The words without their styles."""
        return Template(MARKUP_TAG.sub("", self.markup)).substitute(self.values)


@dataclass(frozen=True)
class Choice:
    """One line of a step's list: `id` is what choosing it says (None: a line to read, not to choose)."""

    id: str | None
    words: Words
    disabled: bool = False


@dataclass(frozen=True)
class Status:
    """A step's status line: a problem is shown as one."""

    text: str = ""
    problem: bool = False


class RestoreWalk:
    def __init__(self, home: str | None = None) -> None:
        self.home = os.path.expanduser("~") if home is None else home  # where a restore's folder goes by default
        self.catalog: RestoreCatalog | None = None
        self.load_problem: str | None = None  # why the catalog could not be had
        self.targets: dict[str, Target] = {}
        self.running: Json | None = None  # a restore already running when the walkthrough opened
        self.step = "what"
        self.history: list[str] = []
        self.target: Target | None = None
        self.paths: list[str] = []  # globs inside a file tree; none: all of it
        self.path_text = ""  # the path as the operator chose it
        self.found: list[Json] = []  # the file index's rows for `paths`
        self.found_all = True  # `found` is every match (the search was not cut at its limit)
        self.rows: list[Json] = []  # the files listed under the path being typed, newest of each path
        self.rows_more = False
        self.files_status = Status()
        self.night: Night | None = None
        self.needs: list[TapeNeed] = []
        self.to_xo = False
        self.typed = {"folder": "", "xo": ""}
        self.target_problem = ""

    # ---- the catalog
    @property
    def sets(self) -> list[Json]:
        return self.catalog.sets if self.catalog else []

    @property
    def details(self) -> dict[int, Json]:
        return self.catalog.details if self.catalog else {}

    def load(self, catalog: RestoreCatalog) -> None:
        """The daemon's catalog: the targets to choose from, and the newest restore still running, to follow."""
        self.catalog, self.load_problem = catalog, None
        found = restore_plan.targets(catalog.sets, catalog.details, catalog.jobs)
        self.targets = {t.key: t for t in found}
        active = [r for r in catalog.restores if r.get("kind") == "restore" and not finished(r)]
        self.running = max(active, key=lambda r: r["id"]) if active else None

    def load_failed(self, why: str) -> None:
        self.load_problem = why

    def follow_running(self) -> Json | None:
        """The restore found running, once, when the walkthrough is still at its start: the run step shows it."""
        if self.running is None or self.step != "what":
            return None
        run, self.running = self.running, None
        self.go("run", remember=False)
        return run

    # ---- moving through the steps
    def go(self, step: str, *, remember: bool = True) -> None:
        if remember and step != self.step:
            self.history.append(self.step)
        self.step = step

    @property
    def can_go_back(self) -> bool:
        return self.step in GOING_BACK and bool(self.history)

    def back(self) -> bool:
        if not self.history:
            return False
        self.go(self.history.pop(), remember=False)
        return True

    def again(self) -> None:
        """Another restore: back to the first step, what was typed kept."""
        self.history, self.night, self.needs = [], None, []
        self.go("what", remember=False)

    def step_index(self, run_ended: bool = False) -> int:
        """The step the bar of step names marks: 0 to 5."""
        return RESULT if self.step == "run" and run_ended else STEP_OF[self.step]

    # ---- 1 What
    def what_choices(self) -> list[Choice]:
        if self.load_problem is not None:
            return [Choice(None, Words("Cannot list the backup sets: $why", {"why": self.load_problem}), True)]
        if self.catalog is None:
            return [Choice(None, Words("Looking for backup sets…"), True)]
        if not self.targets:
            return [Choice(None, Words("No backup set yet: run a backup first (b on the dashboard)."), True)]
        return [Choice(t.key, Words("[b]$title[/b]  [$foreground-muted]$kind · job $job[/]", {
            "title": t.title, "kind": t.kind.replace("-", " "), "job": t.job})) for t in self.targets.values()]

    def choose_target(self, key: str) -> None:
        """A VM's disk goes on to its nights; a file tree first asks which files."""
        self.target = self.targets[key]
        self.paths, self.path_text, self.found, self.found_all = [], "", [], True
        if self.target.kind == "file-tree":
            self.files_status = Status()
            self.go("files")
        else:
            self.go("night")

    # ---- 1 What: which files of a file tree
    def files_question(self) -> Words:
        assert self.target is not None
        return Words("Which files of the file tree of job [b]$job[/b]? Type a path or a glob inside the backup, "
                     "Enter to go on (empty: the whole tree). ↓ picks one of the files found.",
                     {"job": self.target.job})

    @staticmethod
    def find_pattern(text: str) -> str:
        """The pattern GET /v1/find is asked for ('' : the whole tree, nothing to find)."""
        return text.strip().lstrip("/")

    @staticmethod
    def find_path(text: str) -> str:
        return "/find?" + urlencode({"pattern": RestoreWalk.find_pattern(text), "limit": FIND_LIMIT})

    def rows_of(self, answer: Json) -> tuple[list[Json], bool]:
        """The target job's files of a GET /v1/find answer, and whether the search was cut at its limit."""
        job = self.target.job if self.target else None
        return [r for r in answer.get("files") or [] if r.get("job") == job], bool(answer.get("truncated"))

    def _job(self) -> str:
        return self.target.job if self.target else ""

    def files_listed(self, text: str, rows: list[Json], more: bool) -> None:
        """The files found while typing `text` (rows newest first): one line per path."""
        newest: dict[str, Json] = {}
        for row in rows:
            newest.setdefault(row["path"], row)
        self.rows, self.rows_more = list(newest.values()), more
        if not self.rows:
            self.files_status = Status(f"No file of job {self._job()} holds {text.strip()!r} in its path.", True)
        else:
            self.files_status = Status(f"{len(self.rows)}{'+' if more else ''} file(s) found.")

    def files_cleared(self) -> None:
        self.rows, self.rows_more = [], False
        self.files_status = Status("Empty: the whole file tree is restored.")

    def files_unsearchable(self, why: str) -> None:
        self.files_status = Status(f"Cannot search the file index: {why}", True)

    def file_choices(self) -> list[Choice]:
        return [Choice(str(i), Words("$path  [$foreground-muted]$size · night of $night[/]", {
            "path": r["path"], "size": units.size(r["size"]), "night": r.get("night") or "?"}))
            for i, r in enumerate(self.rows)]

    def pick_file(self, index: int) -> None:
        """One of the files listed: exactly that path."""
        path = self.rows[index]["path"]
        self.take_paths(path, [glob.escape(path)], [r for r in self.rows if r["path"] == path], True)

    @staticmethod
    def wants_find(text: str) -> bool:
        """Whether the path typed needs the file index (an empty one is the whole tree)."""
        return bool(ask.path_globs(text))

    def accept_paths(self, text: str, rows: list[Json] | None = None, more: bool = False) -> bool:
        """The path typed, with the files found for it: on to the nights, or False and the problem said."""
        globs = ask.path_globs(text)
        if not globs:
            self.take_paths("", [], [], True)
            return True
        chosen = [r for r in rows or [] if ask.selects(globs, r["path"])]
        if not chosen:
            self.files_status = Status(
                f"Nothing in the backups of job {self._job()} is {text.strip()!r} (a file, or a folder of files): "
                "pick a file found (↓) or type its whole path, such as mail/box0.", True)
            return False
        self.take_paths(text.strip().lstrip("/"), globs, chosen, not more)
        return True

    def take_paths(self, text: str, globs: list[str], rows: list[Json], complete: bool) -> None:
        self.path_text, self.paths, self.found, self.found_all = text, globs, rows, complete
        self.go("night")

    # ---- 2 Night
    def what(self) -> str:
        """What is restored, in the operator's words."""
        assert self.target is not None
        if self.target.kind != "file-tree":
            return self.target.title
        if not self.paths:
            return f"the whole file tree of job {self.target.job}"
        return f"{self.path_text} (job {self.target.job})"

    def night_question(self) -> Words:
        return Words("Which night of [b]$what[/b]?", {"what": self.what()})

    def nights(self) -> list[Night]:
        assert self.target is not None
        return restore_plan.nights(self.target, self.sets, self.details)

    def night_choices(self) -> list[Choice]:
        """Newest first; with a path chosen, how many of its files each night holds (none: not choosable)."""
        choices = []
        for n in self.nights():
            text = f"{units.when(n.started)}  run {n.run}  {n.state}  {units.size(n.bytes)}  {len(n.sets)} set(s)"
            matching = len({r["path"] for r in self.found if r.get("run") == n.run})
            if self.paths and matching:
                text += f"  · {matching}{'' if self.found_all else '+'} file(s) match"
            elif self.paths and self.found_all:
                choices.append(Choice(str(n.run), Words(f"{text}  · no file matches"), True))
                continue
            choices.append(Choice(str(n.run), Words(text)))
        return choices

    def choose_night(self, run: str) -> None:
        self.night = next(n for n in self.nights() if str(n.run) == run)
        self.go("tapes")

    # ---- 3 Tapes
    def see_tapes(self, tapes: list[Json], drives: list[Json]) -> None:
        """The tapes the night needs, from where the tapes and drives are now (the poller's last look)."""
        assert self.night is not None
        self.needs = restore_plan.tapes_needed(self.night, self.sets, tapes, drives)

    def tapes_question(self) -> Words:
        assert self.night is not None
        return Words("[b]$what[/b], night of $night (run $run): these tapes are needed",
                     {"what": self.what(), "night": units.when(self.night.started), "run": str(self.night.run)})

    def tape_lines(self) -> list[str]:
        lines = []
        for need in self.needs:
            files = ", ".join(str(n) for n in need.tape_files)
            mark = "✔" if need.ready else "•"
            name = sticker_first(need.barcode, need.label)
            lines.append(f"{mark} {name}, tape file {files}: {need.todo}")
        return lines

    def tapes_next(self) -> Words:
        """What to do next; a warning first when the night's set did not complete."""
        assert self.night is not None
        missing = [n for n in self.needs if not n.ready]
        away = self.offsite_needs()
        if not missing:
            hint = "Every tape is in its drive. Press Enter to choose where the restore goes."
        elif away:
            names = ", ".join(f"{sticker_first(n.barcode, n.label)} ({n.location.split(':', 1)[-1]})" for n in away)
            hint = (f"Offsite: {names}. The restore cannot read a tape before it is back: press i (or Enter) for "
                    "the recall step, then insert it (the console checks each label).")
        elif any(n.drive for n in missing):
            hint = ("Press i to insert them now (the swap steps: the console checks each label), or Enter to go "
                    "on: the restore asks for each tape when it needs it.")
        else:
            hint = "No drive here can take these tapes: ask the operator."
        warning = "" if self.night.state == "complete" else \
            "[$warning]This night's set is $state: only the members it finished can come back.[/]\n"
        return Words(f"{warning}[b]$hint[/b]", {"hint": hint, "state": self.night.state})

    def offsite_needs(self) -> list[TapeNeed]:
        """The tapes the night needs that are offsite: they come back (the recall step) before any restore."""
        return [n for n in self.needs if not n.ready and n.location.startswith("offsite")]

    def put_in(self) -> tuple[PutIn, ...]:
        """The tapes to insert before the restore (the swap steps walk them): those a drive here can read."""
        job = self._job()
        return tuple(PutIn(barcode=n.barcode, label=n.label, drive=n.drive, job=job, pool="", reason="restore",
                           location=n.location, needs_label=False)
                     for n in self.needs if not n.ready and n.drive is not None)

    # ---- 4 Where to
    @property
    def disk(self) -> bool:
        return self.target is not None and self.target.kind == "vm-disk"

    def to_target(self) -> None:
        """On to where to: into a folder (a file tree always), its name proposed from what and which night."""
        assert self.target is not None and self.night is not None
        if not self.disk:
            self.to_xo = False
        self.typed["folder"] = self.typed["folder"] or self.default_folder()
        self.target_problem = ""
        self.go("target")

    def default_folder(self) -> str:
        assert self.target is not None and self.night is not None
        name = self.target.job if self.target.kind == "file-tree" else self.target.key.removeprefix("vm:")
        slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in name.split("/")[0])
        return os.path.join(self.home if self.home != "~" else "/var/tmp", f"restore-{slug}-run{self.night.run}")

    def target_question(self) -> str:
        assert self.night is not None
        return f"Where should {self.what()}, night of {units.when(self.night.started)}, go?"

    def set_target_kind(self, to_xo: bool) -> None:
        self.to_xo = to_xo
        self.target_problem = ""

    @property
    def target_label(self) -> str:
        return "The SR's uuid (in Xen Orchestra: Home → Storage):" if self.to_xo else \
            "The folder on the backup server (new or empty; it is made if needed):"

    @property
    def target_placeholder(self) -> str:
        return "e.g. 8c2f7d7e-1b4a-4c3e-9f00-5d6e7f8a9b0c" if self.to_xo else "e.g. /srv/restore/mail01"

    @property
    def target_typed(self) -> str:
        """What is typed for the kind of target chosen (each kind keeps its own)."""
        return self.typed["xo" if self.to_xo else "folder"]

    def type_target(self, text: str) -> None:
        self.typed["xo" if self.to_xo else "folder"] = text
        self.target_problem = ""

    def target_about(self) -> str:
        assert self.night is not None
        tapes = ", ".join(sticker_first(n.barcode, n.label) for n in self.needs) or "?"
        scope = "the disk's members" if self.disk else (f"only {self.path_text}" if self.paths else "every file")
        return (f"From set {self.night.sets[0]} (run {self.night.run}, on tape {tapes}): {scope}. "
                "Each piece read back is checked against the sha256 in the inventory.")

    def members(self) -> list[str]:
        """The member globs of the request: the paths of a file tree, or exactly the disk's members."""
        assert self.target is not None and self.night is not None
        if self.target.kind == "file-tree":
            return list(self.paths)
        return ask.disk_globs(restore_plan.disk_members(self.target, self.night, self.details))

    def target_of(self, typed: str) -> str:
        """The folder or SR uuid typed, checked for its shape; ask.TargetProblem (said as the problem) if not."""
        try:
            return ask.sr_of(typed) if self.to_xo else ask.folder_of(typed)
        except ask.TargetProblem as exc:
            self.target_problem = str(exc)
            raise

    def request(self, to: str, force: bool = False) -> Json:
        """The body of POST /v1/restores."""
        assert self.night is not None
        if self.to_xo:
            return ask.body(self.night.sets[0], self.members(), to_xo=to)
        return ask.body(self.night.sets[0], self.members(), to=to, force=force)

    def hint(self) -> str:
        """The same restore from the command line, with what is typed so far."""
        if self.night is None or self.target is None:
            return ""
        typed = self.target_typed.strip() or ("SR_UUID" if self.to_xo else "DIR")
        return f"From the command line: {ask.command(self.request(os.path.expanduser(typed)))}"

    def folder_question(self, to: str, entries: int) -> tuple[str, str]:
        """The question before restoring into a folder that holds `entries` entries: (title, body)."""
        many = f"more than {ask.LOOKED_AT}" if entries > ask.LOOKED_AT else str(entries)
        return (f"Restore into {to}?",
                f"Folder {to} already holds {many} file(s) or folder(s). What the backup holds under the same "
                "names replaces them; every file replaced is listed at the end.")

    def not_started(self, to: str) -> None:
        self.target_problem = f"Not started: {to} is not empty. Type a new or empty folder."

    def starting(self) -> None:
        self.target_problem = "Starting…"

    def refused(self, why: str) -> None:
        self.target_problem = why

    # ---- 5 Restore, 6 Result
    def started(self) -> str:
        """The daemon took the restore: the run step follows it. Its title, in the operator's words."""
        assert self.night is not None
        self.go("run")
        return f"{self.what()}, night of {units.when(self.night.started)}"
