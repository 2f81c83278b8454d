"""The fake XO over real HTTP, spoken to with plain httpx: what XO's /rest/v0 answers."""

from __future__ import annotations

import hashlib
import json
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from console.demo.xo_simulator import XoSimHandle, start_xosim_in_thread
from console.demo.xo_simulator.inventory import SHOP_VMS
from console.demo.xo_simulator.vhdgen import raw_chunks
from console.engine.sources.xo_client import XoClient, XoError
from console.engine.tapeformat.vhd import measure_vhd_stream

from .conftest import REPO, SCALE, SEED


@pytest.fixture
def http(xo: XoSimHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=xo.url + "/rest/v0", cookies={"authenticationToken": xo.token}, timeout=10) as c:
        yield c


@pytest.fixture
def anon(xo: XoSimHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=xo.url + "/rest/v0", timeout=10) as c:
        yield c


def vm_named(http: httpx.Client, name: str) -> dict:
    return http.get("/vms", params={"fields": "*", "filter": f"name_label:{name}"}).json()[0]


# --- authentication ------------------------------------------------------------------------------


def test_no_credentials_is_401(anon: httpx.Client) -> None:
    assert anon.get("/vms").status_code == 401


def test_bearer_is_401(anon: httpx.Client, xo: XoSimHandle) -> None:
    answer = anon.get("/vms", headers={"authorization": f"Bearer {xo.token}"})
    assert answer.status_code == 401


def test_cookie_and_authorization_together_is_400(http: httpx.Client) -> None:
    assert http.get("/vms", auth=("admin@admin.net", "admin")).status_code == 400


def test_basic_login_and_token_cookie_named_token(anon: httpx.Client, xo: XoSimHandle) -> None:
    assert anon.get("/vms", auth=("admin@admin.net", "admin")).status_code == 200
    assert anon.get("/vms", auth=("admin@admin.net", "wrong")).status_code == 401
    assert anon.get("/vms", headers={"cookie": f"token={xo.token}"}).status_code == 200
    assert anon.get("/vms", headers={"cookie": "authenticationToken=not-a-token"}).status_code == 401


def test_token_creation_and_expiry(anon: httpx.Client, xo: XoSimHandle) -> None:
    answer = anon.post("/users/me/authentication_tokens", auth=("admin@admin.net", "admin"),
                       json={"expiresIn": "1 hour", "description": "tape", "client": {"id": "tc"}})
    assert answer.status_code == 201
    token = answer.json()["token"]
    assert token["expiration"] - token["created_at"] == 3600 * 1000
    assert (token["description"], token["client"]) == ("tape", {"id": "tc"})
    cookie = {"cookie": f"authenticationToken={token['id']}"}
    assert anon.get("/srs", headers=cookie).status_code == 200
    xo.sim.expire_token(token["id"])
    assert anon.get("/srs", headers=cookie).status_code == 401


def test_token_creation_needs_a_login(anon: httpx.Client) -> None:
    assert anon.post("/users/me/authentication_tokens", json={}).status_code == 401


def test_sim_admin_needs_authentication(xo: XoSimHandle) -> None:
    assert httpx.get(xo.url + "/_sim/faults").status_code == 401


# --- collections ---------------------------------------------------------------------------------


def test_inventory_is_a_small_shop(http: httpx.Client) -> None:
    vms = http.get("/vms", params={"fields": "name_label,$VBDs"}).json()
    assert sorted(vm["name_label"] for vm in vms) == sorted(name for name, *_ in SHOP_VMS)
    for vm in vms:
        vdis = http.get(f"/vms/{vm['href'].rsplit('/', 1)[1]}/vdis", params={"fields": "size"}).json()
        assert 1 <= len(vdis) <= 3
        assert all(vdi["size"] % (1024 * 1024) == 0 for vdi in vdis)


def test_inventory_is_deterministic_from_the_seed() -> None:
    def vdis(handle: XoSimHandle) -> list[dict]:
        return httpx.get(handle.url + "/rest/v0/vdis", params={"fields": "id,size,usage"},
                         cookies={"authenticationToken": handle.token}).json()

    with (start_xosim_in_thread(seed=SEED, scale=SCALE) as one, start_xosim_in_thread(seed=SEED, scale=SCALE) as two,
          start_xosim_in_thread(seed=SEED + 1, scale=SCALE) as other):
        assert vdis(one) == vdis(two) != vdis(other)


def test_without_fields_the_answer_is_hrefs(http: httpx.Client) -> None:
    for collection in ("vms", "vdis", "srs", "vdi-snapshots", "vm-snapshots"):
        items = http.get(f"/{collection}").json()
        assert items, collection
        assert all(isinstance(i, str) and i.startswith(f"/rest/v0/{collection}/") for i in items)


def test_fields_star_and_list(http: httpx.Client) -> None:
    full = http.get("/vdis", params={"fields": "*"}).json()
    expected = {"id", "uuid", "name_label", "size", "usage", "$SR", "$VBDs", "snapshots", "VDI_type", "href"}
    assert expected <= set(full[0])
    picked = http.get("/vdis", params={"fields": "name_label,size"}).json()
    assert all(set(item) == {"name_label", "size", "href"} for item in picked)
    assert [p["href"] for p in picked] == [f["href"] for f in full]


def test_filter_and_limit(http: httpx.Client) -> None:
    halted = http.get("/vms", params={"fields": "name_label", "filter": "power_state:halted"}).json()
    assert [vm["name_label"] for vm in halted] == ["erp01"]
    not_halted = http.get("/vms", params={"fields": "name_label", "filter": "!power_state:halted"}).json()
    assert len(not_halted) == len(SHOP_VMS) - 1
    big = http.get("/vdis", params={"fields": "size", "filter": f"size:>{6 * 1024 * 1024}"}).json()
    assert big and all(v["size"] > 6 * 1024 * 1024 for v in big)
    assert len(http.get("/vdis", params={"limit": "2"}).json()) == 2
    assert http.get("/vdis", params={"limit": "-1"}).status_code == 400
    assert http.get("/vdis", params={"filter": 'name_label:"unclosed'}).status_code == 400


def test_ndjson(http: httpx.Client) -> None:
    answer = http.get("/srs", params={"fields": "name_label,SR_type", "ndjson": "true"})
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert {line["SR_type"] for line in lines} == {"ext", "nfs"}


def test_single_objects_and_404(http: httpx.Client) -> None:
    vdi = http.get("/vdis", params={"fields": "*"}).json()[0]
    alone = http.get(f"/vdis/{vdi['id']}").json()
    assert alone == {k: v for k, v in vdi.items() if k != "href"}
    assert http.get("/vdis/00000000-0000-0000-0000-000000000000").status_code == 404
    assert http.get("/nonsense").status_code == 404


def test_vm_snapshot_vdis_are_vdi_snapshots(http: httpx.Client) -> None:
    snap = http.get("/vm-snapshots", params={"fields": "id,$snapshot_of"}).json()[0]
    vdis = http.get(f"/vm-snapshots/{snap['id']}/vdis", params={"fields": "type,$snapshot_of"}).json()
    assert vdis and all(v["type"] == "VDI-snapshot" and v["href"].startswith("/rest/v0/vdi-snapshots/") for v in vdis)


# --- exports -------------------------------------------------------------------------------------


def test_vhd_export_is_chunked_without_length_and_matches_the_disk(http: httpx.Client, xo: XoSimHandle) -> None:
    vdi = http.get("/vdis", params={"fields": "id"}).json()[0]
    with http.stream("GET", f"/vdis/{vdi['id']}.vhd") as answer:
        assert answer.status_code == 200
        assert "content-length" not in answer.headers
        assert answer.headers["transfer-encoding"] == "chunked"
        assert answer.headers["content-disposition"] == f'attachment; filename="{vdi["id"]}.vhd"'
        body = answer.read()
    assert body == b"".join(xo.sim.vhd_image(vdi["id"]).chunks())
    assert measure_vhd_stream(iter([body])).info.timestamp.year >= 2025  # dated by the pool clock, not 2000
    assert measure_vhd_stream(iter([body])).length == len(body)


def test_raw_export_is_the_virtual_size(http: httpx.Client, xo: XoSimHandle) -> None:
    vdi = http.get("/vdi-snapshots", params={"fields": "id,size"}).json()[0]
    with http.stream("GET", f"/vdi-snapshots/{vdi['id']}.raw") as answer:
        assert "content-length" not in answer.headers
        body = answer.read()
    assert len(body) == vdi["size"]
    assert hashlib.sha256(body).digest() == hashlib.sha256(
        b"".join(raw_chunks(xo.sim.inventory.disks[vdi["id"]]))).digest()


def test_other_export_formats_are_422(http: httpx.Client) -> None:
    vdi = http.get("/vdis", params={"fields": "id"}).json()[0]
    assert http.get(f"/vdis/{vdi['id']}.qcow2").status_code == 422
    assert http.get(f"/vdis/{vdi['id']}.xva").status_code == 422


def test_faults_through_the_admin_endpoint(http: httpx.Client, xo: XoSimHandle) -> None:
    vdi = http.get("/vdis", params={"fields": "id"}).json()[1]
    admin = xo.url + "/_sim/faults"
    cookies = {"authenticationToken": xo.token}
    assert httpx.post(admin, json={"vdi": vdi["id"], "error_in_body": True, "times": 1},
                      cookies=cookies).status_code == 204
    assert httpx.get(admin, cookies=cookies).json()["vdis"][vdi["id"]]["error_in_body"] is True
    answer = http.get(f"/vdis/{vdi['id']}.vhd")
    assert answer.status_code == 200 and answer.content.startswith(b"HTTP/1.1 500 ")
    assert http.get(f"/vdis/{vdi['id']}.vhd").content.startswith(b"conectix")  # times: 1 -> used up
    assert httpx.post(admin, json={"truncate_at": 4096}, cookies=cookies).status_code == 204
    assert len(http.get(f"/vdis/{vdi['id']}.raw").content) == 4096
    assert httpx.delete(admin, cookies=cookies).status_code == 204
    assert httpx.get(admin, cookies=cookies).json() == {"global": None, "vdis": {}}
    assert httpx.post(admin, json={"drop_at": -5}, cookies=cookies).status_code == 400
    assert httpx.post(admin, json={"explode": True}, cookies=cookies).status_code == 400


def test_drop_closes_the_connection_mid_body(http: httpx.Client, xo: XoSimHandle) -> None:
    vdi = http.get("/vdis", params={"fields": "id"}).json()[2]
    xo.sim.set_fault(vdi["id"], drop_at=100_000)
    received = 0
    with pytest.raises(httpx.RemoteProtocolError), http.stream("GET", f"/vdis/{vdi['id']}.vhd") as answer:
        for chunk in answer.iter_bytes():
            received += len(chunk)
    assert received == 100_000


# --- imports -------------------------------------------------------------------------------------


def test_put_needs_content_length(http: httpx.Client) -> None:
    vdi = http.get("/vdis", params={"fields": "id,size"}).json()[0]
    answer = http.put(f"/vdis/{vdi['id']}.raw", content=iter([bytes(vdi["size"])]))  # chunked
    assert answer.status_code == 411


def test_put_raw_of_the_wrong_size_is_400(http: httpx.Client) -> None:
    vdi = http.get("/vdis", params={"fields": "id,size"}).json()[0]
    assert http.put(f"/vdis/{vdi['id']}.raw", content=bytes(4096)).status_code == 400
    assert http.put(f"/vdis/{vdi['id']}.qcow2", content=bytes(4096)).status_code == 422


def test_put_vhd_is_checked(http: httpx.Client, xo: XoSimHandle) -> None:
    vdi = http.get("/vdis", params={"fields": "id,size"}).json()[0]
    body = http.get(f"/vdis/{vdi['id']}.vhd").content
    assert http.put(f"/vdis/{vdi['id']}.vhd", content=body).status_code == 204
    record = xo.sim.received()[-1]
    assert (record.vdi_id, record.fmt, record.size, record.virtual_size, record.created) == (
        vdi["id"], "vhd", len(body), vdi["size"], False)
    assert record.sha256 == hashlib.sha256(body).hexdigest()
    bad = http.put(f"/vdis/{vdi['id']}.vhd", content=b"x" * 512 + body[512:])
    assert bad.status_code == 400 and "bad VHD footer copy cookie" in bad.text
    short = http.put(f"/vdis/{vdi['id']}.vhd", content=body[:-512])
    assert short.status_code == 400 and "head gives a length" in short.text


def test_post_raw_creates_a_vdi(http: httpx.Client, xo: XoSimHandle) -> None:
    sr = http.get("/srs", params={"fields": "id"}).json()[0]
    data = bytes(range(256)) * 8192
    answer = http.post(f"/srs/{sr['id']}/vdis", params={"name_label": "restored", "raw": "true"},
                       content=iter([data[:1000], data[1000:]]))  # raw may be chunked
    assert answer.status_code == 201
    new_id = answer.json()["id"]
    assert answer.headers["location"] == f"/rest/v0/vdis/{new_id}"
    created = http.get(f"/vdis/{new_id}").json()
    assert (created["name_label"], created["size"], created["$SR"]) == ("restored", len(data), sr["id"])
    imports = httpx.get(xo.url + "/_sim/imports", cookies={"authenticationToken": xo.token}).json()
    assert imports[-1] | {"content_length": None} == {
        "vdi_id": new_id, "fmt": "raw", "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "created": True, "sr_id": sr["id"], "name_label": "restored", "content_length": None, "virtual_size": None,
    }
    assert http.get(f"/vdis/{new_id}.raw").status_code == 409


# --- snapshot task -------------------------------------------------------------------------------


def test_snapshot_task(http: httpx.Client) -> None:
    vm = vm_named(http, "dc01")
    answer = http.post(f"/vms/{vm['id']}/actions/snapshot", json={"name_label": "before tape"})
    assert answer.status_code == 202
    task_id = answer.json()["taskId"]
    assert answer.headers["location"] == f"/rest/v0/tasks/{task_id}"
    task = http.get(f"/tasks/{task_id}", params={"wait": "true"}).json()
    assert task["status"] == "success" and task["properties"]["objectId"] == vm["id"]
    snap = http.get(f"/vm-snapshots/{task['result']['id']}").json()
    assert (snap["name_label"], snap["$snapshot_of"]) == ("before tape", vm["id"])
    assert http.get("/tasks/nope").status_code == 404


def test_snapshot_sync(http: httpx.Client) -> None:
    vm = vm_named(http, "erp01")
    answer = http.post(f"/vms/{vm['id']}/actions/snapshot", params={"sync": "true"})
    assert answer.status_code == 201
    assert http.get(f"/vm-snapshots/{answer.json()['id']}").status_code == 200


# --- the foreground server of `tapeconsole xosim` --------------------------------------------------


def test_run_xosim_writes_a_0600_token_file(tmp_path: Path) -> None:
    token_file = tmp_path / "xosim.token"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("from console.demo.xo_simulator import run_xosim; "
            f"run_xosim('127.0.0.1', {port}, 3, token_file={str(token_file)!r})")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with XoClient(f"http://127.0.0.1:{port}", token_file=token_file, connect_retries=0) as client:
                    assert len(client.list_vms(fields="id")) == len(SHOP_VMS)
                break
            except XoError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert f"on http://127.0.0.1:{port}/rest/v0" in err
    assert proc.returncode in (0, -signal.SIGINT)  # uvicorn shuts down, then re-raises the signal it caught
