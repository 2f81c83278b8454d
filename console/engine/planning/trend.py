"""A straight-line trend of bytes per night, fitted by least squares, in exact fractions.

With x = nights since the first point and y = bytes on tape that night:

    slope     b = sum((x - mean x) * (y - mean y)) / sum((x - mean x)^2)
    intercept a = mean y - b * mean x               (bytes at the first night)
    size on night x = a + b * x

The night a night's sets no longer fit `limit` bytes is the first whole night with a + b * x > limit:
x = floor((limit - a) / b) + 1 when b > 0; never when b <= 0 and it fits now. Fractions keep it exact:
100 GB + 2 GB a night crosses 1.5 TB on night 701, not on 700 or 702 after a rounding error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

METHOD = "linear least-squares fit"


@dataclass(frozen=True, slots=True)
class Trend:
    origin: date  # night x = 0
    intercept: Fraction  # bytes on the origin night
    slope: Fraction  # bytes more each night
    nights: int  # points fitted

    def at(self, night: date) -> Fraction:
        return self.intercept + self.slope * (night - self.origin).days

    def first_night_over(self, limit: int, *, from_night: date) -> date | None:
        """The first night, from `from_night` on, whose size exceeds `limit`; None if that never happens."""
        if self.at(from_night) > limit:
            return from_night
        if self.slope <= 0:
            return None
        x = math.floor((limit - self.intercept) / self.slope) + 1
        return max(from_night, self.origin + timedelta(days=x))

    def to_json(self) -> dict[str, object]:
        return {"origin": self.origin.isoformat(), "intercept": float(self.intercept), "slope": float(self.slope),
                "nights": self.nights, "method": f"{METHOD} over {self.nights} nights"}


def fit(points: Sequence[tuple[date, int]]) -> Trend | None:
    """The least-squares line through (night, bytes); None with fewer than two distinct nights."""
    if len({night for night, _ in points}) < 2:
        return None
    origin = min(night for night, _ in points)
    xs = [Fraction((night - origin).days) for night, _ in points]
    ys = [Fraction(value) for _, value in points]
    n = len(points)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return Trend(origin, mean_y - slope * mean_x, slope, n)
