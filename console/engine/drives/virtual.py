"""A virtual LTO drive: cartridges from a Shelf, recorded in image files, with the st semantics of /dev/nstN.

What the drive does follows shared/reference/st-and-lto.md and the Linux st driver, including its quirks:
an implicit filemark before rewind, eject, space back over filemarks (MTBSF) or seek when the last
operation was a write (and, as st does, MTBSF then counts that filemark too); block number -1 ("unknown")
after spacing back over a filemark, after MTEOM and after a seek away from BOT (file number -1 too after a
seek); a read at end of data returns b"" once when it directly follows a filemark, otherwise fails (EIO),
and raises BlankTape on a tape with nothing recorded; spacing that meets a filemark, BOT or end of data
fails with DriveIOError where st would return EIO, positioned where a real drive stops. Filemarks take no
room in the capacity count, so a trailer's filemark always fits.

The cartridge images it writes and reads are tape_image.py's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from console.engine.drives.base import (
    BlankTape,
    Drive,
    DriveBusy,
    DriveCounters,
    DriveError,
    DriveIOError,
    DriveStatus,
    EndOfMedium,
    MediaIncompatible,
    NoTape,
    WriteProtected,
)
from console.engine.drives.shelf import CartridgeInfo, Shelf
from console.engine.drives.speed import SpeedModel
from console.engine.drives.tape_image import FILEMARK, MAX_BLOCK_BYTES, TapeImage
from console.wire.lto import drive_can_read, drive_can_write, generation_number


def _byte_view(data: bytes | bytearray | memoryview) -> memoryview:
    view = memoryview(data)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    return view


class _Operation:
    """One operation on a VirtualDrive: refuses at once when another holds the drive; afterwards adds
    the time spent to the counters, publishes the new status and turns OSError into DriveIOError."""

    __slots__ = ("drive", "what", "started")

    def __init__(self, drive: VirtualDrive, what: str) -> None:
        self.drive, self.what, self.started = drive, what, 0.0

    def __enter__(self) -> None:
        drive = self.drive
        if not drive._op_lock.acquire(blocking=False):
            raise DriveBusy(f"drive {drive.name} is busy {drive._busy_with}")
        drive._busy_with = self.what
        self.started = drive._clock()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: object) -> None:
        drive = self.drive
        try:
            with drive._counters_lock:
                drive._counters.busy_seconds += drive._clock() - self.started
            drive._publish()
        finally:
            drive._busy_with = ""
            drive._op_lock.release()
        if isinstance(error, OSError):
            raise DriveIOError(f"drive {drive.name}: {self.what} failed: {error.strerror or error}") from error


class VirtualDrive(Drive):
    """A file-backed tape drive that behaves like a Linux st drive on /dev/nstN.

    One thread operates the drive at a time; another operation meanwhile raises DriveBusy. status() and
    counters() may be called from any thread at any time and return at once, with the state as of the
    end of the last operation. Unlike st, the virtual drive always knows where it is: status().eod is
    "at end of recorded data" and status().eot "past early warning", whatever the last operation was.
    The loaded cartridge is recorded on the shelf: a new VirtualDrive with the same name finds it again,
    at BOT.
    """

    def __init__(self, name: str, generation: str, shelf: Shelf, *, speed: SpeedModel | None = None) -> None:
        generation_number(generation)  # ValueError for an unknown generation
        self.name = name
        self.generation = generation
        self.shelf = shelf
        self.speed = speed
        self._clock = speed.clock if speed is not None else time.monotonic
        self._op_lock = threading.Lock()
        self._busy_with = ""
        self._counters = DriveCounters()
        self._counters_lock = threading.Lock()
        self._block_size = 0
        self._compression = True
        self._cartridge: CartridgeInfo | None = None
        self._image: TapeImage | None = None
        self._writable = False
        self._resume_at_object = 0  # where to pick up after close()
        self._at_bot()
        barcode = shelf.loaded_in(name)
        if barcode is not None:
            info = shelf.info(barcode)
            if drive_can_read(generation, info.generation):
                self._mount(info)
            else:  # the drive was reconfigured to a generation that rejects this cartridge: it ejects it
                shelf.put_back(barcode, name)
        self._publish()

    def __repr__(self) -> str:
        holds = self._cartridge.barcode if self._cartridge else "no tape"
        return f"VirtualDrive({self.name!r}, {self.generation}, {holds})"

    @property
    def kind(self) -> str:
        return "virtual"

    # ---- state, from any thread
    def status(self) -> DriveStatus:
        return replace(self._snapshot)

    def counters(self) -> DriveCounters:
        with self._counters_lock:
            counters = replace(self._counters)
        if self.speed is not None:
            counters.shoe_shine_events = self.speed.shoe_shine_events
        buffered = self.speed.buffered_bytes if self.speed is not None else 0
        counters.bytes_on_tape = max(0, counters.bytes_written - buffered)
        return counters

    # ---- media
    def load(self, barcode: str | None = None) -> None:
        with self._operation("loading"):
            if barcode is None:
                if self._cartridge is None:
                    raise NoTape(f"drive {self.name} holds no cartridge: name one from the shelf to load it")
                return
            if self._cartridge is not None:
                if self._cartridge.barcode == barcode:
                    return
                raise DriveError(f"drive {self.name} already holds {self._cartridge.barcode}: eject it first")
            info = self.shelf.info(barcode)
            if not drive_can_read(self.generation, info.generation):
                raise MediaIncompatible(
                    f"drive {self.name} ({self.generation}) cannot load {info.generation} cartridge {barcode}"
                )
            info = self.shelf.take(barcode, self.name)
            try:
                self._mount(info)
            except BaseException:
                self.shelf.put_back(barcode, self.name)
                raise

    def eject(self) -> str | None:
        with self._operation("ejecting"):
            self._tape()
            self._write_pending_filemark()
            self._moved()
            cartridge, image = self._cartridge, self._image
            assert cartridge is not None and image is not None
            image.close()
            self._image, self._cartridge = None, None
            self._at_bot()
            self.shelf.put_back(cartridge.barcode, self.name)
            return cartridge.barcode

    # ---- modes
    def set_block_size(self, size: int) -> None:
        with self._operation("setting the block size"):
            self._tape()
            if not 0 <= size <= MAX_BLOCK_BYTES:
                raise DriveIOError(f"drive {self.name}: block size {size} is not between 0 and {MAX_BLOCK_BYTES}")
            self._block_size = size

    def set_compression(self, on: bool) -> None:
        with self._operation("setting compression"):
            self._tape()
            self._compression = on  # recorded only: data is stored as it comes

    # ---- data
    def write_block(self, data: bytes | bytearray | memoryview) -> None:
        view = _byte_view(data)
        size = view.nbytes
        with self._operation("writing"):
            tape = self._tape()
            cartridge = self._require_writable()
            if size == 0:
                return
            if self._block_size:
                if size % self._block_size:
                    raise DriveIOError(
                        f"drive {self.name}: a write of {size} bytes is not a multiple of the "
                        f"{self._block_size}-byte block size"
                    )
                block_len, count = self._block_size, size // self._block_size
            else:
                if size > MAX_BLOCK_BYTES:
                    raise DriveIOError(f"drive {self.name}: a block of {size} bytes is over {MAX_BLOCK_BYTES}")
                block_len, count = size, 1
            if self._enospc_next:
                self._enospc_next = False
                raise EndOfMedium(
                    f"{cartridge.barcode} is past early warning: close the set (the next write is allowed)"
                )
            at_end = self._index >= len(tape.runs)
            start = tape.data_bytes if at_end else tape.point(self._index, self._offset).byte
            if start + size > cartridge.capacity_bytes:
                raise EndOfMedium(f"{cartridge.barcode} is full: {size} more bytes do not fit before its end")
            if not at_end:
                tape.truncate(self._object())  # writing in the middle: the rest of the tape is gone
            tape.append_blocks(view, block_len, count)
            self._index, self._offset = len(tape.runs), 0
            self._wrote_last = True
            self._at_filemark = False
            self._enospc_next = start + size >= cartridge.early_warning_at
            with self._counters_lock:
                self._counters.bytes_written += size
            if self.speed is not None:
                self.speed.write(size)

    def read_block(self, max_size: int) -> bytes:
        with self._operation("reading"):
            tape = self._tape()
            if max_size <= 0:
                raise DriveIOError(f"drive {self.name}: a read needs a buffer, got {max_size} bytes")
            if self._wrote_last and self.speed is not None:
                self.speed.flush()  # the drive writes out its buffer before it reads
            self._wrote_last = False
            self._enospc_next = False
            if self._index >= len(tape.runs):
                return self._read_at_end_of_data(tape)
            run = tape.runs[self._index]
            if run.kind == FILEMARK:
                self._step(1)
                self._at_filemark = self._block_known = True
                return b""
            self._at_filemark = False
            if self._block_size == 0:
                if run.block_len > max_size:
                    self._step(1)  # st's ENOMEM: the drive has read past the block
                    raise DriveIOError(
                        f"drive {self.name}: a {run.block_len}-byte block does not fit in a {max_size}-byte read"
                    )
                count = 1
            else:
                if max_size < self._block_size:
                    raise DriveIOError(
                        f"drive {self.name}: a {max_size}-byte read is smaller than the "
                        f"{self._block_size}-byte block size"
                    )
                if run.block_len != self._block_size:
                    raise DriveIOError(
                        f"drive {self.name}: found a {run.block_len}-byte block in "
                        f"{self._block_size}-byte fixed block mode"
                    )
                count = min(max_size // self._block_size, run.count - self._offset)
            data = tape.read(run, self._offset, count)
            self._step(count)
            with self._counters_lock:
                self._counters.bytes_read += len(data)
            if self.speed is not None:
                self.speed.read(len(data))
            return data

    def write_filemarks(self, count: int = 1) -> None:
        with self._operation("writing filemarks"):
            self._tape()
            self._require_writable()
            if count < 0:
                raise DriveIOError(f"drive {self.name}: cannot write {count} filemarks")
            if count:
                self._append_filemarks(count)
            elif self.speed is not None:
                self.speed.flush()

    # ---- positioning
    def rewind(self) -> None:
        with self._operation("rewinding"):
            self._tape()
            self._write_pending_filemark()
            self._moved()
            self._at_bot()

    def space_filemarks(self, count: int) -> None:
        with self._operation("spacing over filemarks"):
            tape = self._tape()
            if count == 0:
                return
            if count < 0 and self._wrote_last:
                self._write_pending_filemark()
                count -= 1  # st also spaces back over the filemark it just wrote
            self._moved()
            here = tape.point(self._index, self._offset).file
            if count > 0:
                target = here + count
                if target > tape.filemarks:
                    self._index, self._offset = len(tape.runs), 0
                    self._block_known = False
                    raise DriveIOError(
                        f"drive {self.name}: end of data after {tape.filemarks - here} of {count} filemarks"
                    )
                self._index, self._offset = tape.locate(tape.filemark_object(target) + 1)
                self._at_filemark = self._block_known = True
            else:
                target = here + count + 1
                if target < 1:
                    self._at_bot()
                    raise DriveIOError(f"drive {self.name}: beginning of tape after {here} of {-count} filemarks")
                self._index, self._offset = tape.locate(tape.filemark_object(target))
                self._block_known = False

    def space_records(self, count: int) -> None:
        with self._operation("spacing over blocks"):
            tape = self._tape()
            self._moved()
            if count > 0:
                self._space_records_forward(tape, count)
            elif count < 0:
                self._space_records_back(tape, -count)

    def end_of_data(self) -> None:
        with self._operation("spacing to end of data"):
            tape = self._tape()
            self._moved()
            self._index, self._offset = len(tape.runs), 0
            self._block_known = False

    def tell_block(self) -> int:
        with self._operation("reading the position"):
            self._tape()
            return self._object()

    def seek_block(self, block: int) -> None:
        with self._operation("seeking"):
            tape = self._tape()
            if block < 0:
                raise DriveIOError(f"drive {self.name}: cannot seek to block {block}")
            self._write_pending_filemark()
            self._moved()
            self._file_known = self._block_known = block == 0
            if block > tape.objects:
                self._index, self._offset = len(tape.runs), 0
                raise DriveIOError(f"drive {self.name}: block {block} is past end of data ({tape.objects})")
            self._index, self._offset = tape.locate(block)

    def close(self) -> None:
        with self._operation("closing"):
            if self._image is None:
                return
            self._write_pending_filemark()
            if self.speed is not None:
                self.speed.flush()
            self._resume_at_object = self._object()
            self._publish()
            self._image.close()
            self._image = None

    # ---- internals (called with the operation lock held)
    def _operation(self, what: str) -> _Operation:
        return _Operation(self, what)

    def _mount(self, info: CartridgeInfo) -> None:
        self._image = TapeImage(self.shelf.image_path(info.barcode))
        self._cartridge = info
        self._writable = not info.write_protected and drive_can_write(self.generation, info.generation)
        self._resume_at_object = 0
        self._at_bot()

    def _tape(self) -> TapeImage:
        if self._cartridge is None:
            raise NoTape(f"drive {self.name} holds no cartridge")
        if self._image is None:  # reopened after close()
            self._image = TapeImage(self.shelf.image_path(self._cartridge.barcode))
            self._index, self._offset = self._image.locate(min(self._resume_at_object, self._image.objects))
        return self._image

    def _require_writable(self) -> CartridgeInfo:
        cartridge = self._cartridge
        assert cartridge is not None
        if cartridge.write_protected:
            raise WriteProtected(f"cartridge {cartridge.barcode} is write-protected")
        if not self._writable:
            raise WriteProtected(
                f"drive {self.name} ({self.generation}) reads but cannot write "
                f"{cartridge.generation} cartridge {cartridge.barcode}"
            )
        return cartridge

    def _at_bot(self) -> None:
        self._index = self._offset = 0
        self._file_known = self._block_known = True
        self._at_filemark = False
        self._wrote_last = False
        self._enospc_next = False

    def _object(self) -> int:
        assert self._image is not None
        return self._image.point(self._index, self._offset).object

    def _step(self, count: int) -> None:
        """Move forward `count` items inside the current run."""
        assert self._image is not None
        self._offset += count
        if self._offset >= self._image.runs[self._index].count:
            self._index, self._offset = self._index + 1, 0

    def _moved(self) -> None:
        """Tape is being positioned: the drive stops streaming and forgets read/write state."""
        self._wrote_last = False
        self._at_filemark = False
        self._enospc_next = False
        if self.speed is not None:
            self.speed.stop()

    def _append_filemarks(self, count: int) -> None:
        tape = self._tape()
        tape.truncate(self._object())
        tape.append_filemarks(count)
        self._index, self._offset = len(tape.runs), 0
        self._wrote_last = self._at_filemark = self._enospc_next = False
        self._block_known = True
        if self.speed is not None:
            self.speed.flush()

    def _write_pending_filemark(self) -> None:
        """st writes a filemark before rewind, eject, MTBSF, seek or close when the last op was a write."""
        if self._wrote_last:
            self._append_filemarks(1)

    def _read_at_end_of_data(self, tape: TapeImage) -> bytes:
        assert self._cartridge is not None
        if tape.objects == 0:
            raise BlankTape(f"{self._cartridge.barcode} is blank: nothing is recorded at its beginning")
        if self._at_filemark:
            self._at_filemark = False
            return b""
        raise DriveIOError(f"drive {self.name}: end of data on {self._cartridge.barcode}, nothing more to read")

    def _space_records_forward(self, tape: TapeImage, count: int) -> None:
        left = count
        while left:
            if self._index >= len(tape.runs):
                raise DriveIOError(f"drive {self.name}: end of data after {count - left} of {count} blocks")
            run = tape.runs[self._index]
            if run.kind == FILEMARK:
                self._step(1)
                self._at_filemark = self._block_known = True
                raise DriveIOError(f"drive {self.name}: filemark after {count - left} of {count} blocks")
            step = min(left, run.count - self._offset)
            self._step(step)
            left -= step

    def _space_records_back(self, tape: TapeImage, count: int) -> None:
        left = count
        while left:
            if self._index == 0 and self._offset == 0:
                self._file_known = self._block_known = True
                raise DriveIOError(f"drive {self.name}: beginning of tape after {count - left} of {count} blocks")
            if self._offset == 0:
                self._index -= 1
                self._offset = tape.runs[self._index].count
            if tape.runs[self._index].kind == FILEMARK:
                self._offset -= 1  # stops on the BOT side of the filemark
                self._block_known = False
                raise DriveIOError(f"drive {self.name}: filemark after {count - left} of {count} blocks back")
            step = min(left, self._offset)
            self._offset -= step
            left -= step

    def _publish(self) -> None:
        """Replace the snapshot status() hands out (a single reference swap: readers never wait)."""
        cartridge, image = self._cartridge, self._image
        if cartridge is not None and image is None:
            return  # closed: the status stays as it was when the image was closed
        if cartridge is None or image is None:
            self._snapshot = DriveStatus(
                online=False,
                barcode=None,
                media_generation=None,
                write_protected=False,
                file_number=-1,
                block_number=-1,
                block_size=self._block_size,
                bot=False,
                eod=False,
                eot=False,
                at_filemark=False,
            )
            return
        here = image.point(self._index, self._offset)
        self._snapshot = DriveStatus(
            online=True,
            barcode=cartridge.barcode,
            media_generation=cartridge.generation,
            write_protected=not self._writable,
            file_number=here.file if self._file_known else -1,
            block_number=here.block if self._block_known else -1,
            block_size=self._block_size,
            bot=here.object == 0,
            eod=here.object == image.objects,
            eot=here.byte >= cartridge.early_warning_at,
            at_filemark=self._at_filemark,
        )
