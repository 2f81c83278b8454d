"""Block contents and file helpers shared by the drive tests."""

from __future__ import annotations

from console.engine.drives.base import Drive

READ_ALL = 2 * 1024 * 1024  # a read buffer larger than any block these tests write


def block(number: int, size: int) -> bytes:
    """Block contents that tell blocks apart: a wrong block or a shifted byte shows."""
    stamp = f"<{number}:{size}>".encode()
    return (stamp * (size // len(stamp) + 1))[:size]


def write_file(drive: Drive, blocks: list[bytes]) -> None:
    for data in blocks:
        drive.write_block(data)
    drive.write_filemarks(1)


def read_file(drive: Drive, buffer: int = READ_ALL) -> list[bytes]:
    """The blocks up to the next filemark (which is read too)."""
    blocks = []
    while data := drive.read_block(buffer):
        blocks.append(data)
    return blocks
