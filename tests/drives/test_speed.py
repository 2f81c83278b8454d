"""The speed model, on a fake clock: rate limiting, speed matching, shoe-shine and repositioning."""

from __future__ import annotations

import pytest

from console.engine.drives.speed import MB, SpeedModel
from tests.drives.fake_clock import FakeClock

BLOCK = 100_000
BUFFER = 1_000_000


def model(clock: FakeClock, reposition: float = 0.02) -> SpeedModel:
    return SpeedModel(100 * MB, 40 * MB, BUFFER, reposition, clock=clock, sleep=clock.sleep)


def produce(speed: SpeedModel, clock: FakeClock, blocks: int, rate: float) -> None:
    """A host that hands the drive one block every BLOCK/rate seconds."""
    for _ in range(blocks):
        clock.advance(BLOCK / rate)
        speed.write(BLOCK)


def test_a_fast_host_is_held_to_the_native_rate_after_a_buffer_sized_burst() -> None:
    clock = FakeClock()
    speed = model(clock)
    for _ in range(100):  # 10 MB as fast as the host can
        speed.write(BLOCK)
    assert clock.now == pytest.approx((100 * BLOCK - BUFFER) / (100 * MB))
    speed.flush()
    assert clock.now == pytest.approx(100 * BLOCK / (100 * MB))  # 10 MB at 100 MB/s
    assert speed.shoe_shine_events == 0


@pytest.mark.parametrize("rate", [40 * MB, 60 * MB, 99 * MB])
def test_speed_matching_keeps_a_host_between_floor_and_native_streaming(rate: float) -> None:
    clock = FakeClock()
    speed = model(clock)
    produce(speed, clock, 500, rate)
    assert speed.shoe_shine_events == 0
    assert clock.slept == 0.0  # the host never waited for the drive


def test_a_host_slower_than_the_floor_makes_the_drive_shoe_shine() -> None:
    events = {}
    for rate in (5 * MB, 20 * MB, 39 * MB):
        clock = FakeClock()
        speed = model(clock)
        produce(speed, clock, 500, rate)
        events[rate] = speed.shoe_shine_events
    assert events[5 * MB] > events[20 * MB] > events[39 * MB] >= 1
    # Each restart waits for half a buffer of new data: at most one stop per half buffer written.
    assert events[5 * MB] <= 500 * BLOCK // (BUFFER // 2)
    # Just below the floor the drive slows down to it and runs dry only now and then.
    assert events[39 * MB] <= 5


def test_a_pause_longer_than_the_buffer_lasts_is_one_shoe_shine() -> None:
    clock = FakeClock()
    speed = model(clock)
    produce(speed, clock, 50, 80 * MB)
    clock.advance(BUFFER / (40 * MB) + 1.0)
    speed.write(BLOCK)
    assert speed.shoe_shine_events == 1
    produce(speed, clock, 50, 80 * MB)
    assert speed.shoe_shine_events == 1


def test_restarting_after_a_shoe_shine_costs_the_reposition_time() -> None:
    reposition = 0.5
    streaming, restarted = FakeClock(), FakeClock()
    for clock, stall in ((streaming, 0.0), (restarted, 10.0)):
        speed = model(clock, reposition)
        produce(speed, clock, 50, 80 * MB)
        clock.advance(stall)
        start = clock.now
        for _ in range(30):  # a 3 MB burst: two buffers more than fit
            speed.write(BLOCK)
        speed.flush()
        clock.advance(-start)  # keep only the burst's duration
    assert restarted.now - streaming.now == pytest.approx(reposition, abs=0.05)


def test_a_flush_waits_for_the_buffer_and_is_not_a_shoe_shine() -> None:
    clock = FakeClock()
    speed = model(clock)
    for _ in range(6):
        speed.write(BLOCK)
    assert speed.buffered_bytes == 6 * BLOCK
    speed.flush()
    assert clock.now == pytest.approx(6 * BLOCK / (100 * MB))
    assert speed.buffered_bytes == 0
    clock.advance(60.0)  # the drive stopped on purpose: a long pause is not a shoe-shine
    speed.write(BLOCK)
    speed.flush()
    assert speed.shoe_shine_events == 0


def test_reads_are_paced_at_the_native_rate() -> None:
    clock = FakeClock()
    speed = model(clock)
    for _ in range(10):
        speed.read(1_000_000)
    assert clock.now == pytest.approx(0.1)


def test_reference_rates_per_generation() -> None:
    lto5 = SpeedModel.for_generation("LTO-5")
    assert (lto5.native_rate, lto5.floor_rate) == (140 * MB, 47 * MB)
    assert SpeedModel.for_generation("LTO-4", buffer_bytes=1000).buffer_bytes == 1000
    with pytest.raises(ValueError, match="LTO-8"):
        SpeedModel.for_generation("LTO-8")


@pytest.mark.parametrize(
    ("native", "floor", "buffer", "reposition"),
    [(0, 1, 1, 0), (10, 20, 1, 0), (10, 0, 1, 0), (10, 5, 0, 0), (10, 5, 1, -1)],
)
def test_impossible_models_are_refused(native: float, floor: float, buffer: int, reposition: float) -> None:
    with pytest.raises(ValueError):
        SpeedModel(native, floor, buffer, reposition)
