"""Mutations of a good input, as a fuzzer for the parsers: hostile values, bytes inserted, cut, repeated."""

from __future__ import annotations

from hypothesis import strategies as st

HOSTILE_VALUES = [
    "inf", "-inf", "nan", '""', "[[1, [2]]]", "{}", "-1", "0", "1e400", "99999999999999999999999999", "true",
    '"../../etc/passwd"', '"\\u0000"', '"a\\nb"', "[]", '["x", 1]', "{ a = { b = 1 } }", '"²"', "1.5", '"LTO-9"',
]
HOSTILE_BYTES = [b"\xff", b"\x00", b"\xc3", b"[", b"]", b"=", b'"', b"\n", b"[[x]]\n", b"\r", b"#", b"\xef\xbb\xbf"]


@st.composite
def mutated_text(draw: st.DrawFn, good: bytes) -> bytes:
    """`good` with one to three mutations."""
    data = good
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["value", "insert", "cut", "repeat", "bytes"]))
        lines = data.split(b"\n")
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        if kind == "value" and b"=" in lines[at]:
            key = lines[at].split(b"=", 1)[0]
            lines[at] = key + b"= " + draw(st.sampled_from(HOSTILE_VALUES)).encode()
        elif kind == "insert":
            lines.insert(at, draw(st.sampled_from(HOSTILE_BYTES)) + draw(st.binary(max_size=8)))
        elif kind == "cut":
            del lines[at:at + draw(st.integers(1, 3))]
        elif kind == "repeat":
            lines.insert(at, lines[at])
        else:
            line = lines[at]
            pos = draw(st.integers(0, len(line)))
            lines[at] = line[:pos] + draw(st.binary(min_size=1, max_size=4)) + line[pos:]
        data = b"\n".join(lines)
    return data
