"""Secrets never recorded: the XO token is cut out of every message before it is kept anywhere.

XO may echo the request's cookie in an error body; that body goes into an error, and the error into the
daemon log, the inventory, the run's record, the events and the CLI's stderr. Every XoError (and every
line the daemon logs) passes through `redact()`, which replaces each secret this process knows, and any
`authenticationToken=...` cookie, with `<redacted>`.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import quote

REDACTED = "<redacted>"
MIN_SECRET = 8  # shorter strings would redact ordinary words
_COOKIE = re.compile(r"(authenticationToken\s*[=:]\s*\"?)[^;\s\"',}&]+", re.IGNORECASE)
_secrets: set[str] = set()
_lock = threading.Lock()


def remember_secret(secret: str) -> None:
    """From now on, `secret` (and its URL-quoted form) is redacted from every message."""
    if len(secret) < MIN_SECRET:
        return
    with _lock:
        _secrets.update({secret, quote(secret, safe="")})


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _COOKIE.sub(lambda m: m.group(1) + REDACTED, text)


class RedactingFilter(logging.Filter):
    """A handler filter: the record's message, arguments filled in, with every secret cut out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            cleaned_exc = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info, record.exc_text = None, cleaned_exc
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        return True
