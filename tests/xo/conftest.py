"""Fixtures for the XO tests: a fake XO over real HTTP on 127.0.0.1, a client for it, the OpenAPI file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.demo.xo_simulator import XoSimHandle, start_xosim_in_thread
from console.engine.sources.xo_client import XoClient

REPO = Path(__file__).resolve().parents[2]
# XO's own description, trimmed to the operations the client uses (tests/xo/trim_openapi.py names its source)
OPENAPI = Path(__file__).resolve().parent / "data" / "xo-rest-openapi.trimmed.json"

# VDIs of 3 to 10 MiB: every test over HTTP stays well under a second.
SCALE = 0.1
SEED = 7


@pytest.fixture(scope="package")
def xo() -> Iterator[XoSimHandle]:
    handle = start_xosim_in_thread(seed=SEED, scale=SCALE)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(autouse=True)
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "xo" in request.fixturenames:
        request.getfixturevalue("xo").sim.clear_faults()


@pytest.fixture
def client(xo: XoSimHandle) -> Iterator[XoClient]:
    with XoClient(xo.url, token=xo.token, timeout=10.0, connect_retries=0) as c:
        yield c


@pytest.fixture(scope="package")
def openapi() -> dict[str, Any]:
    return json.loads(OPENAPI.read_text())
