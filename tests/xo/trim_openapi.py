"""Trim Xen Orchestra's OpenAPI description to what tapeconsole's XO client and simulator use.

Source: @xen-orchestra/rest-api 0.33.0, its OpenAPI 3.0 description (/rest/v0/docs/swagger.json of an XOA),
kept beside the project as shared/reference/xo-rest-openapi.json. The trimmed copy in tests/xo/data/ holds
the operations below with every schema they reference, so the schema tests run from a bare clone.

    python tests/xo/trim_openapi.py [FULL.json]   rewrites tests/xo/data/xo-rest-openapi.trimmed.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TRIMMED = HERE / "data" / "xo-rest-openapi.trimmed.json"
FULL = HERE.parents[1].parent / "shared" / "reference" / "xo-rest-openapi.json"

# (path, method): the XO client's exports, lists and imports, and what the schema tests validate
OPERATIONS = (
    ("/vms", "get"), ("/vms/{id}", "get"), ("/vms/{id}/vdis", "get"), ("/vms/{id}/actions/snapshot", "post"),
    ("/vm-snapshots", "get"), ("/vm-snapshots/{id}", "get"), ("/vm-snapshots/{id}/vdis", "get"),
    ("/vdis", "get"), ("/vdis/{id}", "get"), ("/vdis/{id}.{format}", "get"),
    ("/vdi-snapshots", "get"), ("/vdi-snapshots/{id}", "get"), ("/vdi-snapshots/{id}.{format}", "get"),
    ("/srs", "get"), ("/srs/{id}", "get"), ("/srs/{id}/vdis", "post"),
    ("/tasks/{id}", "get"), ("/users/{id}/authentication_tokens", "post"),
)


def refs_in(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= refs_in(value)
    elif isinstance(node, list):
        for value in node:
            found |= refs_in(value)
    return found


def trim(full: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, method in OPERATIONS:
        paths.setdefault(path, {})[method] = full["paths"][path][method]
    schemas = full["components"]["schemas"]
    wanted, todo = set(), refs_in(paths)
    todo |= {"Unbrand_XoVm_", "Unbrand_XoVdi_", "Unbrand_XoSr_", "Unbrand_XoVmSnapshot_", "Unbrand_XoVdiSnapshot_",
             "SendObjects_Partial_Unbrand_XoVm___", "SendObjects_Partial_Unbrand_XoVdi___",
             "SendObjects_Partial_Unbrand_XoSr___"}
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        todo |= refs_in(schemas[name]) - wanted
    return {"openapi": full["openapi"], "info": full["info"], "paths": paths,
            "components": {"schemas": {name: schemas[name] for name in sorted(wanted)}}}


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else FULL
    TRIMMED.write_text(json.dumps(trim(json.loads(source.read_text())), indent=1, sort_keys=True) + "\n")
    print(f"{TRIMMED}: {TRIMMED.stat().st_size} bytes from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
