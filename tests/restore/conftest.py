"""A site (tests/jobs/conftest.py: in-process service, small virtual cartridges, fake XO) with a RestoreManager."""

from __future__ import annotations

import filecmp
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from console.engine.drives.base import Drive
from console.engine.restore.manager import RestoreManager
from console.engine.restore.plan import RestoreRequest
from tests.jobs.conftest import Site, make_site, make_tree  # noqa: F401 - make_site is a fixture used here

Json = dict[str, Any]


def shelf_autoload(drive: Drive, barcode: str) -> None:
    drive.load(barcode)


@dataclass
class RestoreSite:
    site: Site
    manager: RestoreManager

    @property
    def service(self):  # noqa: ANN201 - TapeService
        return self.site.service

    @property
    def folder(self) -> Path:
        return self.site.folder

    def finish(self, started: Json, timeout: float = 120) -> Json:
        self.manager.wait(started["id"], timeout)
        final = self.manager.get(started["id"])
        assert final["state"] in ("done", "failed", "cancelled"), final
        return final

    def restore(self, set_id: int, *, timeout: float = 120, **fields: Any) -> Json:
        request = RestoreRequest.from_json({"set": set_id, **fields})
        return self.finish(self.manager.start_restore(request, "tester"), timeout)

    def verify(self, tape: str, set_id: int | None = None) -> Json:
        return self.finish(self.manager.start_verify(tape, set_id, "tester"))

    def scan(self, drive: str) -> Json:
        return self.finish(self.manager.start_scan(drive, "tester"))

    def backup(self, job: str, timeout: float = 120) -> Json:
        run = self.site.run_job(job, timeout)
        assert run["state"] == "done", run["error"]
        return run

    def sets_of(self, run: Json) -> list[Json]:
        return [s for s in self.service.inventory.sets() if s["id"] in run["sets"]]


def manager_for(site: Site, *, autoload: bool = True) -> RestoreManager:
    service = site.service
    return RestoreManager(
        service.config, service.inventory, service.slots, autoload=shelf_autoload if autoload else None,
        xo_client=site.sources.xo_client, jobs=service.jobs, operator_poll_seconds=0.05,
    )


@pytest.fixture
def restore_site(make_site) -> Iterator:  # noqa: F811 - the fixture imported above
    made: list[RestoreManager] = []

    def make(*, autoload: bool = True, **kwargs: Any) -> RestoreSite:
        site = make_site(**kwargs)
        manager = manager_for(site, autoload=autoload)
        made.append(manager)
        return RestoreSite(site, manager)

    yield make
    for manager in made:
        manager.close()


def same_tree(a: Path, b: Path) -> bool:
    """Same names, same bytes, folder by folder."""
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(a / d, b / d) for d in cmp.common_dirs)
