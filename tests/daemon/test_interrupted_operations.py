"""A kill between the drive acting and the inventory recording it: at the next start the inventory is
reconciled with what the drive holds, and the audit log says what happened."""

from __future__ import annotations

import pytest

from console.engine.daemon.service import TapeService
from console.engine.tape_handling import tape_ops
from console.engine.tape_handling.intents import pending_intents
from tests.jobs.conftest import make_site  # noqa: F401 - the fixture


class Killed(BaseException):
    """What a kill -9 looks like from inside: nothing after it runs."""


def restart(site) -> TapeService:  # noqa: ANN001
    site.service.close()
    site.service = TapeService(site.service.config, members_for=site.sources)
    return site.service


def test_a_kill_just_after_the_label_was_written_is_recorded_at_start(make_site, monkeypatch) -> None:  # noqa: F811
    site = make_site()
    service = site.service
    service.load("lto5", "TST001L5", "tester")
    real = tape_ops.write_label

    def write_then_die(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        real(*args, **kwargs)
        raise Killed

    monkeypatch.setattr(tape_ops, "write_label", write_then_die)
    with pytest.raises(Killed):
        service.label("lto5", "VDI001", "vdi-daily", None, "tester")
    assert service.inventory.tape("TST001L5")["label"] is None  # what the kill left
    monkeypatch.setattr(tape_ops, "write_label", real)
    service = restart(site)
    tape = service.inventory.tape("TST001L5")
    assert tape["label"] == "VDI001" and tape["pool"] == "vdi-daily" and tape["status"] == "writable"
    [entry] = [e for e in service.inventory.audit_entries() if e["action"] == "label"]
    assert entry.get("reconciled") is True or (entry.get("details") or {}).get("reconciled") is True, entry
    assert pending_intents(service.inventory) == []
    assert any("was written: recorded" in line for line in service.reconciled)


def test_a_kill_just_after_the_eject_is_recorded_at_start(make_site) -> None:  # noqa: F811
    site = make_site()
    service = site.service
    service.load("lto4", "TST101L4", "tester")
    drive = service.slots["lto4"].drive
    real = drive.eject

    def eject_then_die():  # noqa: ANN202
        real()
        raise Killed

    drive.eject = eject_then_die
    with pytest.raises(Killed):
        service.eject("lto4", "tester")
    assert service.inventory.tape("TST101L4")["location"] == "drive:lto4"  # what the kill left
    service = restart(site)
    assert service.inventory.tape("TST101L4")["location"] == "shelf"
    assert pending_intents(service.inventory) == []


def test_an_operation_the_drive_refused_leaves_nothing_pending(make_site) -> None:  # noqa: F811
    site = make_site()
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the refusal
        site.service.eject("lto4", "tester")  # no tape
    assert pending_intents(site.service.inventory) == []
