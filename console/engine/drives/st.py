"""A real tape drive through the Linux st driver on its no-rewind device (/dev/nstN).

The Drive semantics are the st driver's own (shared/reference/st-and-lto.md); this module opens the
device, issues MTIOCTOP / MTIOCGET / MTIOCPOS and read()/write(), and turns errno values into the
drive exceptions of console/engine/drives/base.py:

    ENOMEDIUM (or EIO with the drive not online) -> NoTape      EROFS, EACCES on a write -> WriteProtected
    ENOSPC on a write                            -> EndOfMedium  ENOMEM on a read         -> DriveIOError
    EIO from MTIOCPOS / MTSEEK on a drive that never answered them -> NotSupported (callers fall back)
    EIO from MTCOMPRESSION                       -> NotSupported EBUSY on open            -> DriveBusy
    anything else                                -> DriveIOError, with the operation and the errno text

What the driver reports is used as it is, with four guards:
- mt_fileno / mt_blkno that cannot be true are reported as -1 (unknown): st's MTEOM spaces forward over
  0x7fffff filemarks first and, when the drive reports no residual (tgt), leaves 8388607 there.
- A read that hands back a full buffer while the driver reports end of medium or end of data is not a
  block: st copies out its buffer when the drive's sense data carries no residual count (tgt does this
  at end of data). It is reported as end of data (b"" after a filemark, otherwise BlankTape at BOT or
  DriveIOError), never as data.
- A read buffer larger than the drive's largest block fails with EINVAL before the tape moves; the read is
  retried with half the buffer (down to 64 KiB) and the limit remembered.
- The outcome of an asynchronous (variable-block) write that st hands to an MTIOCGET instead of to the
  next write (ENOSPC at early warning, or EIO) is kept and reported by the next operation.

Threads: one operation at a time; another one meanwhile raises DriveBusy. status() and counters() never
wait behind an operation (a SCSI command can take minutes): they return the snapshot taken after the last
operation. When the drive is idle, status() asks the driver again (MTIOCGET) before answering.

MTIOCGET is not free: st first flushes its buffer, and in fixed-block mode that means writing out
buffered blocks, or spacing back over read-ahead blocks (and a filemark) it has not handed out yet. So
between data reads and writes the snapshot is advanced by arithmetic; the driver is asked again after a
filemark, an end of data, any positioning, and in variable-block mode at most every STREAM_REFRESH_SECONDS.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from console.engine.drives.base import (
    BlankTape,
    Drive,
    DriveBusy,
    DriveCounters,
    DriveError,
    DriveIOError,
    DriveStatus,
    EndOfMedium,
    NoTape,
    NotSupported,
    WriteProtected,
)
from console.engine.drives.st_ioctl import Gstat, MtGet, MtOp, StDevice, TapeDevice
from console.engine.drives.tape_alerts import TAPEALERT_PAGES, decode_tapealert_page, tapealert_name
from console.wire.lto import DENSITY_GENERATIONS, generation_number

# st's MTEOM first spaces forward over this many filemarks; a file or block number this large is the
# driver's arithmetic on a drive that reported no residual count, not a position.
ABSURD_POSITION = 0x7FFFFF
MAX_BLOCK_SIZE = 0xFFFFFF  # what MTSETBLK can express
MIN_READ_LIMIT = 64 * 1024
STREAM_REFRESH_SECONDS = 0.5
_REFRESH = "reading its status"

# What an operation keeps of the state the previous one left (see StDrive._locked).
_READ = "read"  # st's buffer may hold read-ahead blocks; an end of data just reported stays reported
_WRITE = "write"  # st's buffer may hold written blocks; past early warning stays so
_FILEMARK = "filemark"  # past early warning stays so
_OTHER = "other"

def tape_index(device: Path) -> int | None:
    """The N of /dev/nstN (or /dev/stN, with st's mode suffixes l, m, a), after following symlinks."""
    match = re.fullmatch(r"n?st(\d+)[lma]?", device.resolve().name)
    return int(match.group(1)) if match else None


def _position(value: int) -> int:
    return value if 0 <= value < ABSURD_POSITION else -1


def _strerror(exc: OSError) -> str:
    return exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))


class StDrive(Drive):
    """A tape drive on a Linux st no-rewind device. See the module docstring for the error mapping."""

    def __init__(
        self,
        name: str,
        generation: str,
        device: Path,
        *,
        load_timeout: float = 600.0,
        poll_interval: float = 2.0,
        opener: Callable[[Path], TapeDevice] = StDevice.open,
        sysfs: Path = Path("/sys"),
        sg_logs: str = "sg_logs",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        generation_number(generation)  # ValueError for an unknown generation
        device = Path(device)
        if re.fullmatch(r"st\d+[lma]?", device.resolve().name):
            raise ValueError(f"{device} rewinds on close: use the no-rewind device (/dev/nstN)")
        self.name = name
        self.generation = generation
        self.device = device
        self.load_timeout = load_timeout
        self.poll_interval = poll_interval
        self._opener = opener
        self._sysfs = sysfs
        self._sg_logs = sg_logs
        self._clock = clock
        self._sleep = sleep
        self._op_lock = threading.Lock()
        self._busy_with = ""
        self._dev: TapeDevice | None = None
        self._released = False  # close() was called: status() does not reopen the device by itself
        self._mtget: MtGet | None = None
        self._snapshot = self._offline_status()
        self._counters = DriveCounters()
        self._counters_lock = threading.Lock()
        self._read_limit = 0  # 0: no limit learned yet
        self._eod_reported = False
        self._positions_work = False  # MTIOCPOS or MTSEEK succeeded once on this drive
        self._buffered = False  # fixed-block data moved since the last MTIOCGET: st may hold some in its buffer
        self._refreshed_at = 0.0
        self._published = False  # the current operation has published a snapshot already
        self._past_early_warning = False  # st shows EOT and EOD in turn while writes alternate: keep EOT
        self._writing = False  # the last operation wrote data: st may still be writing it behind
        self._deferred_write_error: int | None = None  # errno of that write, reported to an MTIOCGET

    def __repr__(self) -> str:
        return f"StDrive({self.name!r}, {self.generation}, {str(self.device)!r})"

    @property
    def kind(self) -> str:
        return "st"

    # ---- state, from any thread
    def status(self) -> DriveStatus:
        if self._op_lock.acquire(blocking=False):
            try:
                self._busy_with = _REFRESH
                if not self._buffered and (self._dev is not None or not self._released):
                    with contextlib.suppress(DriveError):
                        self._refresh(self._device())
            finally:
                self._busy_with = ""
                self._op_lock.release()
        return replace(self._snapshot)

    def counters(self) -> DriveCounters:
        with self._counters_lock:
            counters = replace(self._counters)
        stats = self._sysfs_stats()
        if stats is not None:
            counters.bytes_written = stats.get("write_byte_cnt", counters.bytes_written)
            counters.bytes_read = stats.get("read_byte_cnt", counters.bytes_read)
        return counters

    def stats_dir(self) -> Path | None:
        """/sys/class/scsi_tape/stN/stats of this drive, when the kernel has it."""
        index = tape_index(self.device)
        path = self._sysfs / "class" / "scsi_tape" / f"st{index}" / "stats"
        return path if index is not None and path.is_dir() else None

    def sg_device(self) -> Path | None:
        """The SCSI generic device (/dev/sgN) of this drive, from sysfs; None when unknown."""
        index = tape_index(self.device)
        if index is None:
            return None
        folder = self._sysfs / "class" / "scsi_tape" / f"st{index}" / "device" / "scsi_generic"
        try:
            names = sorted(entry.name for entry in folder.iterdir())
        except OSError:
            return None
        return Path("/dev") / names[0] if names else None

    def tape_alerts(self) -> list[str]:
        """The TapeAlert flags the drive has set, by name (sg_logs page 0x12, else 0x2E, on /dev/sgN).

        Raises NotSupported("TapeAlert not available: <why>") when sg_logs is missing, the drive's sg
        device is unknown or the drive does not answer the pages (tgt has no LOG SENSE)."""
        program = shutil.which(self._sg_logs)
        if program is None:
            raise NotSupported(f"TapeAlert not available: {self._sg_logs} (sg3-utils) is not installed")
        sg = self.sg_device()
        if sg is None:
            raise NotSupported(
                f"TapeAlert not available: no SCSI generic device found for {self.device} (is the sg module loaded?)"
            )
        problems = []
        for page in TAPEALERT_PAGES:
            command = [program, f"--page=0x{page:02x}", "--raw", "--no_inq", str(sg)]
            try:
                result = subprocess.run(command, capture_output=True, timeout=60, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                problems.append(f"page 0x{page:02x}: {exc}")
                continue
            if result.returncode != 0:
                reason = result.stderr.decode(errors="replace").strip().splitlines()
                problems.append(f"page 0x{page:02x}: {reason[-1] if reason else f'exit {result.returncode}'}")
                continue
            try:
                return [tapealert_name(flag) for flag in decode_tapealert_page(result.stdout)]
            except ValueError as exc:
                problems.append(f"page 0x{page:02x}: {exc}")
        raise NotSupported(f"TapeAlert not available: {sg} ({self.device}): {'; '.join(problems)}")

    # ---- media
    def load(self, barcode: str | None = None, *, timeout: float | None = None) -> None:
        """Wait until a cartridge is loaded and ready: the onsite person inserts it. The device is
        reopened at every poll (st looks at the drive again on open); a cartridge that sits in the
        drive unloaded gets an MTLOAD; once ready it is rewound. NoTape when none is ready within
        `timeout` (load_timeout). A drive that is ready already is left as it is."""
        limit = self.load_timeout if timeout is None else timeout
        expected = f" ({barcode})" if barcode else ""
        deadline = self._clock() + limit
        with self._locked("waiting for a cartridge"):
            if self._dev is not None and self._online(self._dev):
                return
            while True:
                self._reopen()
                dev = self._device()
                if not self._online(dev):
                    with contextlib.suppress(OSError):
                        dev.op(MtOp.LOAD, 1)
                if self._online(dev):
                    # a new cartridge starts at BOT; st keeps its old file and block numbers when the
                    # drive reports no medium change (tgt), so make the position known
                    self._mt(dev, MtOp.REW, 1, "rewinding the loaded cartridge")
                    return
                left = deadline - self._clock()
                if left <= 0:
                    raise NoTape(f"drive {self.name}: no cartridge{expected} loaded within {limit:g} s")
                self._sleep(min(self.poll_interval, left))

    def eject(self) -> str | None:
        with self._operation("ejecting") as dev:
            self._mt(dev, MtOp.OFFL, 1, "ejecting")
        return None

    # ---- modes
    def set_block_size(self, size: int) -> None:
        with self._operation("setting the block size") as dev:
            if not 0 <= size <= MAX_BLOCK_SIZE:
                raise DriveIOError(f"drive {self.name}: block size {size} is not between 0 and {MAX_BLOCK_SIZE}")
            self._mt(dev, MtOp.SETBLK, size, f"setting the block size to {size}")

    def set_compression(self, on: bool) -> None:
        with self._operation("setting compression") as dev:
            try:
                dev.op(MtOp.COMPRESSION, 1 if on else 0)
            except OSError as exc:
                if exc.errno == errno.EIO and self._online(dev):
                    raise NotSupported(
                        f"drive {self.name}: hardware compression cannot be set (the drive refused MTCOMPRESSION)"
                    ) from exc
                raise self._error(exc, dev, "setting compression") from exc

    # ---- data
    def write_block(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        size = view.nbytes
        with self._operation("writing", _WRITE) as dev:
            if dev.read_only:
                raise WriteProtected(f"drive {self.name}: the cartridge is write-protected (opened read-only)")
            if size == 0:
                return
            try:
                written = dev.write(view)
            except OSError as exc:
                raise self._write_error(exc, dev, size) from exc
            with self._counters_lock:
                self._counters.bytes_written += written
            if written != size:
                raise EndOfMedium(f"drive {self.name}: end of medium, only {written} of {size} bytes written")
            self._advance(dev, written)

    def read_block(self, max_size: int) -> bytes:
        with self._operation("reading", _READ) as dev:
            if max_size <= 0:
                raise DriveIOError(f"drive {self.name}: a read needs a buffer, got {max_size} bytes")
            before = self._mtget or self._refresh(dev)
            if self._eod_reported and before.flags & Gstat.EOD:
                raise DriveIOError(f"drive {self.name}: end of data, nothing more to read")
            self._eod_reported = False
            data, size = self._read(dev, self._read_size(max_size, before.block_size), before)
            if data and (before.block_size or len(data) < size):
                self._advance(dev, len(data))  # a block: asking the driver now could cost a backspace
                return self._count_read(data)
            after = self._refresh(dev)
            if data and after.flags & (Gstat.EOT | Gstat.EOD):
                data = b""  # st's buffer came back with an end-of-medium report: no block was read
                if not after.flags & Gstat.EOD:
                    raise self._end_of_data_error(before)
            if data:
                return self._count_read(data)
            if before.flags & Gstat.BOT and after.flags & (Gstat.EOD | Gstat.EOT):
                raise self._end_of_data_error(before)
            self._eod_reported = bool(after.flags & Gstat.EOD)
            return b""

    def _count_read(self, data: bytes) -> bytes:
        with self._counters_lock:
            self._counters.bytes_read += len(data)
        return data

    def write_filemarks(self, count: int = 1) -> None:
        with self._operation("writing filemarks", _FILEMARK) as dev:
            if count < 0:
                raise DriveIOError(f"drive {self.name}: cannot write {count} filemarks")
            if dev.read_only:
                raise WriteProtected(f"drive {self.name}: the cartridge is write-protected (opened read-only)")
            try:
                dev.op(MtOp.WEOF, count)
            except OSError as exc:
                raise self._write_error(exc, dev, 0) from exc

    # ---- positioning
    def rewind(self) -> None:
        with self._operation("rewinding") as dev:
            self._mt(dev, MtOp.REW, 1, "rewinding")

    def space_filemarks(self, count: int) -> None:
        with self._operation("spacing over filemarks") as dev:
            if count:
                op = MtOp.FSF if count > 0 else MtOp.BSF
                self._mt(dev, op, abs(count), f"spacing {'forward' if count > 0 else 'back'} {abs(count)} filemarks")

    def space_records(self, count: int) -> None:
        with self._operation("spacing over blocks") as dev:
            if count:
                op = MtOp.FSR if count > 0 else MtOp.BSR
                self._mt(dev, op, abs(count), f"spacing {'forward' if count > 0 else 'back'} {abs(count)} blocks")

    def end_of_data(self) -> None:
        with self._operation("spacing to end of data") as dev:
            self._mt(dev, MtOp.EOM, 1, "spacing to end of data")

    def tell_block(self) -> int:
        with self._operation("reading the position") as dev:
            self._require_online(dev)
            try:
                block = dev.pos()
            except OSError as exc:
                raise self._position_error(exc, dev, "READ POSITION (MTIOCPOS)") from exc
            self._positions_work = True
            return block

    def seek_block(self, block: int) -> None:
        with self._operation("seeking") as dev:
            if block < 0:
                raise DriveIOError(f"drive {self.name}: cannot seek to block {block}")
            self._require_online(dev)
            try:
                dev.op(MtOp.SEEK, block)
            except OSError as exc:
                raise self._position_error(exc, dev, f"LOCATE to block {block} (MTSEEK)") from exc
            self._positions_work = True

    def close(self) -> None:
        with self._locked("closing"):
            if self._dev is not None:
                self._dev, dev = None, self._dev
                try:
                    dev.close()  # st writes a filemark first when the last operation was a write
                except OSError as exc:
                    raise DriveIOError(f"drive {self.name}: closing {self.device} failed: {_strerror(exc)}") from exc
            self._released = True
            self._buffered = False

    # ---- internals (with the operation lock held)
    @contextlib.contextmanager
    def _locked(self, what: str, kind: str = _OTHER) -> Iterator[None]:
        """Hold the drive for one operation; afterwards publish a fresh snapshot (unless st may hold
        fixed-block data in its buffer, see the module docstring)."""
        # a status refresh is quick: wait for it; anything else is a real conflict
        if not self._op_lock.acquire(blocking=False) and (
            self._busy_with != _REFRESH or not self._op_lock.acquire(timeout=30)
        ):
            raise DriveBusy(f"drive {self.name} is busy {self._busy_with or 'with another operation'}")
        self._busy_with = what
        self._published = False
        started = self._clock()
        try:
            if kind != _READ:
                self._eod_reported = False
            if kind not in (_WRITE, _FILEMARK):
                self._past_early_warning = False
            if kind not in (_READ, _WRITE):
                self._buffered = False  # any other operation makes st flush its buffer first
            self._raise_deferred_write_error(kind)
            self._writing = kind == _WRITE
            yield
        finally:
            with self._counters_lock:
                self._counters.busy_seconds += self._clock() - started
            if self._dev is not None and not self._published and not self._buffered:
                with contextlib.suppress(DriveError):
                    self._refresh(self._dev)
            self._busy_with = ""
            self._op_lock.release()

    @contextlib.contextmanager
    def _operation(self, what: str, kind: str = _OTHER) -> Iterator[TapeDevice]:
        """_locked, with the device open."""
        with self._locked(what, kind):
            yield self._device()

    def _raise_deferred_write_error(self, kind: str) -> None:
        """A write's outcome that st reported to an MTIOCGET instead of to the next write (see _refresh)."""
        code, self._deferred_write_error = self._deferred_write_error, None
        if code == errno.ENOSPC and kind == _WRITE:
            raise EndOfMedium(
                f"drive {self.name}: past the early warning near the end of the tape; "
                "close the set with a short trailer and a filemark"
            )
        if code is not None and code != errno.ENOSPC:
            raise DriveIOError(f"drive {self.name}: an earlier write failed: {os.strerror(code)}")

    def _device(self) -> TapeDevice:
        if self._dev is None:
            try:
                self._dev = self._opener(self.device)
            except OSError as exc:
                raise self._open_error(exc) from exc
            self._released = False
        return self._dev

    def _reopen(self) -> None:
        """Close and open again: st checks for a (new) cartridge on open."""
        self._buffered = False
        if self._dev is not None:
            self._dev, dev = None, self._dev
            with contextlib.suppress(OSError):
                dev.close()

    def _refresh(self, dev: TapeDevice) -> MtGet:
        """MTIOCGET, and publish the snapshot status() hands out.

        st flushes its buffer before it answers MTIOCGET. After a write in variable-block mode that
        means waiting for the asynchronous write behind, and when that one met early warning (ENOSPC)
        or failed (EIO), MTIOCGET fails with it and st forgets it. The outcome is kept here for the
        next operation, as st would have reported it, and the status asked again."""
        try:
            state = dev.get()
        except OSError as exc:
            if not (self._writing and exc.errno in (errno.ENOSPC, errno.EIO)):
                self._mtget = None
                self._snapshot = self._offline_status()
                raise DriveIOError(
                    f"drive {self.name}: reading the status of {self.device} failed: {_strerror(exc)}"
                ) from exc
            self._writing = False
            self._deferred_write_error = exc.errno
            self._past_early_warning |= exc.errno == errno.ENOSPC
            return self._refresh(dev)
        self._mtget = state
        self._past_early_warning |= bool(state.flags & Gstat.EOT)
        self._snapshot = self._status_from(state, dev.read_only)
        self._refreshed_at = self._clock()
        self._buffered = False
        self._published = True
        return state

    def _advance(self, dev: TapeDevice, nbytes: int) -> None:
        """After data moved: ask the driver (variable-block mode, now and then), or count the blocks."""
        state = self._mtget
        if state is None:
            return
        if not state.block_size:
            if self._clock() - self._refreshed_at >= STREAM_REFRESH_SECONDS:
                self._refresh(dev)
                return
            blocks = 1
        else:
            blocks = nbytes // state.block_size
            self._buffered = True
        cleared = state.gstat & ~int(Gstat.BOT | Gstat.EOF | Gstat.EOD)
        self._mtget = replace(state, gstat=cleared, blkno=state.blkno + blocks if state.blkno >= 0 else -1)
        self._snapshot = self._status_from(self._mtget, dev.read_only)
        self._published = True

    def _status_from(self, state: MtGet, read_only: bool) -> DriveStatus:
        flags = state.flags
        if not flags & Gstat.ONLINE:
            return self._offline_status(block_size=state.block_size, cleaning=bool(flags & Gstat.CLN))
        return DriveStatus(
            online=True,
            barcode=None,
            media_generation=DENSITY_GENERATIONS.get(state.density),
            write_protected=bool(flags & Gstat.WR_PROT) or read_only,
            file_number=_position(state.fileno),
            block_number=_position(state.blkno),
            block_size=state.block_size,
            bot=bool(flags & Gstat.BOT),
            eod=bool(flags & Gstat.EOD),
            eot=bool(flags & Gstat.EOT) or self._past_early_warning,
            at_filemark=bool(flags & Gstat.EOF),
            cleaning_requested=bool(flags & Gstat.CLN),
        )

    @staticmethod
    def _offline_status(block_size: int = 0, cleaning: bool = False) -> DriveStatus:
        return DriveStatus(
            online=False,
            barcode=None,
            media_generation=None,
            write_protected=False,
            file_number=-1,
            block_number=-1,
            block_size=block_size,
            bot=False,
            eod=False,
            eot=False,
            at_filemark=False,
            cleaning_requested=cleaning,
        )

    def _online(self, dev: TapeDevice) -> bool:
        try:
            return bool(self._refresh(dev).flags & Gstat.ONLINE)
        except DriveError:
            return False

    def _require_online(self, dev: TapeDevice) -> None:
        if not self._online(dev):
            raise NoTape(f"drive {self.name} holds no cartridge ready for use")

    def _mt(self, dev: TapeDevice, op: MtOp, count: int, what: str) -> None:
        try:
            dev.op(op, count)
        except OSError as exc:
            raise self._error(exc, dev, what) from exc

    def _read_size(self, max_size: int, block_size: int) -> int:
        size = min(max_size, self._read_limit) if self._read_limit else max_size
        if block_size:
            size -= size % block_size
            if size == 0:
                raise DriveIOError(
                    f"drive {self.name}: a {max_size}-byte read is smaller than the {block_size}-byte block size"
                )
        return size

    def _read(self, dev: TapeDevice, size: int, before: MtGet) -> tuple[bytes, int]:
        """One read(); returns the data and the buffer size it was given."""
        while True:
            try:
                return dev.read(size), size
            except OSError as exc:
                if exc.errno == errno.EINVAL and not before.block_size and size > MIN_READ_LIMIT:
                    size = self._read_limit = max(MIN_READ_LIMIT, size // 2)  # larger than the drive's largest block
                    continue
                if exc.errno == errno.ENOMEM:
                    raise DriveIOError(
                        f"drive {self.name}: the block is larger than the {size}-byte read buffer "
                        "(the drive has passed over it)"
                    ) from exc
                if exc.errno == errno.EIO and before.flags & Gstat.BOT and self._online(dev):
                    raise self._end_of_data_error(before) from exc
                raise self._error(exc, dev, f"reading a block of up to {size} bytes") from exc

    def _end_of_data_error(self, before: MtGet) -> DriveError:
        if before.flags & Gstat.BOT:
            return BlankTape(f"drive {self.name}: nothing is recorded at the beginning of the tape (blank tape)")
        return DriveIOError(f"drive {self.name}: end of data with no filemark before it, nothing to read")

    def _write_error(self, exc: OSError, dev: TapeDevice, size: int) -> DriveError:
        what = f"writing a {size}-byte block" if size else "writing filemarks"
        with contextlib.suppress(DriveError):
            self._refresh(dev)  # the failed write left st's buffer empty: asking is safe
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EBADF):
            return WriteProtected(f"drive {self.name}: the cartridge is write-protected")
        if exc.errno == errno.ENOSPC:
            self._past_early_warning = True
            if self._mtget is not None:
                self._snapshot = self._status_from(self._mtget, dev.read_only)
            return EndOfMedium(
                f"drive {self.name}: past the early warning near the end of the tape; "
                "close the set with a short trailer and a filemark"
            )
        if exc.errno == errno.EINVAL and size:
            block_size = self._mtget.block_size if self._mtget else 0
            if block_size:
                return DriveIOError(
                    f"drive {self.name}: a write of {size} bytes is not a multiple of the {block_size}-byte block size"
                )
            return DriveIOError(f"drive {self.name}: the drive does not take a {size}-byte block")
        if exc.errno == errno.EIO and self._mtget is not None and self._mtget.flags & Gstat.EOT:
            return EndOfMedium(f"drive {self.name}: the physical end of the tape is reached")
        return self._error(exc, dev, what)

    def _position_error(self, exc: OSError, dev: TapeDevice, what: str) -> DriveError:
        if exc.errno == errno.EIO and self._online(dev) and not self._positions_work:
            return NotSupported(f"drive {self.name}: the drive does not answer {what}; space over filemarks instead")
        return self._error(exc, dev, what)

    def _error(self, exc: OSError, dev: TapeDevice, what: str) -> DriveError:
        if exc.errno == errno.ENOMEDIUM or (exc.errno == errno.EIO and not self._online(dev)):
            return NoTape(f"drive {self.name} holds no cartridge ready for use ({what})")
        if exc.errno in (errno.EROFS, errno.EACCES):
            return WriteProtected(f"drive {self.name}: {what} refused: the cartridge is write-protected")
        if exc.errno == errno.EBUSY:
            return DriveBusy(f"drive {self.name}: {self.device} is busy ({what})")
        if exc.errno == errno.ENOSPC:
            return EndOfMedium(f"drive {self.name}: end of medium while {what}")
        return DriveIOError(f"drive {self.name}: {what} failed: {_strerror(exc)}")

    def _open_error(self, exc: OSError) -> DriveError:
        reason = f"cannot open {self.device}: {_strerror(exc)}"
        if exc.errno == errno.EBUSY:
            return DriveBusy(f"drive {self.name}: {reason} (another program has it open)")
        if exc.errno == errno.ENOMEDIUM:
            return NoTape(f"drive {self.name}: {reason}")
        return DriveIOError(f"drive {self.name}: {reason}")

    def _sysfs_stats(self) -> dict[str, int] | None:
        folder = self.stats_dir()
        if folder is None:
            return None
        stats = {}
        for key in ("write_byte_cnt", "read_byte_cnt"):
            with contextlib.suppress(OSError, ValueError):
                stats[key] = int((folder / key).read_text().strip())
        return stats or None
