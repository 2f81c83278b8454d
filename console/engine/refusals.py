"""Errors the API turns into one-line answers: refused (409), not found (404), bad request (400)."""


class Refused(Exception):
    """The operation was refused or failed for a reason the operator can act on (CLI exit 1)."""

    status = 409


class NotFound(Refused):
    status = 404


class BadRequest(Refused):
    """The request itself is malformed (CLI exit 2)."""

    status = 400
