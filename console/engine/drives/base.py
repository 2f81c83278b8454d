"""The one interface every tape drive backend offers.

The semantics are those of the Linux st driver on a no-rewind device (/dev/nstN), see
shared/reference/st-and-lto.md. A backend raises the exceptions below, never bare OSError, so the
daemon can turn every failure into a one-line reason for the operator.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass


class DriveError(Exception):
    """Base of every error a drive reports; str() is a one-line reason."""


class NoTape(DriveError):
    """The drive holds no cartridge."""


class WriteProtected(DriveError):
    """The cartridge's write-protect tab is set (or the media is read-only in this drive)."""


class MediaIncompatible(DriveError):
    """The drive cannot read (or load) this generation of media."""


class EndOfMedium(DriveError):
    """A write returned ENOSPC: early warning was passed or the physical end reached.

    After early warning, writes alternate between success and EndOfMedium until the physical end,
    so a caller can still close a set with a short trailer and a filemark.
    """


class BlankTape(DriveError):
    """A read found end of data at the very first record (nothing written there)."""


class NotSupported(DriveError):
    """The drive (or its emulation) does not support this operation; callers fall back."""


class DriveBusy(DriveError):
    """Another operation holds the drive."""


class DriveIOError(DriveError):
    """A medium or hardware error (EIO) on an operation the drive does support."""


@dataclass(slots=True)
class DriveStatus:
    """What MTIOCGET (plus a little more) tells about a drive right now."""

    online: bool  # a cartridge is loaded and ready
    barcode: str | None  # the loaded cartridge's barcode when the backend knows it (virtual), else None
    media_generation: str | None
    write_protected: bool
    file_number: int  # -1 when unknown
    block_number: int  # -1 when unknown (e.g. after spacing back over a filemark)
    block_size: int  # 0 = variable block mode
    bot: bool  # at beginning of tape
    eod: bool  # at end of recorded data
    eot: bool  # past early warning
    at_filemark: bool  # the last read or space stopped on a filemark
    cleaning_requested: bool = False

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class DriveCounters:
    """Lifetime counters of one drive, for the console's live view."""

    bytes_written: int = 0
    bytes_read: int = 0
    shoe_shine_events: int = 0  # the drive had to stop and reposition because data came too slowly
    busy_seconds: float = 0.0  # time spent moving tape
    bytes_on_tape: int | None = None  # written and out of the drive's own buffer, when the drive can tell

    def to_json(self) -> dict:
        return asdict(self)


class Drive(ABC):
    """A tape drive with st (no-rewind) semantics.

    Blocks: in variable mode (block_size 0) each write_block() writes one block of len(data) bytes
    and read_block() returns one whole block (a buffer smaller than the block fails, as st's ENOMEM).
    In fixed mode every write is a multiple of the block size and becomes len(data)/block_size blocks;
    read_block() returns whole blocks too.

    Filemarks: write_filemarks() writes them. Like st, a rewind, eject, space back or seek that
    directly follows a write writes one filemark first, so a file is never left open. Reading a
    filemark returns b"" and leaves the tape positioned after it; two b"" in a row mean end of data.
    """

    name: str
    generation: str

    # ---- state
    @abstractmethod
    def status(self) -> DriveStatus: ...

    @abstractmethod
    def counters(self) -> DriveCounters: ...

    @property
    def kind(self) -> str:
        """'virtual' or 'st'."""
        raise NotImplementedError

    # ---- media
    @abstractmethod
    def load(self, barcode: str | None = None) -> None:
        """Load a cartridge. Virtual drives take `barcode` from their shelf; a real drive waits for
        the onsite person to insert one (barcode is then only what the operator expects)."""

    @abstractmethod
    def eject(self) -> str | None:
        """Rewind and unload (MTOFFL). Returns the barcode of what was ejected when known."""

    # ---- modes
    @abstractmethod
    def set_block_size(self, size: int) -> None:
        """0 for variable mode, otherwise the fixed block size in bytes (MTSETBLK)."""

    def set_compression(self, on: bool) -> None:  # noqa: B027 - optional on purpose
        """Hardware compression (MTCOMPRESSION); backends that cannot raise NotSupported."""
        raise NotSupported(f"{self.name}: hardware compression setting not supported")

    # ---- data
    @abstractmethod
    def write_block(self, data: bytes | bytearray | memoryview) -> None: ...

    @abstractmethod
    def read_block(self, max_size: int) -> bytes: ...

    @abstractmethod
    def write_filemarks(self, count: int = 1) -> None: ...

    # ---- positioning
    @abstractmethod
    def rewind(self) -> None: ...

    @abstractmethod
    def space_filemarks(self, count: int) -> None:
        """count > 0: forward over count filemarks (MTFSF), ending after the last one.
        count < 0: back over -count filemarks (MTBSF), ending before (on the BOT side of) the last one."""

    @abstractmethod
    def space_records(self, count: int) -> None:
        """Forward (MTFSR) or back (MTBSR) over blocks; stops at a filemark with DriveIOError."""

    @abstractmethod
    def end_of_data(self) -> None:
        """Space to end of recorded data (MTEOM), ready to append."""

    @abstractmethod
    def tell_block(self) -> int:
        """The logical object number from BOT (MTIOCPOS, SCSI READ POSITION: blocks and filemarks
        both count); NotSupported when the drive cannot."""

    @abstractmethod
    def seek_block(self, block: int) -> None:
        """Locate to a logical object number as tell_block() reports it (MTSEEK); NotSupported when
        the drive cannot."""

    def close(self) -> None:  # noqa: B027 - optional on purpose
        """Release the device. Writes a filemark first when the last operation was a write."""
