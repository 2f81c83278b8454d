"""config.toml read once and validated into the records of schema.py. Every error names the file, line and key.

Relative paths inside the file resolve against the folder of the config file itself.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from console.config.errors import ConfigError, find_line
from console.config.schema import (
    COMPRESSION_LEVELS,
    COMPRESSIONS,
    DEFAULT_LEVELS,
    LOOKAHEAD_NIGHTS,
    NOTIFY_EVENTS,
    SOURCES,
    Config,
    DaemonConfig,
    DemoConfig,
    DriveConfig,
    JobConfig,
    NotifyConfig,
    PoolConfig,
    RotationConfig,
    ShelfConfig,
    VerifyConfig,
    XoConfig,
)
from console.wire.lto import GENERATIONS, drive_can_write, generation_of_barcode

BARCODE = re.compile(r"^[A-Z0-9]{6}L[3-9]$")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MIB = 1024 * 1024
GIB = 1024 * MIB
MB = 1000 * 1000

T = TypeVar("T")


class _Reader:
    """Walks the parsed TOML, converting values and reporting errors with their line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.base = path.parent

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.path, key, message, find_line(self.text, key))

    def table(self, data: dict[str, Any], key: str, *, required: bool = True) -> dict[str, Any] | None:
        value = data.get(key.rsplit(".", 1)[-1])
        if value is None:
            if required:
                raise self.fail(key, "missing table")
            return None
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, got {type(value).__name__}")
        return value

    def check_keys(self, data: dict[str, Any], prefix: str, allowed: set[str]) -> None:
        for key in data:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.fail(f"{prefix}.{key}" if prefix else key, f"unknown key (known: {hint})")

    def get(
        self,
        data: dict[str, Any],
        prefix: str,
        key: str,
        kind: type[T] | tuple[type, ...],
        default: Any = ...,
        check: Callable[[Any], str | None] | None = None,
    ) -> T:
        full = f"{prefix}.{key}" if prefix else key
        if key not in data:
            if default is ...:
                raise self.fail(full, "missing")
            return default
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(full, f"must be {_kind_name(kinds)}, got {value!r}")
        if not isinstance(value, kinds):
            raise self.fail(full, f"must be {_kind_name(kinds)}, got {_shown(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(full, f"must be a finite number, got {value}")
        if check is not None:
            problem = check(value)
            if problem:
                raise self.fail(full, problem)
        return value  # type: ignore[return-value]

    def path_value(self, data: dict[str, Any], prefix: str, key: str, default: Any = ...) -> Path | None:
        value = self.get(data, prefix, key, str, default)
        if value == "" and default is not None:
            raise self.fail(f"{prefix}.{key}" if prefix else key, "must not be empty")
        if value is None or value == "":
            return None
        p = Path(os.path.expanduser(value))
        return p if p.is_absolute() else (self.base / p)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _positive(value: float) -> str | None:
    return None if value > 0 else f"must be greater than 0, got {value}"


def _generation(value: str) -> str | None:
    return None if value in GENERATIONS else f"must be one of {', '.join(GENERATIONS)}, got {value!r}"


def _block_size(value: int) -> str | None:
    if value < 512 or value % 512 or value > 16 * MIB:
        return f"must be a multiple of 512 between 512 and {16 * MIB}, got {value}"
    return None


def _load_daemon(r: _Reader, raw: dict[str, Any]) -> DaemonConfig:
    data = r.table(raw, "daemon", required=False) or {}
    r.check_keys(data, "daemon", {"socket", "group", "state_dir", "log_level"})
    state_dir = r.path_value(data, "daemon", "state_dir", "var")
    assert state_dir is not None
    socket = r.path_value(data, "daemon", "socket", str(state_dir / "tapeconsole.sock"))
    assert socket is not None
    if len(str(socket).encode()) > 100:
        raise r.fail("daemon.socket", f"path too long for a Unix socket ({len(str(socket))} bytes, max 100)")
    group = r.get(data, "daemon", "group", str, "") or None
    level = r.get(
        data, "daemon", "log_level", str, "info",
        check=lambda v: None if v in ("debug", "info", "warning", "error") else "must be debug, info, warning or error",
    )
    return DaemonConfig(socket=socket, group=group, state_dir=state_dir, log_level=level)


def _load_shelf(r: _Reader, raw: dict[str, Any], state_dir: Path) -> ShelfConfig | None:
    data = r.table(raw, "shelf", required=False)
    if data is None:
        return None
    r.check_keys(data, "shelf", {"path", "cartridges", "capacity_gib", "early_warning_mib", "write_protected"})
    path = r.path_value(data, "shelf", "path", str(state_dir / "shelf"))
    assert path is not None
    cartridges = r.get(data, "shelf", "cartridges", list)
    seen: set[str] = set()
    for i, barcode in enumerate(cartridges):
        if not isinstance(barcode, str) or not BARCODE.match(barcode):
            raise r.fail("shelf.cartridges", f"item {i + 1} {barcode!r} is not an LTO barcode like DEM001L5")
        if barcode in seen:
            raise r.fail("shelf.cartridges", f"{barcode} is listed twice")
        if generation_of_barcode(barcode) not in GENERATIONS:
            raise r.fail("shelf.cartridges", f"{barcode}: unsupported generation")
        seen.add(barcode)
    caps = r.get(data, "shelf", "capacity_gib", dict, {})
    capacity: dict[str, int] = {}
    for gen, value in caps.items():
        key = f'shelf.capacity_gib."{gen}"'
        if gen not in GENERATIONS:
            raise ConfigError(r.path, f"shelf.capacity_gib.{gen}", _generation(gen) or "", find_line(r.text, key))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(
                r.path, f"shelf.capacity_gib.{gen}", f"must be a number of GiB greater than 0, got {value!r}",
                find_line(r.text, key),
            )
        capacity[gen] = int(value * GIB)
    for barcode in cartridges:
        gen = generation_of_barcode(barcode)
        if gen not in capacity:
            raise r.fail("shelf.capacity_gib", f"no capacity given for {gen} (needed by {barcode})")
    ew = r.get(data, "shelf", "early_warning_mib", (int, float), 64, check=_positive)
    protected = r.get(data, "shelf", "write_protected", list, [])
    for barcode in protected:
        if barcode not in seen:
            raise r.fail("shelf.write_protected", f"{barcode!r} is not in shelf.cartridges")
    return ShelfConfig(
        path=path,
        cartridges=tuple(cartridges),
        capacity_bytes=capacity,
        early_warning_bytes=int(ew * MIB),
        write_protected=tuple(protected),
    )


def _load_drive(r: _Reader, name: str, data: Any) -> DriveConfig:
    prefix = f"drives.{name}"
    if not NAME.match(name):
        raise r.fail(prefix, "drive names are lower-case letters, digits, - and _ (max 32)")
    if not isinstance(data, dict):
        raise r.fail(prefix, "must be a table")
    r.check_keys(
        data, prefix,
        {"kind", "generation", "device", "block_size", "buffer_mib", "native_rate_mb_s", "floor_rate_mb_s"},
    )
    kind = r.get(
        data, prefix, "kind", str,
        check=lambda v: None if v in ("virtual", "st") else f"must be 'virtual' or 'st', got {v!r}",
    )
    generation = r.get(data, prefix, "generation", str, check=_generation)
    device = r.path_value(data, prefix, "device", None)
    if kind == "st" and device is None:
        raise r.fail(f"{prefix}.device", "an st drive needs its no-rewind device, e.g. /dev/nst0")
    if kind == "st" and device is not None and not device.name.startswith("nst"):
        raise r.fail(f"{prefix}.device", f"use the no-rewind device (/dev/nstN), not {device}")
    block_size = r.get(data, prefix, "block_size", int, 262144, check=_block_size)
    buffer_mib = r.get(data, prefix, "buffer_mib", int, 512, check=_positive)
    native = r.get(data, prefix, "native_rate_mb_s", (int, float), 0)
    floor = r.get(data, prefix, "floor_rate_mb_s", (int, float), 0)
    if native < 0 or floor < 0:
        raise r.fail(f"{prefix}.native_rate_mb_s", "rates cannot be negative (0 means unlimited)")
    if native and floor > native:
        raise r.fail(f"{prefix}.floor_rate_mb_s", f"floor {floor} is above the native rate {native}")
    return DriveConfig(
        name=name,
        kind=kind,
        generation=generation,
        device=device,
        block_size=block_size,
        buffer_bytes=buffer_mib * MIB,
        native_rate=native * MB if native else None,
        floor_rate=floor * MB if floor else None,
    )


def _load_pool(r: _Reader, name: str, data: Any) -> PoolConfig:
    prefix = f"pools.{name}"
    if not NAME.match(name):
        raise r.fail(prefix, "pool names are lower-case letters, digits, - and _ (max 32)")
    if not isinstance(data, dict):
        raise r.fail(prefix, "must be a table")
    r.check_keys(data, prefix, {"generation", "retention_days", "keep_forever", "allocation", "vault"})
    generation = r.get(data, prefix, "generation", str, check=_generation)
    forever = r.get(data, prefix, "keep_forever", bool, False)
    retention = r.get(
        data, prefix, "retention_days", int, None,
        check=lambda v: None if 0 <= v <= 36500 else f"must be between 0 and 36500, got {v}",
    )
    if retention is None and not forever:
        raise r.fail(f"{prefix}.retention_days", "missing (or set keep_forever = true)")
    if retention is not None and forever:
        raise r.fail(f"{prefix}.keep_forever", "conflicts with retention_days: choose one")
    allocation = r.get(
        data, prefix, "allocation", str, "new-each-run",
        check=lambda v: None if v in ("new-each-run", "append") else "must be 'new-each-run' or 'append'",
    )
    vault = r.get(data, prefix, "vault", str, "vault")
    return PoolConfig(
        name=name,
        generation=generation,
        retention_days=None if forever else retention,
        allocation=allocation,
        vault=vault,
    )


def _load_xo(r: _Reader, raw: dict[str, Any]) -> XoConfig | None:
    data = r.table(raw, "xo", required=False)
    if data is None:
        return None
    r.check_keys(data, "xo", {"simulator", "url", "token_file", "ca_file", "verify_tls", "simulator_seed",
                              "simulator_scale"})
    simulator = r.get(data, "xo", "simulator", bool, False)
    url = r.get(
        data, "xo", "url", str, None,
        check=lambda v: None if v.startswith(("https://", "http://")) else f"must start with https://, got {v!r}",
    )
    token_file = r.path_value(data, "xo", "token_file", None)
    if not simulator:
        if url is None:
            raise r.fail("xo.url", "missing (or set simulator = true)")
        if token_file is None:
            raise r.fail("xo.token_file", "missing: a file holding an XO authentication token (mode 0600)")
    return XoConfig(
        simulator=simulator,
        url=url,
        token_file=token_file,
        ca_file=r.path_value(data, "xo", "ca_file", None),
        verify_tls=r.get(data, "xo", "verify_tls", bool, True),
        simulator_seed=r.get(data, "xo", "simulator_seed", int, 1),
        simulator_scale=float(r.get(data, "xo", "simulator_scale", (int, float), 1.0, check=_positive)),
    )


def _load_job(r: _Reader, name: str, data: Any, drives: dict[str, DriveConfig],
              pools: dict[str, PoolConfig], xo: XoConfig | None) -> JobConfig:
    prefix = f"jobs.{name}"
    if not NAME.match(name):
        raise r.fail(prefix, "job names are lower-case letters, digits, - and _ (max 32)")
    if not isinstance(data, dict):
        raise r.fail(prefix, "must be a table")
    r.check_keys(data, prefix, {
        "source", "drive", "pool", "eject_when_done", "part_mib", "schedule", "vms", "format", "remote_path",
        "paths", "compression", "compression_level", "compression_threads", "frame_mib",
    })
    source = r.get(data, prefix, "source", str,
                   check=lambda v: None if v in SOURCES else f"must be one of {', '.join(SOURCES)}, got {v!r}")
    drive = r.get(data, prefix, "drive", str,
                  check=lambda v: None if v in drives else f"no drive {v!r} (drives: {', '.join(drives)})")
    pool = r.get(data, prefix, "pool", str,
                 check=lambda v: None if v in pools else f"no pool {v!r} (pools: {', '.join(pools) or 'none'})")
    if not drive_can_write(drives[drive].generation, pools[pool].generation):
        raise r.fail(f"{prefix}.pool", f"drive {drive} ({drives[drive].generation}) cannot write "
                                       f"{pools[pool].generation} media of pool {pool}")
    vms = r.get(data, prefix, "vms", list, ["*"])
    if not vms or not all(isinstance(v, str) and v for v in vms):
        raise r.fail(f"{prefix}.vms", "must be a list of VM names or globs, e.g. [\"*\"]")
    fmt = r.get(data, prefix, "format", str, "vhd",
                check=lambda v: None if v in ("vhd", "raw") else f"must be 'vhd' or 'raw', got {v!r}")
    remote = r.path_value(data, prefix, "remote_path", None)
    paths_raw = r.get(data, prefix, "paths", list, [])
    paths: list[Path] = []
    for item in paths_raw:
        if not isinstance(item, str) or not item:
            raise r.fail(f"{prefix}.paths", f"must be a list of folders, got {item!r}")
        p = Path(os.path.expanduser(item))
        paths.append(p if p.is_absolute() else r.base / p)
    if source == "files" and not paths:
        raise r.fail(f"{prefix}.paths", "a files job needs the folders to archive")
    if source == "xo_remote" and remote is None:
        raise r.fail(f"{prefix}.remote_path", "an xo_remote job needs the backup remote's folder")
    if source == "xo" and xo is None:
        raise r.fail(f"{prefix}.source", "an xo job needs an [xo] table (url and token_file, or simulator)")
    schedule = r.get(data, prefix, "schedule", str, None)
    if schedule is not None:
        schedule = _cron(r, f"{prefix}.schedule", schedule)
    compression = r.get(data, prefix, "compression", str, "zstd",
                        check=lambda v: None if v in COMPRESSIONS else
                        f"must be one of {', '.join(COMPRESSIONS)}, got {v!r}")
    low, high = COMPRESSION_LEVELS[compression]
    return JobConfig(
        name=name,
        source=source,
        drive=drive,
        pool=pool,
        eject_when_done=r.get(data, prefix, "eject_when_done", bool, True),
        part_bytes=r.get(data, prefix, "part_mib", int, 1024,
                         check=lambda v: None if 1 <= v <= 1024 * 1024 else "must be between 1 and 1048576")
        * MIB,
        schedule=schedule,
        vms=tuple(vms),
        vdi_format=fmt,
        remote_path=remote,
        paths=tuple(paths),
        compression=compression,
        compression_level=r.get(data, prefix, "compression_level", int, DEFAULT_LEVELS[compression],
                                check=lambda v: None if low <= v <= high else
                                f"must be {low} to {high} for {compression} compression, got {v}"),
        compression_threads=r.get(data, prefix, "compression_threads", int, 0,
                                  check=lambda v: None if 0 <= v <= 256 else "must be 0 (all cores) to 256"),
        frame_bytes=r.get(data, prefix, "frame_mib", int, 64,
                          check=lambda v: None if 1 <= v <= 4096 else f"must be 1 to 4096 (MiB), got {v}") * MIB,
    )


def _load_notify(r: _Reader, raw: dict[str, Any]) -> NotifyConfig | None:
    data = r.table(raw, "notify", required=False)
    if data is None:
        return None
    r.check_keys(data, "notify", {"events", "command", "mail_to", "mail_from", "smtp_host", "smtp_port",
                                  "smtp_starttls", "smtp_user", "smtp_password_file", "waiting_minutes",
                                  "summary_at"})
    events = r.get(data, "notify", "events", list, list(NOTIFY_EVENTS))
    for event in events:
        if event not in NOTIFY_EVENTS:
            raise r.fail("notify.events", f"unknown event {event!r} (events: {', '.join(NOTIFY_EVENTS)})")
    mail_to = r.get(data, "notify", "mail_to", list, [])
    for address in mail_to:
        if not isinstance(address, str) or "@" not in address:
            raise r.fail("notify.mail_to", f"{address!r} is not a mail address")
    command = r.get(data, "notify", "command", str, "") or None
    if not command and not mail_to:
        raise r.fail("notify", "give a command, mail_to addresses, or both")
    summary_at = r.get(data, "notify", "summary_at", str, "07:00",
                       check=lambda v: None if re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v) else "must be HH:MM")
    return NotifyConfig(
        events=tuple(events),
        command=command,
        mail_to=tuple(mail_to),
        mail_from=r.get(data, "notify", "mail_from", str, "tapeconsole@localhost"),
        smtp_host=r.get(data, "notify", "smtp_host", str, "localhost"),
        smtp_port=r.get(data, "notify", "smtp_port", int, 25,
                        check=lambda v: None if 0 < v < 65536 else "must be a port number"),
        smtp_starttls=r.get(data, "notify", "smtp_starttls", bool, False),
        smtp_user=r.get(data, "notify", "smtp_user", str, "") or None,
        smtp_password_file=r.path_value(data, "notify", "smtp_password_file", None),
        waiting_minutes=r.get(data, "notify", "waiting_minutes", int, 30, check=_positive),
        summary_at=summary_at,
    )


def _cron(r: _Reader, key: str, value: str) -> str:
    from croniter import croniter

    if len(value.split()) != 5 or not croniter.is_valid(value):
        raise r.fail(key, f"must be a cron expression of 5 fields, got {value!r}")
    return value


def _load_verify(r: _Reader, raw: dict[str, Any], pools: dict[str, PoolConfig]) -> VerifyConfig | None:
    data = r.table(raw, "verify", required=False)
    if data is None:
        return None
    r.check_keys(data, "verify", {"schedule", "pool", "tapes"})
    pool = r.get(data, "verify", "pool", str, None,
                 check=lambda v: None if v in pools else f"no pool {v!r} (pools: {', '.join(pools) or 'none'})")
    return VerifyConfig(
        schedule=_cron(r, "verify.schedule", r.get(data, "verify", "schedule", str)),
        pool=pool,
        tapes=r.get(data, "verify", "tapes", int, 1, check=lambda v: None if 1 <= v <= 100 else "must be 1 to 100"),
    )


def _load_rotation(r: _Reader, raw: dict[str, Any]) -> RotationConfig:
    data = r.table(raw, "rotation", required=False) or {}
    r.check_keys(data, "rotation", {"lookahead_nights"})
    return RotationConfig(lookahead_nights=r.get(
        data, "rotation", "lookahead_nights", int, LOOKAHEAD_NIGHTS,
        check=lambda v: None if 1 <= v <= 90 else f"must be 1 to 90 nights, got {v}"))


def _load_demo(r: _Reader, raw: dict[str, Any]) -> DemoConfig | None:
    data = r.table(raw, "demo", required=False)
    if data is None:
        return None
    r.check_keys(data, "demo", {"files_folder", "files_mib", "seed"})
    folder = r.path_value(data, "demo", "files_folder")
    assert folder is not None
    return DemoConfig(
        files_folder=folder,
        files_mib=r.get(data, "demo", "files_mib", int, 200, check=_positive),
        seed=r.get(data, "demo", "seed", int, 1),
    )


TOP_LEVEL = {"daemon", "shelf", "drives", "pools", "xo", "jobs", "demo", "notify", "verify", "rotation"}


def load_config(path: Path) -> Config:
    """Read and validate a config file; raises ConfigError with file, line and key."""
    path = Path(path).expanduser().absolute()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        byte = exc.object[exc.start]
        raise ConfigError(path, "", f"not UTF-8 text (byte {exc.start} is {byte:#04x})", line) from None
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise ConfigError(path, "", f"not valid TOML: {str(exc).split(' (at')[0]}", line) from None
    r = _Reader(path, text)
    try:
        return _load(path, r, raw)
    except ConfigError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError, RecursionError) as exc:
        # a shape no check above foresaw: still one line naming the file, never a traceback
        raise ConfigError(path, "", f"a value of an unexpected kind ({exc.__class__.__name__}: {exc})") from None


def _load(path: Path, r: _Reader, raw: dict[str, Any]) -> Config:
    r.check_keys(raw, "", TOP_LEVEL)
    daemon = _load_daemon(r, raw)
    shelf = _load_shelf(r, raw, daemon.state_dir)
    drives_raw = r.table(raw, "drives")
    assert drives_raw is not None
    if not drives_raw:
        raise r.fail("drives", "no drive is configured")
    drives = {name: _load_drive(r, name, data) for name, data in drives_raw.items()}
    devices: dict[Path, str] = {}
    for drive in drives.values():
        if drive.kind == "virtual" and shelf is None:
            raise r.fail(f"drives.{drive.name}.kind", "a virtual drive needs a [shelf] of virtual cartridges")
        if drive.device is not None:
            if drive.device in devices:
                raise r.fail(f"drives.{drive.name}.device", f"{drive.device} is also used by {devices[drive.device]}")
            devices[drive.device] = drive.name
    pools_raw = r.table(raw, "pools", required=False) or {}
    pools = {name: _load_pool(r, name, data) for name, data in pools_raw.items()}
    xo = _load_xo(r, raw)
    jobs_raw = r.table(raw, "jobs", required=False) or {}
    jobs = {name: _load_job(r, name, data, drives, pools, xo) for name, data in jobs_raw.items()}
    return Config(path=path, daemon=daemon, shelf=shelf, drives=drives, pools=pools, xo=xo, jobs=jobs,
                  demo=_load_demo(r, raw), notify=_load_notify(r, raw), verify=_load_verify(r, raw, pools),
                  rotation=_load_rotation(r, raw), raw=raw)


def embedded_default_path() -> Path:
    """The embedded default config shipped inside the package (virtual drives, XO simulator)."""
    return Path(__file__).resolve().parent / "default_config.toml"


def resolve_config_path(explicit: str | None) -> Path:
    """--config, then $TAPECONSOLE_CONFIG, then ./config.toml, then the embedded default.

    The embedded default is copied on first use to ~/.local/share/tapeconsole/config.toml so that its
    relative state folder (var/) lives there and not inside the installed package.
    """
    if explicit:
        return Path(explicit).expanduser().absolute()
    env = os.environ.get("TAPECONSOLE_CONFIG")
    if env:
        return Path(env).expanduser().absolute()
    local = Path.cwd() / "config.toml"
    if local.is_file():
        return local
    home = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "tapeconsole"
    target = home / "config.toml"
    if not target.exists():
        home.mkdir(parents=True, exist_ok=True)
        target.write_text(embedded_default_path().read_text(encoding="utf-8"), encoding="utf-8")
    return target
