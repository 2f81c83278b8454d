"""config.toml as the program holds it: typed, frozen records, one per section (loading.py reads the file,
checks every value and builds these)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    socket: Path
    group: str | None
    state_dir: Path
    log_level: str


@dataclass(frozen=True, slots=True)
class ShelfConfig:
    path: Path
    cartridges: tuple[str, ...]
    capacity_bytes: dict[str, int]  # per generation
    early_warning_bytes: int
    write_protected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DriveConfig:
    name: str
    kind: str  # virtual | st
    generation: str
    device: Path | None  # st only
    block_size: int  # the tar record size written as one tape block
    buffer_bytes: int
    native_rate: float | None  # bytes/s, virtual only; None = unlimited
    floor_rate: float | None


@dataclass(frozen=True, slots=True)
class PoolConfig:
    name: str
    generation: str
    retention_days: int | None  # None = keep forever
    allocation: str  # new-each-run | append
    vault: str


@dataclass(frozen=True, slots=True)
class XoConfig:
    simulator: bool
    url: str | None
    token_file: Path | None
    ca_file: Path | None
    verify_tls: bool
    simulator_seed: int
    simulator_scale: float  # size of the simulator's VDIs relative to its default (tens of MiB)


SOURCES = ("xo", "xo_remote", "files")
COMPRESSIONS = ("zstd", "gzip", "none")  # the files source's archive: .tar.zst, .tar.gz, .tar
COMPRESSION_LEVELS = {"zstd": (1, 19), "gzip": (1, 9), "none": (0, 0)}
DEFAULT_LEVELS = {"zstd": 3, "gzip": 6, "none": 0}


@dataclass(frozen=True, slots=True)
class JobConfig:
    name: str
    source: str  # xo | xo_remote | files
    drive: str
    pool: str
    eject_when_done: bool
    part_bytes: int  # members larger than this are written as NAME.part0001, ...
    schedule: str | None  # cron expression, run by the daemon
    vms: tuple[str, ...]  # xo, xo_remote: VM name globs
    vdi_format: str  # xo: vhd | raw
    remote_path: Path | None  # xo_remote: the backup remote's mount point
    paths: tuple[Path, ...]  # files: the trees to archive
    compression: str  # files: zstd | gzip | none
    compression_level: int  # files: zstd 1..19 (default 3), gzip 1..9 (default 6), none 0
    compression_threads: int  # files: 0 = all cores
    frame_bytes: int  # files: inner tar bytes per independent compressed frame


NOTIFY_EVENTS = ("job-failed", "waiting-for-tape", "tape-full", "morning-summary", "missed-run", "capacity-warning")


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    events: tuple[str, ...]
    command: str | None  # run with the event in TAPECONSOLE_EVENT / TAPECONSOLE_SUBJECT, the text on stdin
    mail_to: tuple[str, ...]
    mail_from: str
    smtp_host: str
    smtp_port: int
    smtp_starttls: bool
    smtp_user: str | None
    smtp_password_file: Path | None
    waiting_minutes: int  # tell someone when a job has waited this long for a tape
    summary_at: str  # HH:MM, the morning summary of the night


@dataclass(frozen=True, slots=True)
class VerifyConfig:
    schedule: str  # cron expression: when the daemon reads tapes back and checks their checksums
    pool: str | None  # only tapes of this pool (None: any)
    tapes: int  # how many tapes each time, those verified longest ago first


LOOKAHEAD_NIGHTS = 7


@dataclass(frozen=True, slots=True)
class RotationConfig:
    lookahead_nights: int = LOOKAHEAD_NIGHTS  # how far the swap list looks ahead for tapes to bring back


@dataclass(frozen=True, slots=True)
class DemoConfig:
    files_folder: Path  # where the demo file tree for nightly-files is generated on first run
    files_mib: int
    seed: int


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    daemon: DaemonConfig
    shelf: ShelfConfig | None
    drives: dict[str, DriveConfig]
    pools: dict[str, PoolConfig]
    xo: XoConfig | None
    jobs: dict[str, JobConfig] = field(default_factory=dict)
    demo: DemoConfig | None = None
    notify: NotifyConfig | None = None
    verify: VerifyConfig | None = None
    rotation: RotationConfig = field(default_factory=RotationConfig)
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent
