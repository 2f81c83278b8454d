"""Malformed API requests: every one is answered 4xx with one line, never 500 and never a traceback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route
from starlette.testclient import TestClient

from console.engine.daemon.api import build_app
from tests.restore.conftest import make_site, restore_site  # noqa: F401 - fixtures

FAST = settings(max_examples=500, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SLOW = settings(FAST, max_examples=5000)
SIDE_EFFECTS = re.compile(r"/run$|/daemon/stop$|/restores?$|/verify|/scan|/label$|/load$|/eject$|/rewind$|/location$")
PATH_VALUES = {"name": "lto4", "id": "1", "barcode": "DEM001L5", "number": "1"}
FIELDS = ["barcode", "label", "pool", "confirm", "set", "to", "members", "force", "tape", "drive", "job", "vm",
          "vdi", "night", "location", "where", "sr", "checked", "tapes", "user", "reason"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5),
                                                                 inner, max_size=4),
    max_leaves=12)
bodies = (json_values.map(lambda v: json.dumps(v).encode())
          | st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5).map(lambda v: json.dumps(v).encode())
          | st.binary(max_size=64)
          | st.integers(100, 5000).map(lambda n: b'{"a":' + b"[" * n + b"]" * n + b"}"))
queries = st.dictionaries(st.sampled_from(["limit", "after", "pattern", "vm", "vdi", "night", "fresh", "x"]),
                          st.text(max_size=12) | st.sampled_from(["²", "-1", "1e9", "99999999999999999999", ""]),
                          max_size=3)


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: PATH_VALUES.get(m.group(1), "x"), path)


@pytest.fixture
def api(restore_site) -> Iterator[tuple[TestClient, list[str], list[str]]]:  # noqa: F811
    rs = restore_site()
    app = build_app(rs.service)
    posts = sorted(concrete(r.path) for r in app.routes if isinstance(r, Route) and "POST" in (r.methods or ())
                   and not SIDE_EFFECTS.search(r.path))
    gets = sorted(concrete(r.path) for r in app.routes if isinstance(r, Route) and "GET" in (r.methods or ())
                  and "/files/" not in r.path)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, posts, gets


def refusal_problem(answer) -> str | None:  # noqa: ANN001
    """What is wrong with the daemon's answer to a malformed request, or None: a 5xx, or an error that is not
    one line of text."""
    where = f"{answer.request.method} {answer.request.url}"
    if answer.status_code >= 500:
        return f"{where}: {answer.status_code} {answer.text[:300]}"
    if answer.status_code >= 400:
        error = answer.json()["error"]
        if not isinstance(error, str) or "\n" in error or "Traceback" in error:
            return f"{where}: not a one-line error: {error!r}"[:400]
    return None


def fuzz_once(api, data: st.DataObject):  # noqa: ANN001, ANN201 - the httpx response
    """One malformed request, drawn from `data`, to a POST or a GET route; returns the daemon's answer."""
    client, posts, gets = api
    if data.draw(st.booleans()):
        path = data.draw(st.sampled_from(posts))
        return client.post(path, content=data.draw(bodies), headers={"content-type": "application/json"})
    path = data.draw(st.sampled_from(gets))
    return client.get(path, params=data.draw(queries))


@FAST
@given(data=st.data())
def test_malformed_requests_are_refused_in_one_line(api, data: st.DataObject) -> None:
    assert refusal_problem(fuzz_once(api, data)) is None


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_many_more_malformed_requests(api, data: st.DataObject) -> None:
    assert refusal_problem(fuzz_once(api, data)) is None
