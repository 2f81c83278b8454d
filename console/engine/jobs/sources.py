"""Which members a job's source produces: the bridge from config to the source modules."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from console.config.schema import Config, JobConfig
from console.engine.jobs.backup import BackupRun
from console.engine.pipeline.parts import SourceMember
from console.engine.sources.xo import xo_members
from console.engine.sources.xo_client import XoClient

XoConnector = Callable[[], XoClient]


class JobSources:
    def __init__(self, config: Config, xo_connect: XoConnector | None = None) -> None:
        self.config = config
        self._xo_connect = xo_connect
        self._xo: XoClient | None = None
        self._lock = threading.Lock()

    def xo_client(self) -> XoClient:
        with self._lock:
            if self._xo is None:
                if self._xo_connect is None:
                    raise LookupError("no Xen Orchestra is configured ([xo] in config.toml)")
                self._xo = self._xo_connect()
            return self._xo

    def close(self) -> None:
        with self._lock:
            if self._xo is not None:
                self._xo.close()
                self._xo = None

    def __call__(self, job: JobConfig, run: BackupRun) -> Iterable[SourceMember]:
        if job.source == "xo":
            return xo_members(self.xo_client(), job)
        if job.source == "files":
            from console.engine.jobs.files_job import files_members

            return files_members(job, run, self.config)
        if job.source == "xo_remote":
            from console.engine.sources.xo_remote import remote_members

            return remote_members(job)
        raise LookupError(f"job {job.name}: unknown source {job.source!r}")
