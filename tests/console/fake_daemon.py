"""A daemon that answers from a recording (tests/console/data/*.json), for deterministic screenshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from console.client.daemon_link import DaemonLink
from console.wire.restore_catalog import RestoreCatalog, detailed

DATA = Path(__file__).with_name("data")


def recording(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text())


def catalog_of(answers: dict[str, Any]) -> dict[str, Any]:
    """GET /v1/restore-catalog as the daemon would answer it, from the recorded /sets, /sets/ID, /jobs and
    /restores (so a test that changes one of them changes the catalog too)."""
    sets = answers["/sets"]
    details = {s["id"]: answers[f"/sets/{s['id']}"] for s in detailed(sets) if f"/sets/{s['id']}" in answers}
    return RestoreCatalog(sets, details, answers["/jobs"], answers.get("/restores", [])).to_json()


class RecordedDaemon:
    """GETs answer from the recording (GET /restore-catalog from its pieces: catalog_of) and are kept in
    `gets`; POSTs are kept in `posts` and answered from `replies`, else from the recording's "POST /path"
    answer (a restore's start: 202), else 404."""

    def __init__(self, answers: dict[str, Any], replies: dict[str, Any] | None = None) -> None:
        self.answers = answers
        self.replies = replies or {}
        self.posts: list[tuple[str, Any]] = []
        self.gets: list[str] = []  # the paths asked for, in order (with their query)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1")
        if request.method == "POST":
            body = json.loads(request.content or b"{}")
            self.posts.append((path, body))
            reply = self.replies.get(path)
            if reply is None and f"POST {path}" in self.answers:
                reply = (202, self.answers[f"POST {path}"])
            if reply is None:
                return httpx.Response(404, json={"error": f"the recording has no answer for POST {path}"})
            status, answer = reply if isinstance(reply, tuple) else (200, reply)
            return httpx.Response(status, json=answer)
        self.gets.append(path + (f"?{request.url.query.decode()}" if request.url.query else ""))
        if path == "/restore-catalog":
            return httpx.Response(200, json=catalog_of(self.answers))
        if path == "/events":
            after = int(request.url.params.get("after", "0"))
            return httpx.Response(200, json=[e for e in self.answers["/events"] if e["seq"] > after])
        if path in self.answers:
            return httpx.Response(200, json=self.answers[path])
        return httpx.Response(404, json={"error": f"the recording has no answer for GET {path}"})

    def link(self) -> DaemonLink:
        return DaemonLink(httpx.MockTransport(self.handle), where="a recorded daemon", user="tester")
