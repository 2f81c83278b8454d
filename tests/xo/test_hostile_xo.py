"""Xen Orchestra's answers are outside input: ids that are not UUIDs never reach a URL or a member name,
names become safe and unique, a VHD whose head disagrees with its VDI's size is not written."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import Iterator

import pytest

from console.config.schema import JobConfig
from console.engine.sources.xo import xo_members
from console.engine.sources.xo_client import XoClient, XoError
from console.engine.tapeformat.vhd import VhdError, VhdInfo, check_vhd_size, max_vhd_length

GiB = 1024**3
JOB = JobConfig(name="nightly-vdi", source="xo", drive="lto5", pool="vdi-daily", eject_when_done=True,
                part_bytes=1 << 30, schedule=None, vms=("*",), vdi_format="vhd", remote_path=None, paths=(),
                compression="none", compression_level=0, compression_threads=0, frame_bytes=64 << 20)


class Counting(http.server.BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        Counting.paths.append(self.path)
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def counting_url() -> Iterator[str]:
    Counting.paths = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("bad", ["../../../../etc/passwd", "a/b", "", "x" * 36, "%2e%2e"])
def test_an_id_that_is_not_a_uuid_is_never_sent(counting_url: str, bad: str) -> None:
    with XoClient(counting_url, token="t" * 16, connect_retries=0, timeout=5) as client:
        for call in (lambda: client.get_vm(bad), lambda: client.list_vdis(vm_id=bad), lambda: client.get_vdi(bad),
                     lambda: client.export_vdi(bad)):
            with pytest.raises(XoError, match="is not a UUID"):
                call()
    assert Counting.paths == []


def test_a_uuid_goes_into_the_url_quoted_and_nothing_else(counting_url: str) -> None:
    vm = str(uuid.uuid4())
    with XoClient(counting_url, token="t" * 16, connect_retries=0, timeout=5) as client, pytest.raises(XoError):
        client.get_vm(vm)
    assert Counting.paths == [f"/rest/v0/vms/{vm}"]


class FakeXo:
    def __init__(self, vms: list[dict], vdis: dict[str, list[dict]]) -> None:
        self.vms, self.vdis, self.exports = vms, vdis, []

    def list_vms(self, fields: str = "*") -> list[dict]:
        return self.vms

    def list_vdis(self, vm_id: str, fields: str = "*") -> list[dict]:
        return self.vdis[vm_id]

    def export_vdi(self, vdi_id: str, fmt: str, *, expected_size: int | None = None) -> list[bytes]:
        self.exports.append((vdi_id, expected_size))
        return []


def test_a_vm_id_from_xo_that_is_not_a_uuid_fails_the_job_in_one_line() -> None:
    xo = FakeXo([{"id": "etc/cron.d/evil-../../../x", "name_label": "evil"}], {})
    with pytest.raises(XoError, match="VM 'evil': id 'etc/cron.d/evil-../../../x' is not a UUID"):
        list(xo_members(xo, JOB))  # type: ignore[arg-type]


def test_member_names_from_xo_are_safe_and_unique() -> None:
    vm = "aaaaaaaa-0000-4000-8000-000000000001"
    twin = "aaaaaaaa-0000-4000-8000-000000000002"  # same first 8 characters: same folder, listed after vm
    vdi = "bbbbbbbb-0000-4000-8000-000000000001"
    disk = {"id": vdi, "name_label": "../../../etc/passwd", "size": GiB}
    xo = FakeXo([{"id": vm, "name_label": "web/01"}, {"id": twin, "name_label": "web/01"}],
                {vm: [disk, dict(disk)], twin: []})
    names = [m.name for m in xo_members(xo, JOB)]  # type: ignore[arg-type]
    assert len(names) == len(set(names)) == 4
    assert all(".." not in part for n in names for part in n.split("/")), names
    assert names[1] == f"vms/web_01-{vm[:8]}/etc_passwd-{vdi}.vhd"
    assert names[2] == f"vms/web_01-{vm[:8]}/etc_passwd-{vdi}-2.vhd" and names[3] == f"vms/web_01-{vm[:8]}/vm-2.json"


def test_a_vdi_size_that_is_not_a_size_fails_and_the_export_is_told_the_size() -> None:
    vm, vdi = str(uuid.uuid4()), str(uuid.uuid4())
    for size in (None, "1", -1, 2**70, True):
        xo = FakeXo([{"id": vm, "name_label": "db"}], {vm: [{"id": vdi, "name_label": "d", "size": size}]})
        with pytest.raises(XoError, match="size must be a whole number"):
            list(xo_members(xo, JOB))  # type: ignore[arg-type]
    xo = FakeXo([{"id": vm, "name_label": "db"}], {vm: [{"id": vdi, "name_label": "d", "size": GiB}]})
    [_, member] = xo_members(xo, JOB)  # type: ignore[arg-type]
    member.open()
    assert xo.exports == [(vdi, GiB)]


def test_a_vhd_head_claiming_more_than_its_disk_is_refused_before_writing() -> None:
    info = VhdInfo(disk_type="dynamic", virtual_size=GiB, uuid=str(uuid.uuid4()), block_size=2 * 1024**2)
    check_vhd_size(info, GiB + 4 * 1024**2, GiB)  # a full dynamic VHD of 1 GiB: fine
    assert GiB < max_vhd_length(GiB, 2 * 1024**2) < GiB * 1.01
    with pytest.raises(VhdError, match="more than a VHD of a 1073741824-byte disk can hold"):
        check_vhd_size(info, 2 * 1000**4, GiB)  # a BAT claiming ~2 TB
    with pytest.raises(VhdError, match="Xen Orchestra says 1073741824"):
        check_vhd_size(VhdInfo(disk_type="dynamic", virtual_size=2 * 1000**4, uuid=info.uuid), GiB, GiB)
