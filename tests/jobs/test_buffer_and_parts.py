"""The memory buffer (start when mostly full, count underruns) and cutting members into parts."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.engine.pipeline.buffer import BufferCancelled, TapeBuffer
from console.engine.pipeline.parts import MemberCursor, SourceMember, SourceStreamError

REC = 1024


def test_drive_starts_only_when_the_buffer_is_mostly_full() -> None:
    buf = TapeBuffer(10 * REC, start_fill=0.8)
    got: list[bytes | None] = []
    consumer = threading.Thread(target=lambda: got.append(buf.get()))
    consumer.start()
    for i in range(7):
        buf.put(bytes([i]) * REC)
    time.sleep(0.1)
    assert got == [] and buf.stats().state == "filling"
    buf.put(b"\x07" * REC)  # 8 of 10: the start level
    consumer.join(2)
    assert got and got[0] == b"\x00" * REC


def test_underrun_is_counted_when_the_drive_starves() -> None:
    buf = TapeBuffer(4 * REC, start_fill=0.5)
    for i in range(2):
        buf.put(bytes([i]) * REC)
    assert buf.get() is not None and buf.get() is not None
    taken: list[bytes | None] = []
    consumer = threading.Thread(target=lambda: taken.append(buf.get()))
    consumer.start()  # empty while streaming: an underrun, then it waits for the start level again
    time.sleep(0.05)
    buf.put(b"x" * REC)
    time.sleep(0.05)
    assert taken == []
    buf.put(b"y" * REC)
    consumer.join(2)
    assert taken == [b"x" * REC]
    assert buf.stats().underruns == 1
    buf.close()
    assert buf.get() == b"y" * REC and buf.get() is None
    assert buf.stats().state == "done" and buf.stats().bytes_out == 4 * REC


def test_producer_blocks_when_full_and_cancel_frees_both_sides() -> None:
    buf = TapeBuffer(2 * REC)
    buf.put(b"a" * REC)
    buf.put(b"b" * REC)
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            buf.put(b"c" * REC)
        except BufferCancelled as exc:
            errors.append(exc)

    producer = threading.Thread(target=produce)
    producer.start()
    time.sleep(0.05)
    assert producer.is_alive()
    buf.cancel("drive lto5: physical end of tape")
    producer.join(2)
    assert errors and "physical end" in str(errors[0])
    with pytest.raises(BufferCancelled):
        buf.get()


def member(name: str, data: bytes, known: bool = True) -> SourceMember:
    def chunks() -> list[bytes]:
        return [data[i : i + 7] for i in range(0, len(data), 7)]

    return SourceMember(name=name, length=len(data) if known else None, open=chunks, source="test")


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=5),
    limits=st.lists(st.integers(min_value=1, max_value=120), min_size=1, max_size=8),
    known=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_parts_rebuild_every_member(sizes: list[int], limits: list[int], known: bool) -> None:
    datas = [bytes((i * 31 + j) % 251 for j in range(n)) for i, n in enumerate(sizes)]
    cursor = MemberCursor([member(f"m{i}", d, known) for i, d in enumerate(datas)])
    rebuilt: dict[str, bytearray] = {}
    names: dict[str, list[str]] = {}
    step = 0
    while cursor.has_more():
        part = cursor.next_part(limits[step % len(limits)])
        step += 1
        body = b"".join(bytes(c) for c in part.chunks)
        assert len(body) == part.length <= limits[(step - 1) % len(limits)]
        rebuilt.setdefault(part.member.name, bytearray()).extend(body)
        names.setdefault(part.member.name, []).append(part.name)
    for i, data in enumerate(datas):
        assert bytes(rebuilt[f"m{i}"]) == data
        parts = names[f"m{i}"]
        if len(parts) == 1:
            assert parts == [f"m{i}"]
        else:
            assert parts == [f"m{i}.part{k:04d}" for k in range(1, len(parts) + 1)]


def test_short_and_long_streams_are_reported_with_the_offset() -> None:
    short = SourceMember("disk.vhd", 100, lambda: [b"x" * 60], "test")
    cursor = MemberCursor([short])
    part = cursor.next_part(1000)
    with pytest.raises(SourceStreamError, match="disk.vhd: the stream ended short at byte 60 of 100"):
        b"".join(part.chunks)
    long = SourceMember("disk2.vhd", 10, lambda: [b"y" * 15], "test")
    cursor = MemberCursor([long])
    part = cursor.next_part(1000)
    assert b"".join(part.chunks) == b"y" * 10
    with pytest.raises(SourceStreamError, match="ran long"):
        cursor.has_more()


def test_length_learned_when_the_stream_opens() -> None:
    class Export(list):
        length = 12

    m = SourceMember("a.vhd", None, lambda: Export([b"abcdefghijkl"]), "xo")
    cursor = MemberCursor([m])
    part = cursor.next_part(5)
    assert (part.name, part.length, part.last) == ("a.vhd.part0001", 5, False)
    assert m.length == 12
