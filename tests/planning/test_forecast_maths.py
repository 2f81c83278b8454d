"""The forecast's maths on known series: the trend, the crossing night, the deltas and the retention that fit."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from fractions import Fraction

from console.engine.planning.advice import PoolTapes, job_sentence, pool_sentence
from console.engine.planning.estimate import ChainSizes
from console.engine.planning.forecast import deltas_that_fit, forecast_job
from console.engine.planning.history import Night
from console.engine.planning.retention import PoolJob, runs_counter, sustainable_days, tapes_needed
from console.engine.planning.trend import fit

GB = 10**9
TB = 10**12
START = date(2026, 1, 1)


def series(first: int, per_night: int, nights: int, start: date = START) -> list[Night]:
    return [Night(start + timedelta(days=n), first + per_night * n, None, n + 1) for n in range(nights)]


def test_least_squares_on_a_small_series_by_hand() -> None:
    # x = 0, 1, 2; y = 1, 3, 2: mean x 1, mean y 2, slope (-1*-1 + 0 + 1*0) / 2 = 1/2, intercept 2 - 1/2 = 3/2
    trend = fit([(START, 1), (START + timedelta(days=1), 3), (START + timedelta(days=2), 2)])
    assert trend is not None
    assert (trend.slope, trend.intercept, trend.nights) == (Fraction(1, 2), Fraction(3, 2), 3)
    assert fit([(START, 5)]) is None and fit([(START, 5), (START, 7)]) is None  # one night is no trend


def test_100_gb_plus_2_gb_a_night_crosses_a_1_5_tb_tape_on_night_701() -> None:
    nights = series(100 * GB, 2 * GB, 30)  # 2026-01-01 .. 2026-01-30
    trend = fit([(n.night, n.bytes) for n in nights])
    assert trend is not None and trend.slope == 2 * GB and trend.intercept == 100 * GB
    # 100 GB + 2 GB * x > 1500 GB first for x = 701 (x = 700 is exactly 1.5 TB, which still fits)
    assert trend.at(START + timedelta(days=700)) == 1500 * GB
    crossing = trend.first_night_over(1500 * GB, from_night=date(2026, 1, 31))
    assert crossing == START + timedelta(days=701) == date(2027, 12, 3)
    forecast = forecast_job("vdi-nightly", nights, capacity=1500 * GB, generation="LTO-5", today=date(2026, 1, 31))
    assert forecast.crossing == date(2027, 12, 3) and forecast.nights_to_crossing == 671
    assert forecast.tapes_per_night(date(2028, 1, 1)) == 2


def test_a_shrinking_or_flat_job_never_crosses_and_one_already_over_crosses_today() -> None:
    today = date(2026, 2, 1)
    flat = forecast_job("j", series(100 * GB, 0, 10), capacity=1500 * GB, generation="LTO-5", today=today)
    assert flat.crossing is None
    over = forecast_job("j", series(1600 * GB, -GB, 10), capacity=1500 * GB, generation="LTO-5", today=today)
    assert over.crossing == today and over.tapes_per_night(today) == 2


def test_the_deltas_that_fit() -> None:
    chains = ChainSizes(fulls=600 * GB, deltas=14 * 70 * GB, depth=14, chains=10, delta_step=70 * GB)
    # 1.6 TB projected against 1.5 TB: 100 GB too much = 2 deltas of 70 GB (rounded up): keep 12
    assert deltas_that_fit(1600 * GB, 1500 * GB, chains) == 12
    assert deltas_that_fit(1400 * GB, 1500 * GB, chains) == 14  # fits as it is
    assert deltas_that_fit(1500 * GB + 14 * 70 * GB + 1, 1500 * GB, chains) is None  # the fulls alone are too many


def test_tapes_needed_and_the_retention_the_tapes_hold() -> None:
    daily = PoolJob("vdi", 1600 * GB, lambda days: days)  # 2 tapes a run
    assert tapes_needed("new-each-run", [daily], 14, 1500 * GB) == 28
    assert sustainable_days("new-each-run", [daily], 20, 1500 * GB) == 10
    assert sustainable_days("new-each-run", [daily], 1, 1500 * GB) == 0  # not even one night
    small = PoolJob("files", 100 * GB, lambda days: days)
    assert tapes_needed("append", [small], 14, 1500 * GB) == math.ceil(1400 / 1500) + 1 == 2
    assert sustainable_days("append", [small], 3, 1500 * GB) == 30  # ceil(30 * 100 / 1500) + 1 = 3


def test_runs_of_a_weekday_schedule() -> None:
    monday = datetime(2026, 11, 23, 7, 0).astimezone()
    runs_in = runs_counter("30 22 * * 1-5", monday)
    assert [runs_in(d) for d in (1, 5, 7, 14, 16, 17)] == [1, 5, 5, 10, 12, 13]
    weekdays = PoolJob("vdi", 100 * GB, runs_in)
    assert tapes_needed("new-each-run", [weekdays], 14, 1500 * GB) == 10
    assert sustainable_days("new-each-run", [weekdays], 12, 1500 * GB) == 16
    assert runs_counter(None, monday)(14) == 14  # no schedule: one run a night


def pool(tapes: int, *, blanks: int = 0, retention: int = 14) -> PoolTapes:
    return PoolTapes("vdi-daily", "LTO-5", "new-each-run", retention, tapes, blanks, 1500 * GB)


def test_the_sentences_name_the_date_the_depth_and_the_retention() -> None:
    today = date(2026, 1, 31)
    nights = series(1300 * GB, GB, 30)  # 1.3 TB + 1 GB a night: 1.33 TB tonight, over 1.5 TB from night 201
    forecast = forecast_job("vdi-nightly", nights, capacity=1500 * GB, generation="LTO-5", today=today)
    assert forecast.crossing == START + timedelta(days=201) == date(2026, 7, 21)
    # tonight's chains: 910 GB of fulls and 14 deltas of 30 GB in all the chains = 1.33 TB
    chains = ChainSizes(fulls=910 * GB, deltas=14 * 30 * GB, depth=14, chains=8, delta_step=30 * GB)
    at_horizon = [PoolJob("vdi-nightly", float(forecast.at(forecast.horizon) or 0), lambda days: days)]
    sentence, changes = job_sentence(forecast, chains=chains, pool=pool(14), pool_jobs_at_horizon=at_horizon)
    assert sentence.startswith("vdi-nightly outgrows one LTO-5 tape (1.5 TB) around 2026-07-21 (in 171 nights): "
                               "1.3 TB a night, +1.0 GB a night (linear least-squares fit over 30 nights)")
    # the horizon (today + 180 = night 210) projects 1510 GB: 10 GB too much = 1 delta of 30 GB less
    assert changes[0] == "keep 13 deltas instead of 14 (XO's backup retention) to stay on one tape until 2026-07-30"
    # or let it spill: 2 tapes a night then, and 14 days need 28 tapes; the pool's 14 hold 7 days
    assert changes[1] == ("keep 7 days instead of 14 in pool vdi-daily (retention_days), or add 14 tapes to it "
                          "(by 2026-07-30 it takes 2 tapes a night)")
    assert sentence.endswith("; " + ", or ".join(changes))


def test_when_even_no_delta_would_fit() -> None:
    today = date(2026, 1, 31)
    forecast = forecast_job("vdi-nightly", series(1000 * GB, 5 * GB, 30), capacity=1500 * GB, generation="LTO-5",
                            today=today)
    chains = ChainSizes(fulls=730 * GB, deltas=14 * 30 * GB, depth=14, chains=8, delta_step=30 * GB)
    # the horizon projects 1000 + 5 * 210 = 2050 GB: 550 GB too much is 19 deltas, more than the 14 kept
    _, changes = job_sentence(forecast, chains=chains, pool=pool(40), pool_jobs_at_horizon=[])
    assert changes[0] == ("even keeping no delta the nights outgrow one tape by 2026-07-30 (the fulls alone about "
                          "1.6 TB then)")


def test_no_suggestion_when_the_crossing_is_beyond_the_horizon_or_the_tapes_suffice() -> None:
    today = date(2026, 1, 31)
    far = forecast_job("j", series(100 * GB, 2 * GB, 30), capacity=1500 * GB, generation="LTO-5", today=today)
    sentence, changes = job_sentence(far, chains=None, pool=pool(14), pool_jobs_at_horizon=[])
    assert sentence == ("j: 160.0 GB a night, +2.0 GB a night (linear least-squares fit over 30 nights); stays within "
                        "one LTO-5 tape (1.5 TB) past 2026-07-30 (at this rate it outgrows it around 2027-12-03, in "
                        "671 nights)")
    assert changes == []
    near = forecast_job("j", series(1400 * GB, 2 * GB, 30), capacity=1500 * GB, generation="LTO-5", today=today)
    jobs = [PoolJob("j", float(near.at(near.horizon) or 0), lambda days: days)]
    _, changes = job_sentence(near, chains=None, pool=pool(30), pool_jobs_at_horizon=jobs)
    assert changes == ["let the sets spill: pool vdi-daily's 30 tapes hold 14 days even then (28 needed)"]
    one = forecast_job("j", series(100 * GB, 2 * GB, 1), capacity=1500 * GB, generation="LTO-5", today=today)
    assert job_sentence(one, chains=None, pool=pool(14), pool_jobs_at_horizon=[])[0] == (
        "j: one night of history so far; a trend needs two")


def test_the_pool_sentence() -> None:
    jobs = [PoolJob("vdi-nightly", 900 * GB, lambda days: days)]
    assert pool_sentence(pool(6, blanks=2), jobs) == (
        "pool vdi-daily keeps 14 days (vdi-nightly 1 tape a run): needs 14 tapes, has 8 (6 of its own, "
        "2 unassigned LTO-5 blanks); keep 8 days instead of 14 in pool vdi-daily (retention_days), or add 6 tapes "
        "to it")
    assert pool_sentence(pool(20), jobs).endswith("needs 14 tapes, has 20 (20 of its own, 0 unassigned LTO-5 blanks)")
