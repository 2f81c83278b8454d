"""A brotli encoder that stores: a valid brotli stream (RFC 7932) of uncompressed meta-blocks.

XO writes block-mode VHD chunks brotli-compressed; the fake remote needs files that any brotli decoder
reads, without a compiled dependency. Stored meta-blocks are the format's own way to carry data that
does not compress, so this is real brotli, just never smaller than its input.
"""

from __future__ import annotations

_PIECE = 1 << 20  # bytes per meta-block (the format allows up to 16 MiB)
_WBITS = 24


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._nbits = 0

    def bits(self, value: int, count: int) -> None:
        """Append `count` bits of `value`, least significant first (brotli's bit order)."""
        self._acc |= (value & ((1 << count) - 1)) << self._nbits
        self._nbits += count
        while self._nbits >= 8:
            self.out.append(self._acc & 0xFF)
            self._acc >>= 8
            self._nbits -= 8

    def align(self) -> None:
        if self._nbits:
            self.bits(0, 8 - self._nbits)

    def raw(self, data: bytes) -> None:
        assert self._nbits == 0
        self.out += data


def brotli_store(data: bytes) -> bytes:
    """`data` as a brotli stream of stored meta-blocks."""
    w = _BitWriter()
    w.bits(1, 1)  # window size: '1' then 3 bits n, WBITS = 17 + n
    w.bits(_WBITS - 17, 3)
    for start in range(0, len(data), _PIECE):
        piece = data[start : start + _PIECE]
        mlen = len(piece) - 1
        nibbles = max(4, (mlen.bit_length() + 3) // 4)
        w.bits(0, 1)  # ISLAST = 0
        w.bits(nibbles - 4, 2)  # MNIBBLES: 0 -> 4, 1 -> 5, 2 -> 6
        w.bits(mlen, nibbles * 4)
        w.bits(1, 1)  # ISUNCOMPRESSED
        w.align()
        w.raw(piece)
    w.bits(1, 1)  # ISLAST
    w.bits(1, 1)  # ISLASTEMPTY
    w.align()
    return bytes(w.out)
