"""The client's memory of the daemon's last answers and their ETags, for conditional GETs.

A GET sends If-None-Match with the ETag of the answer it holds for that path; the daemon answers 304 Not
Modified when nothing changed, and the held answer is used again (the same object: callers treat answers as
read-only). Answers without an ETag are not kept.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

KEEP_PATHS = 64


class AnswerCache:
    def __init__(self, keep: int = KEEP_PATHS) -> None:
        self._answers: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self._keep = keep
        self.not_modified = 0  # answers used again after a 304

    def headers(self, path: str) -> dict[str, str]:
        held = self._answers.get(path)
        return {"If-None-Match": held[0]} if held else {}

    def held(self, path: str) -> Any:
        """The answer held for path after the daemon said 304 (KeyError when none is held)."""
        answer = self._answers[path][1]
        self._answers.move_to_end(path)
        self.not_modified += 1
        return answer

    def keep(self, path: str, etag: str | None, answer: Any) -> None:
        if not etag:
            self._answers.pop(path, None)
            return
        self._answers[path] = (etag, answer)
        self._answers.move_to_end(path)
        while len(self._answers) > self._keep:
            self._answers.popitem(last=False)
