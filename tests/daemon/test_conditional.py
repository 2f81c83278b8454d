"""Conditional GETs through a real daemon: an ETag on the polled collections, 304 while nothing changed, 200
with a new ETag after a change; the console's and the CLI's clients send If-None-Match and reuse the answer."""

from __future__ import annotations

import httpx

from console.client.daemon_link import DaemonLink
from tests.daemon.conftest import Site


def raw(site: Site) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(uds=str(site.socket)), base_url="http://tapeconsole/v1")


def test_unchanged_collections_answer_304_and_a_change_gives_a_new_etag(site: Site) -> None:
    assert site.run("tapes") == 0  # starts the daemon
    with raw(site) as http:
        for path in ("/tapes", "/pools", "/jobs", "/runs", "/drives", "/sets", "/sets?tape=TST001L5"):
            first = http.get(path)
            etag = first.headers["etag"]
            assert first.status_code == 200 and etag.startswith('"')
            again = http.get(path, headers={"If-None-Match": etag})
            assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag), path
            assert http.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
        tapes = http.get("/tapes")
        moved = http.post("/tapes/TST002L5/location", json={"location": "offsite:bank"})
        assert moved.status_code == 200, moved.text
        after = http.get("/tapes", headers={"If-None-Match": tapes.headers["etag"]})
        assert after.status_code == 200 and after.headers["etag"] != tapes.headers["etag"]
        where = {t["barcode"]: t["location"] for t in after.json()}
        assert where["TST002L5"] == "offsite:bank"
        assert http.get("/tapes", headers={"If-None-Match": after.headers["etag"]}).status_code == 304


def test_the_clients_send_if_none_match_and_reuse_the_answer(site: Site) -> None:
    assert site.run("tapes") == 0
    with site.client() as client:
        first = client.get("/tapes")
        assert client.get("/tapes") is first and client.answers.not_modified == 1
        client.post("/tapes/TST003L5/location", {"location": "offsite:bank"})
        changed = client.get("/tapes")
        assert changed is not first and client.answers.not_modified == 1
        assert next(t for t in changed if t["barcode"] == "TST003L5")["location"] == "offsite:bank"


async def test_the_consoles_link_polls_conditionally(site: Site) -> None:
    assert site.run("tapes") == 0
    link = DaemonLink.over_socket(site.socket)
    try:
        jobs = await link.get("/jobs")
        tapes = await link.get("/tapes")
        assert await link.get("/jobs") is jobs and await link.get("/tapes") is tapes
        assert link.answers.not_modified == 2
        assert await link.get("/events?after=0") is not await link.get("/events?after=0")  # no ETag: not kept
    finally:
        await link.aclose()
