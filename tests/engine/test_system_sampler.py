"""The daemon's own CPU (its process, all its threads) beside the host's figures, over a stated window."""

import time

from console.engine.daemon.events import SystemSampler


def test_the_daemon_process_is_sampled_apart_from_the_host() -> None:
    sampler = SystemSampler()
    first = sampler.sample()
    assert first["window_seconds"] is None  # no window yet: no rate
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # burn some CPU in this process
        sum(range(10_000))
    later = sampler.sample()
    assert later["window_seconds"] > 0.2
    assert later["daemon_threads"] >= 1 and later["daemon_rss"] > 0
    assert 0 < later["daemon_cpu_percent"] <= 100.0
    assert "cpu_percent" in later  # the host's, beside it
