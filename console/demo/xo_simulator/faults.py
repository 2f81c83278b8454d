"""Faults the fake XO injects into VDI exports, per VDI or for all of them.

Seen in the wild (shared/reference/xen-orchestra.md): an export that answers 200 but whose body is an
XAPI error ("HTTP/1.1 500 ..."), a stream that drops mid-transfer, a slow first byte. Two more help
test a client's length checks: a body that ends cleanly but short, and one that runs long.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

XAPI_ERROR_BODY = (
    b"HTTP/1.1 500 Internal Error\r\n"
    b"content-type: text/plain\r\n"
    b"\r\n"
    b"VDI_IO_ERROR: [ Device I/O errors ]\r\n"
)


@dataclass(frozen=True)
class Fault:
    error_in_body: bool = False  # answer 200 with an XAPI error as the body
    drop_at: int | None = None  # close the connection after this many body bytes
    truncate_at: int | None = None  # end the body cleanly after this many bytes
    extra_bytes: int = 0  # append this many bytes after the real end
    first_byte_delay: float = 0.0  # seconds before the answer starts
    times: int | None = None  # number of exports it affects; None: until cleared

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        fault = cls(**data)
        for name in ("drop_at", "truncate_at", "times"):
            value = getattr(fault, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be a non-negative integer")
        if not isinstance(fault.extra_bytes, int) or fault.extra_bytes < 0:
            raise ValueError("extra_bytes must be a non-negative integer")
        if not isinstance(fault.first_byte_delay, int | float) or fault.first_byte_delay < 0:
            raise ValueError("first_byte_delay must be a non-negative number")
        return fault

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultTable:
    """Faults by VDI id (None: every VDI); a VDI's own fault wins over the global one. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str | None, Fault] = {}

    def set(self, fault: Fault, vdi_id: str | None = None) -> None:
        with self._lock:
            self._faults[vdi_id] = fault

    def clear(self, vdi_id: str | None = None, *, everything: bool = True) -> None:
        """Clear one VDI's fault (or the global one with everything=False), or all of them."""
        with self._lock:
            if vdi_id is None and everything:
                self._faults.clear()
            else:
                self._faults.pop(vdi_id, None)

    def take(self, vdi_id: str) -> Fault | None:
        """The fault for one export of `vdi_id`, counting it against `times`."""
        with self._lock:
            key: str | None = vdi_id if vdi_id in self._faults else None
            fault = self._faults.get(key)
            if fault is None:
                return None
            if fault.times is not None:
                if fault.times <= 1:
                    del self._faults[key]
                else:
                    self._faults[key] = Fault(**(asdict(fault) | {"times": fault.times - 1}))
            return fault

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "global": self._faults[None].to_json() if None in self._faults else None,
                "vdis": {k: f.to_json() for k, f in self._faults.items() if k is not None},
            }
