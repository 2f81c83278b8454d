"""`tapeconsole plan` through a real daemon on a temporary socket (GET /v1/plan)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.daemon.conftest import SITE, XO_JOBS, Site, _site


@pytest.fixture
def xo_site() -> Iterator[Site]:
    yield from _site(SITE + XO_JOBS)  # the XO simulator at scale 0.1 (~25 MB of disks), 128 MiB LTO-5 tapes


@pytest.fixture
def big_site() -> Iterator[Site]:
    yield from _site(SITE + XO_JOBS.replace("simulator_scale = 0.1", "simulator_scale = 1.0"))  # ~250 MB


def test_plan_json_then_a_night_of_history(xo_site: Site, capsys) -> None:
    assert xo_site.run("plan", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    [job] = plan["jobs"]
    assert job["job"] == "nightly-vdi" and job["estimate"]["error"] is None and job["estimate"]["bytes"] > 10**6
    assert job["space"]["verdict"] == "fits" and job["space"]["tape"]["barcode"] == "TST001L5"
    assert job["history"] == [] and job["sentence"] == "nightly-vdi: no finished run yet, so no trend to forecast"
    assert [p["pool"] for p in plan["pools"]] == ["vdi-daily"] and plan["will_not_fit"] == []

    assert xo_site.run("backup", "nightly-vdi", "--wait") == 0
    capsys.readouterr()
    assert xo_site.run("plan", "--json") == 0
    assert json.loads(capsys.readouterr().out)["jobs"][0]["history"] == []  # kept a minute: the same answer
    assert xo_site.run("plan", "--json", "--fresh") == 0
    [after] = json.loads(capsys.readouterr().out)["jobs"]
    [night] = after["history"]
    # the estimate against what the night really put on tape: within 1%
    assert abs(after["estimate"]["bytes"] - night["bytes"]) < night["bytes"] / 100
    assert after["space"]["tape"]["barcode"] == "TST002L5"  # TST001L5 holds last night's sets now


def test_plan_exits_1_naming_the_job_that_will_not_fit(big_site: Site, capsys) -> None:
    assert big_site.run("plan") == 1
    out, err = capsys.readouterr()
    assert "tapeconsole: will not fit the tape it gets tonight: nightly-vdi" in err
    assert "spills" in out and "nightly-vdi" in out and "pool vdi-daily keeps 14 days" in out
    with big_site.client() as client, pytest.raises(Exception, match="fresh must be 0 or 1"):
        client.get("/plan?fresh=yes")
