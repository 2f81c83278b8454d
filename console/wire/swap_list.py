"""The morning swap list's records as the daemon sends them (GET /v1/swap-list) and its clients read them:
one definition for the daemon's builder (console/engine/rotation) and the console's swap screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

Json = dict[str, Any]


@dataclass(frozen=True)
class TakeOut:
    barcode: str
    label: str | None
    drive: str | None  # the drive that holds it or wrote it (None: not known)
    job: str | None  # the job that wrote it
    pool: str
    vault: str  # where it goes
    in_drive: bool  # still loaded: eject it first
    expires: date | None  # None: kept forever

    def to_json(self) -> Json:
        return {"barcode": self.barcode, "label": self.label, "drive": self.drive, "job": self.job,
                "pool": self.pool, "vault": self.vault, "in_drive": self.in_drive,
                "expires": self.expires.isoformat() if self.expires else None}

    @classmethod
    def from_json(cls, t: Json) -> TakeOut:
        expires = t.get("expires")
        return cls(t["barcode"], t.get("label"), t.get("drive"), t.get("job"), t.get("pool", ""), t["vault"],
                   bool(t.get("in_drive")), date.fromisoformat(expires) if expires else None)


@dataclass(frozen=True)
class PutIn:
    barcode: str
    label: str | None
    drive: str
    job: str
    pool: str
    reason: str  # 'empty tape of the pool', 'expired', 'blank', 'append', 'expired, back from the vault'
    location: str  # where to fetch it from: shelf, offsite:<vault>
    needs_label: bool  # the job labels it into the pool before writing

    def to_json(self) -> Json:
        return {"barcode": self.barcode, "label": self.label, "drive": self.drive, "job": self.job,
                "pool": self.pool, "reason": self.reason, "location": self.location,
                "needs_label": self.needs_label}

    @classmethod
    def from_json(cls, p: Json) -> PutIn:
        return cls(p["barcode"], p.get("label"), p["drive"], p["job"], p.get("pool", ""), p["reason"],
                   p["location"], bool(p.get("needs_label")))
