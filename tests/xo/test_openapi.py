"""The fake XO's answers validate against the schemas of XO's own OpenAPI description.

The description is XO's own, trimmed to the operations the client uses (tests/xo/data/, made by
tests/xo/trim_openapi.py from shared/reference/xo-rest-openapi.json); a test checks the trimmed copy is
what the script makes of the full description whenever that lies beside the project.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

jsonschema = pytest.importorskip("jsonschema")

from console.demo.xo_simulator import XoSimHandle  # noqa: E402


def _nullable_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` is JSON Schema's type [T, "null"]."""
    if isinstance(node, list):
        return [_nullable_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable_to_jsonschema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.fixture(scope="module")
def validate(openapi: dict[str, Any]):  # type: ignore[no-untyped-def]
    components = _nullable_to_jsonschema(openapi["components"])

    def check(instance: Any, schema: dict[str, Any]) -> None:
        root = {"components": components, **schema}
        jsonschema.Draft202012Validator(root).validate(instance)

    return check


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def response_schema(openapi: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    return openapi["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


@pytest.fixture
def http(xo: XoSimHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=xo.url + "/rest/v0", headers={"cookie": f"authenticationToken={xo.token}"}) as c:
        yield c


@pytest.mark.parametrize(
    ("collection", "schema"),
    [
        ("vms", "Unbrand_XoVm_"),
        ("vdis", "Unbrand_XoVdi_"),
        ("srs", "Unbrand_XoSr_"),
        ("vm-snapshots", "Unbrand_XoVmSnapshot_"),
        ("vdi-snapshots", "Unbrand_XoVdiSnapshot_"),
    ],
)
def test_objects_validate(http: httpx.Client, validate, collection: str, schema: str) -> None:  # type: ignore[no-untyped-def]
    hrefs = http.get(f"/{collection}").json()
    assert hrefs
    for href in hrefs:
        validate(http.get(href.removeprefix("/rest/v0")).json(), ref(schema))


@pytest.mark.parametrize(
    ("collection", "schema"),
    [("vms", "SendObjects_Partial_Unbrand_XoVm___"), ("vdis", "SendObjects_Partial_Unbrand_XoVdi___"),
     ("srs", "SendObjects_Partial_Unbrand_XoSr___")],
)
def test_collection_answers_validate(http: httpx.Client, validate, collection: str, schema: str) -> None:  # type: ignore[no-untyped-def]
    for params in ({}, {"fields": "*"}, {"fields": "id,name_label"}):
        answer = http.get(f"/{collection}", params=params)
        assert answer.status_code == 200 and answer.json(), f"{collection} {params}: {answer.status_code}"
        validate(answer.json(), ref(schema))  # raises jsonschema.ValidationError on a wrong shape


def test_a_wrong_shape_is_caught(http: httpx.Client, validate) -> None:  # type: ignore[no-untyped-def]
    vdi = http.get(http.get("/vdis").json()[0].removeprefix("/rest/v0")).json()
    del vdi["$SR"]
    with pytest.raises(jsonschema.ValidationError, match="'\\$SR' is a required property"):
        validate(vdi, ref("Unbrand_XoVdi_"))


def test_token_answer_validates(xo: XoSimHandle, openapi: dict[str, Any], validate) -> None:  # type: ignore[no-untyped-def]
    answer = httpx.post(xo.url + "/rest/v0/users/me/authentication_tokens", auth=("admin@admin.net", "admin"),
                        json={"description": "schema test", "client": {"id": "tc"}})
    assert answer.status_code == 201
    validate(answer.json(), response_schema(openapi, "/users/{id}/authentication_tokens", "post", "201"))


def test_import_answer_validates(http: httpx.Client, openapi: dict[str, Any], validate) -> None:  # type: ignore[no-untyped-def]
    sr = http.get("/srs").json()[0].rsplit("/", 1)[1]
    answer = http.post(f"/srs/{sr}/vdis", params={"raw": "true", "name_label": "schema"}, content=bytes(4096))
    assert answer.status_code == 201
    validate(answer.json(), response_schema(openapi, "/srs/{id}/vdis", "post", "201"))
    validate(http.get(f"/vdis/{answer.json()['id']}").json(), ref("Unbrand_XoVdi_"))


def test_snapshot_and_task_answers_validate(http: httpx.Client, openapi: dict[str, Any], validate) -> None:  # type: ignore[no-untyped-def]
    vm = http.get("/vms").json()[0].rsplit("/", 1)[1]
    answer = http.post(f"/vms/{vm}/actions/snapshot")
    assert answer.status_code == 202
    validate(answer.json(), response_schema(openapi, "/vms/{id}/actions/snapshot", "post", "202"))
    task = http.get(f"/tasks/{answer.json()['taskId']}", params={"wait": "true"}).json()
    validate(task, response_schema(openapi, "/tasks/{id}", "get", "200"))
    validate(http.get(f"/vm-snapshots/{task['result']['id']}").json(), ref("Unbrand_XoVmSnapshot_"))


def test_the_trimmed_description_is_what_the_full_one_gives(openapi: dict[str, Any]) -> None:
    from tests.xo import trim_openapi

    assert {(p, m) for p, ops in openapi["paths"].items() for m in ops} == set(trim_openapi.OPERATIONS)
    assert not trim_openapi.refs_in(openapi) - set(openapi["components"]["schemas"])  # every $ref resolves
    if not trim_openapi.FULL.exists():
        pytest.skip(f"no full description at {trim_openapi.FULL} to compare with")
    import json

    assert trim_openapi.trim(json.loads(trim_openapi.FULL.read_text())) == openapi
