"""TapeAlert: the flags a drive raises about itself and its cartridge (SSC-4 log pages 0x12 and 0x2E), their
names, the ones an operator must act on, and the decoding of a LOG SENSE answer (read through sg_logs)."""

from __future__ import annotations

# TapeAlert flags (SSC-4 / LTO SCSI reference, log page 0x2E parameter codes 1..64); the ones
# shared/reference/st-and-lto.md calls out are marked in TAPEALERT_IMPORTANT.
TAPEALERT_FLAGS: dict[int, str] = {
    0x01: "read warning",
    0x02: "write warning",
    0x03: "hard error",
    0x04: "media",
    0x05: "read failure",
    0x06: "write failure",
    0x07: "media life",
    0x08: "not data grade",
    0x09: "write protect",
    0x0A: "no removal",
    0x0B: "cleaning media",
    0x0C: "unsupported format",
    0x0D: "recoverable mechanical cartridge failure",
    0x0E: "unrecoverable mechanical cartridge failure",
    0x0F: "memory chip in cartridge failure",
    0x10: "forced eject",
    0x11: "read only format",
    0x12: "tape directory corrupted on load",
    0x13: "nearing media life",
    0x14: "clean now",
    0x15: "clean periodic",
    0x16: "expired cleaning media",
    0x17: "invalid cleaning tape",
    0x18: "retension requested",
    0x19: "dual-port interface error",
    0x1A: "cooling fan failure",
    0x1B: "power supply failure",
    0x1C: "power consumption",
    0x1D: "drive maintenance",
    0x1E: "hardware A",
    0x1F: "hardware B",
    0x20: "interface",
    0x21: "eject media",
    0x22: "microcode update fail",
    0x23: "drive humidity",
    0x24: "drive temperature",
    0x25: "drive voltage",
    0x26: "predictive failure",
    0x27: "diagnostics required",
    0x31: "diminished native capacity",
    0x32: "lost statistics",
    0x33: "tape directory invalid at unload",
    0x34: "tape system area write failure",
    0x35: "tape system area read failure",
    0x36: "no start of data",
    0x37: "loading failure",
    0x38: "unrecoverable unload failure",
    0x39: "automation interface failure",
    0x3A: "firmware failure",
    0x3B: "WORM medium integrity check failed",
    0x3C: "WORM medium overwrite attempted",
    0x3D: "encryption policy violation",
}
TAPEALERT_IMPORTANT = frozenset({0x03, 0x04, 0x05, 0x06, 0x07, 0x09, 0x13, 0x14, 0x15, 0x16, 0x1E, 0x1F, 0x26})
TAPEALERT_PAGES = (0x12, 0x2E)  # TapeAlert response (does not clear the flags), then the TapeAlert page


def tapealert_name(flag: int) -> str:
    return TAPEALERT_FLAGS.get(flag, f"flag {flag:#04x}")


def decode_tapealert_page(raw: bytes) -> list[int]:
    """The set flags (1..64) of a LOG SENSE response: page 0x12 (one 64-bit parameter, flag 1 in the
    top bit) or page 0x2E (one parameter per flag, value bit 0)."""
    if len(raw) < 4:
        raise ValueError(f"log page of {len(raw)} bytes is too short")
    page = raw[0] & 0x3F
    body = raw[4 : 4 + int.from_bytes(raw[2:4], "big")]
    params: list[tuple[int, bytes]] = []
    offset = 0
    while offset + 4 <= len(body):
        code = int.from_bytes(body[offset : offset + 2], "big")
        length = body[offset + 3]
        params.append((code, body[offset + 4 : offset + 4 + length]))
        offset += 4 + length
    if page == 0x12:
        value = next((data for code, data in params if code == 0 and len(data) >= 8), None)
        if value is None:
            raise ValueError("TapeAlert response page without its 64-bit flags parameter")
        bits = int.from_bytes(value[:8], "big")
        return [flag for flag in range(1, 65) if bits >> (64 - flag) & 1]
    if page == 0x2E:
        return sorted(code for code, data in params if 1 <= code <= 64 and data and data[0] & 1)
    raise ValueError(f"log page {page:#04x} is not a TapeAlert page")
