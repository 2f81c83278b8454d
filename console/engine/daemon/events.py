"""The daemon's recent events (its log lines) kept in memory for the console's log pane."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any


class EventLog(logging.Handler):
    """A logging handler that keeps the last `size` records, numbered, for GET /v1/events?after=N."""

    def __init__(self, size: int = 500) -> None:
        super().__init__(level=logging.INFO)
        self._events: deque[dict[str, Any]] = deque(maxlen=size)
        self._next = 1
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a bad log call must not break the daemon
            message = str(record.msg)
        with self._guard:
            self._events.append({
                "seq": self._next, "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created)),
                "level": record.levelname.lower(), "source": record.name.removeprefix("tapeconsole."),
                "message": message,
            })
            self._next += 1

    def after(self, seq: int, limit: int = 200) -> list[dict[str, Any]]:
        with self._guard:
            return [e for e in self._events if e["seq"] > seq][-limit:]


class SystemSampler:
    """The daemon's own CPU (its process, every thread) and the backup server's (host) CPU, memory, network in
    and disk read, as rates between two calls; `window_seconds` says over how long."""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._last: tuple[float, int, int] | None = None
        self._process = psutil.Process()
        self._cores = psutil.cpu_count() or 1
        psutil.cpu_percent(None)
        self._process.cpu_percent(None)

    def sample(self) -> dict[str, Any]:
        ps = self._psutil
        now = time.monotonic()
        net = ps.net_io_counters()
        disk = ps.disk_io_counters()
        net_in = net.bytes_recv if net else 0
        disk_read = disk.read_bytes if disk else 0
        rates = {"net_in_rate": 0.0, "disk_read_rate": 0.0, "window_seconds": None}
        if self._last is not None and now > self._last[0]:
            span = now - self._last[0]
            rates = {"net_in_rate": (net_in - self._last[1]) / span,
                     "disk_read_rate": (disk_read - self._last[2]) / span, "window_seconds": span}
        self._last = (now, net_in, disk_read)
        memory = ps.virtual_memory()
        with self._process.oneshot():
            daemon_cpu = self._process.cpu_percent(None) / self._cores  # of the whole host, like cpu_percent
            threads = self._process.num_threads()
            rss = self._process.memory_info().rss
        return {"cpu_percent": ps.cpu_percent(None), "memory_percent": memory.percent,
                "memory_used": memory.used, "memory_total": memory.total,
                "daemon_cpu_percent": daemon_cpu, "daemon_threads": threads, "daemon_rss": rss, **rates}
