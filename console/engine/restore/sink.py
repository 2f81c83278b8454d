"""Where restored members go: the interface of a restore target (a folder, a file tree, Xen Orchestra).

The restore feeds a target member by member, in tape order: begin() when a member's first piece comes,
write() its data, piece_done() after each piece with the checksum verdict, finish() after its last piece
(possibly on another tape). abort() drops a member that will not be completed; close() ends the run.
"""

from __future__ import annotations

from typing import Any, Protocol

from console.engine.restore.catalog import Member, Piece

Json = dict[str, Any]


class TargetRefused(Exception):
    """The target will not take this member (an unsafe path, a member it cannot import); str() says why."""


class RestoreTarget(Protocol):
    refused: list[Json]  # {"name", "why"}: what was not restored because it was unsafe or unfit
    notes: list[str]

    def begin(self, member: Member, mtime: float) -> None: ...

    def write(self, data: memoryview) -> None: ...

    def piece_done(self, member: Member, piece: Piece, problem: str | None) -> None: ...

    def finish(self, member: Member) -> Json: ...

    def abort(self, member: Member, reason: str) -> None: ...

    @property
    def satisfied(self) -> bool:
        """Everything asked for has been found: the rest need not be read."""
        ...

    def close(self) -> list[Json]:
        """End the run; returns further results (the files of an unpacked archive)."""
        ...
