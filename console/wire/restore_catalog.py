"""What the restore walkthrough opens with, in one answer (GET /v1/restore-catalog): the backup sets, the
member lists of the newest restorable ones, the jobs and the restore runs. One definition for the daemon's
route (console/engine/daemon/routes/restore_catalog.py) and the console's walkthrough.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]
RESTORABLE = ("complete", "incomplete", "failed", "cancelled")  # a failed set keeps the members it finished
DETAIL_LIMIT = 60  # member lists of the newest sets only: enough for two weeks of nightly runs


def detailed(sets: list[Json], limit: int = DETAIL_LIMIT) -> list[Json]:
    """The sets whose member lists the catalog carries: the newest `limit` restorable ones, newest first."""
    restorable = [s for s in sets if s["state"] in RESTORABLE]
    return sorted(restorable, key=lambda s: s["id"], reverse=True)[:limit]


@dataclass(frozen=True)
class RestoreCatalog:
    sets: list[Json]  # every set, as GET /v1/sets lists them
    details: dict[int, Json]  # set id -> the set with its members (GET /v1/sets/{id}), for detailed(sets)
    jobs: list[Json]  # as GET /v1/jobs
    restores: list[Json] = field(default_factory=list)  # restore, verify and scan runs, as GET /v1/restores

    def to_json(self) -> Json:
        return {"sets": self.sets, "details": [self.details[i] for i in sorted(self.details, reverse=True)],
                "jobs": self.jobs, "restores": self.restores}

    @classmethod
    def from_json(cls, answer: Json) -> RestoreCatalog:
        details = {d["id"]: d for d in answer.get("details") or []}
        return cls(list(answer.get("sets") or []), details, list(answer.get("jobs") or []),
                   list(answer.get("restores") or []))
