"""Object ids from Xen Orchestra, checked before they go into a URL or a tar member name.

XO's VM, VDI and SR ids are UUIDs. An id that is not one (`../../etc/passwd`, a name with slashes) is
refused with one line naming it, never sent: a URL built from it could reach another endpoint with the
token. What goes into a URL is quoted with no safe character at all.
"""

from __future__ import annotations

import re
from urllib.parse import quote

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class BadXoId(ValueError):
    """An id from XO (or from a request) that is not a UUID; str() is one line."""


def checked_id(value: object, what: str) -> str:
    """`value` when it is a UUID, else BadXoId naming `what` (e.g. 'VM id')."""
    if not isinstance(value, str) or not UUID.match(value):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise BadXoId(f"{what} {shown} is not a UUID: refused")
    return value


def in_url(value: object, what: str) -> str:
    """A checked id, quoted for a URL path with nothing left as is."""
    return quote(checked_id(value, what), safe="")


def token_in_url(value: object, what: str) -> str:
    """An id XO does not promise to be a UUID (a task id), quoted with nothing left as is."""
    if not isinstance(value, str) or not value or len(value) > 200:
        raise BadXoId(f"{what} {value!r:.60} is not an id")
    return quote(value, safe="")
