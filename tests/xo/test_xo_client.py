"""The real XoClient against the fake XO over HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from console.demo.xo_simulator import XoSimHandle, start_xosim_in_thread
from console.demo.xo_simulator.vhdgen import raw_chunks
from console.engine.sources.xo_client import XoClient, XoError, create_token, read_token_file, write_token_file


def one_line(error: pytest.ExceptionInfo[XoError]) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


def first_vdi(client: XoClient, index: int = 0) -> dict:
    return client.list_vdis(fields="id,size,name_label")[index]


def biggest_vdi(client: XoClient, xo: XoSimHandle) -> dict:
    """The VDI whose VHD export is the longest (several MiB at the test scale)."""
    vdis = [v for v in client.list_vdis(fields="id,size") if v["id"] in xo.sim.inventory.disks]
    return max(vdis, key=lambda v: len(xo.sim.inventory.disks[v["id"]].block_ids()))


# --- token and connection ------------------------------------------------------------------------


def test_token_file_must_be_0600(tmp_path: Path, xo: XoSimHandle) -> None:
    path = write_token_file(tmp_path / "xo.token", xo.token)
    assert (path.stat().st_mode & 0o777) == 0o600
    with XoClient(xo.url, token_file=path) as client:
        assert len(client.list_vms()) == 4
    path.chmod(0o644)
    with pytest.raises(XoError) as error:
        XoClient(xo.url, token_file=path)
    assert one_line(error) == f"token file {path} has mode 0644: it must be 0600"


def test_token_file_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(XoError, match=f"cannot read token file {tmp_path / 'none'}"):
        read_token_file(tmp_path / "none")
    empty = write_token_file(tmp_path / "empty", "")
    with pytest.raises(XoError, match="is empty"):
        read_token_file(empty)
    with pytest.raises(XoError, match="no XO token"):
        XoClient("http://127.0.0.1:1")


def test_bad_token_is_http_401_with_path(xo: XoSimHandle) -> None:
    with XoClient(xo.url, token="nope") as client, pytest.raises(XoError) as error:
        client.list_vms()
    assert error.value.status == 401
    assert one_line(error).startswith("HTTP 401 on GET /rest/v0/vms: invalid or expired token")


def test_create_token_with_basic_login(xo: XoSimHandle) -> None:
    token = create_token(xo.url, "admin@admin.net", "admin", expires_in="1 hour")
    with XoClient(xo.url, token=token) as client:
        assert client.list_srs(fields="id")
    with pytest.raises(XoError, match="HTTP 401 on POST /rest/v0/users/me/authentication_tokens"):
        create_token(xo.url, "admin@admin.net", "wrong")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connect_errors_are_retried_then_reported() -> None:
    port = _free_port()
    started = time.monotonic()
    with (XoClient(f"http://127.0.0.1:{port}", token="t", connect_retries=2, backoff=0.05) as client,
          pytest.raises(XoError) as error):
        client.list_vms()
    assert f"cannot connect to XO at http://127.0.0.1:{port} for GET /rest/v0/vms after 3 attempt(s)" in one_line(error)
    assert 0.15 <= time.monotonic() - started < 5  # backoff 0.05 + 0.1, bounded


def test_retry_reaches_a_server_that_comes_up_late() -> None:
    port = _free_port()
    handles: list[XoSimHandle] = []
    starter = threading.Timer(0.4, lambda: handles.append(start_xosim_in_thread(seed=1, port=port, scale=0.1,
                                                                                  token="late")))
    starter.start()
    try:
        with XoClient(f"http://127.0.0.1:{port}", token="late", connect_retries=6, backoff=0.1) as client:
            assert len(client.list_vms(fields="id")) == 4
    finally:
        starter.join()
        for handle in handles:
            handle.stop()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_tls_verification_and_ca_file(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    with start_xosim_in_thread(seed=2, scale=0.1, tls=(cert, key)) as xo:
        assert xo.url.startswith("https://")
        with XoClient(xo.url, token=xo.token, connect_retries=0) as client, pytest.raises(XoError) as error:
            client.list_vms()
        assert "CERTIFICATE_VERIFY_FAILED" in one_line(error)
        with XoClient(xo.url, token=xo.token, ca_file=cert) as client:
            assert len(client.list_vms(fields="id")) == 4
        with XoClient(xo.url, token=xo.token, verify=False) as client:
            assert client.list_srs(fields="id")
    with pytest.raises(XoError, match="cannot load CA file"):
        XoClient("https://127.0.0.1:1", token="t", ca_file=tmp_path / "missing.pem")


# --- objects -------------------------------------------------------------------------------------


def test_lists_and_objects(client: XoClient) -> None:
    vms = client.list_vms(fields=["id", "name_label"])
    assert {vm["name_label"] for vm in vms} == {"dc01", "mail01", "files01", "erp01"}
    files01 = next(vm for vm in vms if vm["name_label"] == "files01")
    vdis = client.list_vdis(files01["id"], fields="id,name_label,size")
    assert [v["name_label"] for v in vdis] == ["files01 system", "files01 shares", "files01 scratch"]
    assert client.get_vdi(vdis[1]["id"])["size"] == vdis[1]["size"]
    assert client.get_vm(files01["id"])["power_state"] == "Running"
    assert len(client.list_vms(filter="power_state:halted")) == 1
    assert len(client.list_vdis(limit=2)) == 2
    snaps = client.list_vm_snapshots(filter="name_label:files01")
    snap_vdis = client.list_vdis(snaps[0]["id"], snapshot=True)
    assert {v["$snapshot_of"] for v in snap_vdis} == {v["id"] for v in vdis}


def test_http_errors_name_status_and_path(client: XoClient) -> None:
    missing = str(uuid.UUID(int=1))
    with pytest.raises(XoError) as error:
        client.get_vdi(missing)
    assert error.value.status == 404
    assert one_line(error) == f"HTTP 404 on GET /rest/v0/vdis/{missing}: no such vdi {missing}"
    with pytest.raises(XoError, match=f"HTTP 404 on GET /rest/v0/vdis/{missing}.vhd"):
        client.export_vdi(missing)


# --- exports -------------------------------------------------------------------------------------


def test_every_vhd_export_length_equals_bytes_received(client: XoClient, xo: XoSimHandle) -> None:
    for vdi in client.list_vdis(fields="id,size"):
        if vdi["id"] not in xo.sim.inventory.disks:  # made by an import test: content not simulated
            continue
        export = client.export_vdi(vdi["id"])
        assert export.info is not None and export.info.virtual_size == vdi["size"]
        body = export.read_all()
        assert len(body) == export.length == export.received
        assert body == b"".join(xo.sim.vhd_image(vdi["id"]).chunks())


def test_raw_export_of_a_snapshot(client: XoClient, xo: XoSimHandle) -> None:
    vdi = client.list_vdis(fields="id,size", snapshot=True)[0]
    with client.export_vdi(vdi["id"], "raw", snapshot=True) as export:
        assert export.length == vdi["size"]
        digest = hashlib.sha256()
        for chunk in export:
            digest.update(chunk)
    assert digest.digest() == hashlib.sha256(b"".join(raw_chunks(xo.sim.inventory.disks[vdi["id"]]))).digest()


@pytest.mark.parametrize(
    ("fault", "fmt", "expected"),
    [
        ({"error_in_body": True}, "vhd",
         "XAPI error inside a 200 answer: HTTP/1.1 500 Internal Error (VDI_IO_ERROR: [ Device I/O errors ])"),
        ({"error_in_body": True}, "raw", "XAPI error inside a 200 answer: HTTP/1.1 500 Internal Error"),
        ({"drop_at": 300_000}, "vhd", "dropped at byte 300000 of {length}"),
        ({"drop_at": 300_000}, "raw", "dropped at byte 300000 of {length}"),
        ({"truncate_at": 1_000_000}, "vhd", "ended short at byte 1000000 of {length}"),
        ({"truncate_at": 1_000_000}, "raw", "ended short at byte 1000000 of {length}"),
        ({"extra_bytes": 512}, "vhd", "runs past its length of {length} bytes: 512 more at byte {length}"),
        ({"extra_bytes": 7}, "raw", "runs past its length of {length} bytes: 7 more at byte {length}"),
    ],
)
def test_faults_end_in_one_line_xo_errors(client: XoClient, xo: XoSimHandle, fault: dict, fmt: str,
                                          expected: str) -> None:
    vdi = biggest_vdi(client, xo)
    xo.sim.set_fault(vdi["id"], **fault)
    path = f"/rest/v0/vdis/{vdi['id']}.{fmt}"
    with pytest.raises(XoError) as error:
        export = client.export_vdi(vdi["id"], fmt)  # type: ignore[arg-type]
        for _ in export:
            pass
    length = vdi["size"] if fmt == "raw" else xo.sim.vhd_image(vdi["id"]).length
    assert length > 2_000_000
    assert one_line(error).startswith(f"export of VDI {vdi['id']} ({path})")
    assert expected.format(length=length) in str(error.value)


def test_faults_in_the_vhd_head(client: XoClient, xo: XoSimHandle) -> None:
    vdi = first_vdi(client, 4)
    xo.sim.set_fault(vdi["id"], truncate_at=1000, times=1)
    with pytest.raises(XoError, match="truncated VHD stream: ended at byte 1000 in the header"):
        client.export_vdi(vdi["id"])
    xo.sim.set_fault(vdi["id"], drop_at=700, times=1)
    with pytest.raises(XoError, match=r"dropped at byte 700 while its head was read"):
        client.export_vdi(vdi["id"])
    assert client.export_vdi(vdi["id"]).read_all()  # the faults were used up


def test_slow_first_byte_times_out(xo: XoSimHandle) -> None:
    vdi_id = next(iter(xo.sim.inventory.disks))
    xo.sim.set_fault(vdi_id, first_byte_delay=1.0, times=1)
    with XoClient(xo.url, token=xo.token, timeout=0.3) as client, pytest.raises(XoError) as error:
        client.export_vdi(vdi_id)
    assert one_line(error) == f"GET /rest/v0/vdis/{vdi_id}.vhd failed: timed out"


def test_slow_first_byte_within_the_timeout_is_fine(client: XoClient, xo: XoSimHandle) -> None:
    vdi = first_vdi(client, 5)
    xo.sim.set_fault(None, first_byte_delay=0.2, times=1)
    started = time.monotonic()
    export = client.export_vdi(vdi["id"], "raw")
    assert time.monotonic() - started >= 0.2
    assert len(export.read_all()) == vdi["size"]


# --- imports -------------------------------------------------------------------------------------


def test_import_raw_into_a_new_vdi(client: XoClient, xo: XoSimHandle) -> None:
    sr = client.list_srs(fields="id")[0]
    data = os.urandom(3 * 1024 * 1024 + 512)
    new_id = client.import_vdi_raw(io.BytesIO(data), len(data), sr_id=sr["id"], name_label="restore test")
    record = xo.sim.received()[-1]
    assert (record.vdi_id, record.fmt, record.created, record.size) == (new_id, "raw", True, len(data))
    assert record.content_length == len(data)
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert client.get_vdi(new_id)["name_label"] == "restore test"


def test_import_vhd_into_an_existing_vdi(client: XoClient, xo: XoSimHandle) -> None:
    vdi = first_vdi(client, 6)
    body = client.export_vdi(vdi["id"]).read_all()
    chunks = [body[i : i + 100_000] for i in range(0, len(body), 100_000)]
    assert client.import_vdi_vhd(iter(chunks), len(body), vdi_id=vdi["id"]) == vdi["id"]
    record = xo.sim.received()[-1]
    assert (record.vdi_id, record.fmt, record.created, record.content_length) == (vdi["id"], "vhd", False, len(body))
    assert record.sha256 == hashlib.sha256(body).hexdigest()


def test_import_with_data_shorter_than_announced(client: XoClient, xo: XoSimHandle) -> None:
    vdi = first_vdi(client, 0)
    before = len(xo.sim.received())
    with pytest.raises(XoError, match=r"data ended at byte 1024 of the announced 2048"):
        client.import_vdi_raw(b"\0" * 1024, 2048, vdi_id=vdi["id"])
    with pytest.raises(XoError, match=r"HTTP 400 on PUT /rest/v0/vdis/.*\.raw: raw of 2048 bytes does not match"):
        client.import_vdi_raw(b"\0" * 2048, 2048, vdi_id=vdi["id"])
    with pytest.raises(XoError, match="exactly one of vdi_id"):
        client.import_vdi_raw(b"", 0)
    assert len(xo.sim.received()) == before


# --- snapshots -----------------------------------------------------------------------------------


def test_snapshot_vm_waits_for_the_task(client: XoClient) -> None:
    vm = client.list_vms(fields="id", filter="name_label:mail01")[0]
    snap_id = client.snapshot_vm(vm["id"], "tape run")
    snap = [s for s in client.list_vm_snapshots() if s["id"] == snap_id][0]
    assert (snap["$snapshot_of"], snap["name_label"]) == (vm["id"], "tape run")
    assert len(client.list_vdis(snap_id, snapshot=True)) == 2


def test_snapshot_failure_is_an_xo_error(client: XoClient, xo: XoSimHandle) -> None:
    vm = client.list_vms(fields="id", filter="name_label:dc01")[0]
    xo.sim.settings.snapshot_error = "SR_BACKEND_FAILURE_44"
    try:
        with pytest.raises(XoError) as error:
            client.snapshot_vm(vm["id"])
    finally:
        xo.sim.settings.snapshot_error = None
    assert f"snapshot of VM {vm['id']} failed" in one_line(error)
    assert "SR_BACKEND_FAILURE_44()" in str(error.value)
