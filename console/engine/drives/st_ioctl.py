"""The Linux st driver's user interface: ioctl request numbers, struct layouts and an open device.

Facts from include/uapi/linux/mtio.h and Documentation/scsi/st.rst (shared/reference/st-and-lto.md):

    struct mtop  { short mt_op; int mt_count; };                      MTIOCTOP = _IOW('m', 1, struct mtop)
    struct mtget { long mt_type, mt_resid, mt_dsreg, mt_gstat, mt_erreg;
                   int mt_fileno, mt_blkno; };  (__kernel_daddr_t is int) MTIOCGET = _IOR('m', 2, struct mtget)
    struct mtpos { long mt_blkno; };                                   MTIOCPOS = _IOR('m', 3, struct mtpos)

The structs are packed with the platform's native sizes and C alignment (struct format "@"), and the
request numbers are computed with the _IOC encoding of the running architecture, so nothing here is
tied to x86_64 (where they come to 0x40086d01, 0x80306d02 and 0x80086d03).

`StDevice` is the thin layer over one open /dev/nstN: it raises plain OSError. Turning errno values
into the drive's exceptions is the job of console/engine/drives/st.py.
"""

from __future__ import annotations

import errno
import fcntl
import os
import platform
import struct
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from pathlib import Path
from typing import Protocol

# ---- _IOC encoding (include/uapi/asm-generic/ioctl.h and the architectures that override it)
_IOC_NRBITS = 8
_IOC_TYPEBITS = 8


@dataclass(frozen=True, slots=True)
class IocLayout:
    """How an architecture packs direction and size into an ioctl request number."""

    size_bits: int
    none: int
    write: int
    read: int


GENERIC_IOC = IocLayout(size_bits=14, none=0, write=1, read=2)
# powerpc, mips, sparc and alpha: 13 size bits and 3 direction bits with other values.
WIDE_DIRECTION_IOC = IocLayout(size_bits=13, none=1, write=4, read=2)


def ioc_layout(machine: str | None = None) -> IocLayout:
    """The _IOC layout of `machine` (platform.machine() by default)."""
    machine = (machine if machine is not None else platform.machine()).lower()
    if machine.startswith(("ppc", "powerpc", "mips", "sparc", "alpha")):
        return WIDE_DIRECTION_IOC
    return GENERIC_IOC


def ioc(direction: int, kind: str, number: int, size: int, layout: IocLayout | None = None) -> int:
    """_IOC(dir, type, nr, size)."""
    layout = layout or ioc_layout()
    if not 0 <= size < 1 << layout.size_bits:
        raise ValueError(f"ioctl argument size {size} does not fit in {layout.size_bits} bits")
    type_shift = _IOC_NRBITS
    size_shift = type_shift + _IOC_TYPEBITS
    dir_shift = size_shift + layout.size_bits
    return direction << dir_shift | size << size_shift | ord(kind) << type_shift | number


def iow(kind: str, number: int, size: int, layout: IocLayout | None = None) -> int:
    layout = layout or ioc_layout()
    return ioc(layout.write, kind, number, size, layout)


def ior(kind: str, number: int, size: int, layout: IocLayout | None = None) -> int:
    layout = layout or ioc_layout()
    return ioc(layout.read, kind, number, size, layout)


# ---- structs, native layout
MTOP = struct.Struct("@hi")
MTGET = struct.Struct("@lllllii")
MTPOS = struct.Struct("@l")

MTIOCTOP = iow("m", 1, MTOP.size)
MTIOCGET = ior("m", 2, MTGET.size)
MTIOCPOS = ior("m", 3, MTPOS.size)


class MtOp(IntEnum):
    """mt_op values of struct mtop."""

    FSF = 1  # forward over filemarks, positioned after the last
    BSF = 2  # back over filemarks, positioned before (BOT side of) the last
    FSR = 3  # forward over records (blocks)
    BSR = 4  # back over records
    WEOF = 5  # write filemarks
    REW = 6  # rewind
    OFFL = 7  # rewind and unload (eject)
    NOP = 8  # no-op: flushes the driver's buffer
    EOM = 12  # to end of recorded data
    ERASE = 13  # erase from here (count 0: short erase, writes end of data)
    SETBLK = 20  # block size, 0 = variable
    SEEK = 22  # locate to a logical block (SCSI LOCATE)
    TELL = 23  # logical block (SCSI READ POSITION)
    LOCK = 28  # lock the drive door
    UNLOCK = 29
    LOAD = 30
    UNLOAD = 31
    COMPRESSION = 32  # count 1 on, 0 off
    WEOFI = 35  # write filemarks, immediate


class Gstat(IntFlag):
    """mt_gstat bits (GMT_* in mtio.h)."""

    EOF = 0x80000000  # just after a filemark
    BOT = 0x40000000
    EOT = 0x20000000  # past early warning
    SM = 0x10000000  # at a setmark
    EOD = 0x08000000  # at end of data
    WR_PROT = 0x04000000
    ONLINE = 0x01000000  # a tape is loaded and ready
    D_6250 = 0x00800000
    D_1600 = 0x00400000
    D_800 = 0x00200000
    DR_OPEN = 0x00040000  # door open: no tape
    IM_REP_EN = 0x00010000  # immediate report mode
    CLN = 0x00008000  # the drive asks for cleaning


MT_ST_BLKSIZE_MASK = 0xFFFFFF
MT_ST_DENSITY_SHIFT = 24


@dataclass(frozen=True, slots=True)
class MtGet:
    """struct mtget as MTIOCGET returns it."""

    type: int
    resid: int
    dsreg: int
    gstat: int
    erreg: int
    fileno: int
    blkno: int

    @property
    def flags(self) -> Gstat:
        return Gstat(self.gstat & 0xFFFFFFFF)

    @property
    def block_size(self) -> int:
        """0: variable block mode."""
        return self.dsreg & MT_ST_BLKSIZE_MASK

    @property
    def density(self) -> int:
        return (self.dsreg >> MT_ST_DENSITY_SHIFT) & 0xFF

    @classmethod
    def unpack(cls, raw: bytes) -> MtGet:
        return cls(*MTGET.unpack(raw))

    def pack(self) -> bytes:
        return MTGET.pack(self.type, self.resid, self.dsreg, self.gstat, self.erreg, self.fileno, self.blkno)


def pack_mtop(op: int, count: int) -> bytes:
    return MTOP.pack(op, count)


def unpack_mtop(raw: bytes) -> tuple[int, int]:
    op, count = MTOP.unpack(raw)
    return op, count


def unpack_mtpos(raw: bytes) -> int:
    (block,) = MTPOS.unpack(raw)
    return block


class TapeDevice(Protocol):
    """What StDrive needs from an open tape device (StDevice, or a fake in tests)."""

    path: Path
    read_only: bool

    def op(self, op: MtOp, count: int = 1) -> None: ...

    def get(self) -> MtGet: ...

    def pos(self) -> int: ...

    def read(self, size: int) -> bytes: ...

    def write(self, data: bytes | bytearray | memoryview) -> int: ...

    def close(self) -> None: ...


class StDevice:
    """One open /dev/nstN. Every method raises OSError as the driver reports it."""

    def __init__(self, path: Path, fd: int, read_only: bool) -> None:
        self.path = path
        self.fd = fd
        self.read_only = read_only

    @classmethod
    def open(cls, path: Path) -> StDevice:
        """O_RDWR|O_NONBLOCK: an empty drive opens too and MTIOCGET tells its state. A write-protected
        cartridge refuses O_RDWR (EROFS, or EACCES): then it is opened O_RDONLY."""
        flags = os.O_NONBLOCK | os.O_CLOEXEC
        try:
            return cls(path, os.open(path, os.O_RDWR | flags), read_only=False)
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES):
                raise
        return cls(path, os.open(path, os.O_RDONLY | flags), read_only=True)

    def op(self, op: MtOp, count: int = 1) -> None:
        fcntl.ioctl(self.fd, MTIOCTOP, pack_mtop(op, count))

    def get(self) -> MtGet:
        return MtGet.unpack(fcntl.ioctl(self.fd, MTIOCGET, bytes(MTGET.size)))

    def pos(self) -> int:
        return unpack_mtpos(fcntl.ioctl(self.fd, MTIOCPOS, bytes(MTPOS.size)))

    def read(self, size: int) -> bytes:
        return os.read(self.fd, size)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        return os.write(self.fd, data)

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)
