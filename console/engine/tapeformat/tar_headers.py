"""The tar framing every set is written in: POSIX (pax) headers that GNU tar reads, fixed records, and
the errors of the set writer and reader. A tape file is `record_size` bytes at a time, so plain GNU tar
reads it with `tar -b <record_size/512>`.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Mapping

Buffer = bytes | bytearray | memoryview
Sink = Callable[[memoryview], None]

BLOCK = 512
RECORD_SIZE = 262144  # 256 KiB = tar -b 512

ZERO_BLOCKS = memoryview(bytes(BLOCK * 2))
_MAX_OCTAL_8 = 0o7777777
_MAX_OCTAL_12 = 0o77777777777
_USTAR_MAX_OCTAL = {8: _MAX_OCTAL_8, 12: _MAX_OCTAL_12}

REGTYPE = b"0"
SYMTYPE = b"2"
DIRTYPE = b"5"
PAXTYPE = b"x"


class TarSetError(Exception):
    """Base of the tar set errors; str() is one line."""


class MemberLengthError(TarSetError):
    """A member's data stream ran short of, or past, the size declared in its header."""

    def __init__(self, name: str, expected: int, got: int, *, at_least: bool = False) -> None:
        self.name = name
        self.expected = expected
        self.got = got
        self.at_least = at_least
        more = "at least " if at_least else ""
        super().__init__(f"member {name!r}: expected {expected} bytes, got {more}{got}")


class ChecksumError(TarSetError):
    """A member's data does not hash to the sha256 the manifest records."""


class TarFormatError(TarSetError):
    """The records do not hold a tar archive the reader understands."""


# ------------------------------------------------------------------------------------------ headers


def _encode_name(name: str) -> bytes:
    # Names from the file system may carry undecodable bytes as surrogates: write those bytes back.
    return name.encode("utf-8", "surrogateescape")


def _pax_record(key: str, value: bytes) -> bytes:
    payload = b" " + key.encode("ascii") + b"=" + value + b"\n"
    length = len(payload) + 1
    while len(str(length)) + len(payload) != length:
        length = len(str(length)) + len(payload)
    return str(length).encode("ascii") + payload


def _format_mtime(mtime: float | int) -> str:
    if isinstance(mtime, int):
        return str(mtime)
    text = repr(float(mtime))
    if "e" in text or "n" in text:  # exponent, inf, nan
        text = format(mtime, ".9f")
    return text[:-2] if text.endswith(".0") else text


def _fits_octal(value: int, width: int) -> bool:
    return 0 <= value <= _USTAR_MAX_OCTAL[width]


def _ascii_field(raw: bytes, width: int) -> tuple[bytes, bool]:
    """The bytes to put in a fixed ustar field, and whether a pax record must carry the real value."""
    if len(raw) <= width and raw.isascii():
        return raw, False
    return raw[:width].decode("ascii", "replace").encode("ascii", "replace"), True


_USTAR = struct.Struct("100s8s8s8s12s12s8sc100s8s32s32s8s8s155s12x")
_NO_CHECKSUM = b" " * 8
_USTAR_MAGIC = b"ustar\x0000"
_ZERO_DEV = b"0000000\0"


def _ustar_block(
    name: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    typeflag: bytes,
    linkname: bytes,
    uname: bytes,
    gname: bytes,
) -> bytes:
    fields = [
        name,
        b"%07o\0" % (mode & 0o7777),
        b"%07o\0" % uid,
        b"%07o\0" % gid,
        b"%011o\0" % size,
        b"%011o\0" % mtime,
        _NO_CHECKSUM,
        typeflag,
        linkname,
        _USTAR_MAGIC,
        uname,
        gname,
        _ZERO_DEV,
        _ZERO_DEV,
        b"",
    ]
    fields[6] = b"%06o\0 " % sum(_USTAR.pack(*fields))
    return _USTAR.pack(*fields)


def _has_surrogates(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def tar_header(
    name: str,
    size: int,
    *,
    mtime: float | int = 0,
    mode: int = 0o644,
    typeflag: bytes = REGTYPE,
    linkname: str = "",
    uid: int = 0,
    gid: int = 0,
    uname: str = "",
    gname: str = "",
    pax: Mapping[str, str] | None = None,
) -> bytes:
    """The header block(s) of one tar member: a pax extended header when needed, then the ustar block.

    A pax record carries what ustar cannot: names and link targets over 100 bytes or not ASCII, sizes of
    8 GiB and up, mtimes with a fraction (a float mtime is written exactly) or before 1970, large ids,
    long user and group names, plus any `pax` records the caller adds. The result is a multiple of 512.
    """
    if not pax and not linkname and type(mtime) is int:  # the common case: one plain ustar block
        raw_name = _encode_name(name)
        raw_user, raw_group = uname.encode("utf-8", "surrogateescape"), gname.encode("utf-8", "surrogateescape")
        if (
            len(raw_name) <= 100
            and len(raw_user) <= 32
            and len(raw_group) <= 32
            and (raw_name + raw_user + raw_group).isascii()
            and 0 <= size <= _MAX_OCTAL_12
            and 0 <= mtime <= _MAX_OCTAL_12
            and 0 <= uid <= _MAX_OCTAL_8
            and 0 <= gid <= _MAX_OCTAL_8
        ):
            return _ustar_block(raw_name, mode, uid, gid, size, mtime, typeflag, b"", raw_user, raw_group)
    records: dict[str, bytes] = {}
    raw_name = _encode_name(name)
    name_field, need = _ascii_field(raw_name, 100)
    if need:
        records["path"] = raw_name
    raw_link = _encode_name(linkname)
    link_field, need = _ascii_field(raw_link, 100)
    if need:
        records["linkpath"] = raw_link
    if not _fits_octal(size, 12):
        if size < 0:
            raise ValueError(f"negative size for {name!r}")
        records["size"] = str(size).encode("ascii")
    whole = int(mtime // 1)
    if whole != mtime or not _fits_octal(whole, 12):
        records["mtime"] = _format_mtime(mtime).encode("ascii")
    for key, value, width in (("uid", uid, 8), ("gid", gid, 8)):
        if not _fits_octal(value, width):
            records[key] = str(value).encode("ascii")
    fields: dict[str, bytes] = {}
    for key, text in (("uname", uname), ("gname", gname)):
        raw = _encode_name(text)
        fields[key], need = _ascii_field(raw, 32)
        if need:
            records[key] = raw
    if _has_surrogates(name) or _has_surrogates(linkname):
        records["hdrcharset"] = b"BINARY"
    for key, value in (pax or {}).items():
        if "=" in key or not key.isascii() or not key:
            raise ValueError(f"bad pax key {key!r}")
        records[key] = value.encode("utf-8")
    ustar = _ustar_block(
        name_field,
        mode,
        uid if _fits_octal(uid, 8) else 0,
        gid if _fits_octal(gid, 8) else 0,
        size if _fits_octal(size, 12) else 0,
        whole if _fits_octal(whole, 12) else 0,
        typeflag,
        link_field,
        fields["uname"],
        fields["gname"],
    )
    if not records:
        return ustar
    data = b"".join(_pax_record(key, value) for key, value in records.items())
    base = os.path.basename(raw_name.rstrip(b"/")) or b"member"
    pax_name, _ = _ascii_field(b"PaxHeaders/" + base, 100)
    pax_block = _ustar_block(
        pax_name, 0o644, 0, 0, len(data), max(0, min(whole, _USTAR_MAX_OCTAL[12])), PAXTYPE, b"", b"", b""
    )
    return pax_block + data + bytes(-len(data) % BLOCK) + ustar
