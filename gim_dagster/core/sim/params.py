"""Traffic parameters and the arrival model (a Poisson process whose rate follows a daily shape)."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from gim_dagster.core.naming import check_tenant_name

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# Relative arrival rate per UTC hour of day (a typical business-hours contact centre); normalised to mean 1
# so that ``calls_per_hour`` is the average over a whole day.
_SHAPE_RAW = (
    0.15,
    0.10,
    0.08,
    0.08,
    0.10,
    0.20,
    0.45,
    0.90,
    1.50,
    1.90,
    2.00,
    1.95,
    1.80,
    1.85,
    1.90,
    1.80,
    1.60,
    1.30,
    1.00,
    0.75,
    0.55,
    0.45,
    0.30,
    0.20,
)
DAILY_SHAPE: tuple[float, ...] = tuple(x * 24 / sum(_SHAPE_RAW) for x in _SHAPE_RAW)


@dataclass(frozen=True)
class TrafficParams:
    """What to simulate. Probabilities are per clean event; ``late_window_s`` bounds how late an event can be.

    ``shifts="daily"`` gives every agent one 8.5-hour shift a day, start times spread to follow the daily
    shape; ``"window"`` keeps every agent logged in for the whole window (steady staffing, for tests).
    ``daily_shape=False`` makes arrival rates constant.
    """

    tenant: str
    start: datetime
    hours: float
    calls_per_hour: float
    chats_per_hour: float = 0.0
    emails_per_hour: float = 0.0
    seed: int = 0
    duplicates: float = 0.0
    late: float = 0.0
    malformed: float = 0.0
    late_window_s: int = 15  # at most GSP's default allowed lateness (15 s), so no late event is too late
    outbound_share: float = 0.05  # outbound call attempts per hour, as a share of calls_per_hour
    daily_shape: bool = True
    shifts: Literal["daily", "window"] = "daily"

    def __post_init__(self) -> None:
        check_tenant_name(self.tenant)
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")
        if not 0 < self.hours <= 24 * 31:
            raise ValueError("hours must be > 0 and at most 744 (31 days)")
        for name in ("calls_per_hour", "chats_per_hour", "emails_per_hour", "outbound_share"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("duplicates", "late", "malformed"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be a probability between 0 and 1")
        if not 1 <= self.late_window_s <= 3600:
            raise ValueError("late_window_s must be between 1 and 3600")

    @property
    def start_ms(self) -> int:
        return int(self.start.astimezone(UTC).timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return self.start_ms + round(self.hours * HOUR_MS)

    def run_id(self, agent_ids: list[str]) -> str:
        """A short id of this run, the prefix of every id it generates (so separate runs never collide).

        Fault settings are left out: they change delivery, not the events, which keep their ids.
        """
        clean = replace(self, duplicates=0.0, late=0.0, malformed=0.0, late_window_s=60)
        text = f"{clean!r}|{','.join(agent_ids)}"
        return hashlib.blake2b(text.encode(), digest_size=5).hexdigest()


def rate_segments(
    rate_per_hour: float, start_ms: int, end_ms: int, shaped: bool
) -> list[tuple[int, int, float]]:
    """``(from_ms, to_ms, rate per ms)`` pieces of constant rate covering ``[start_ms, end_ms)``."""
    segments = []
    t = start_ms
    while t < end_ms:
        next_hour = (t // HOUR_MS + 1) * HOUR_MS
        to = min(next_hour, end_ms)
        factor = DAILY_SHAPE[(t % DAY_MS) // HOUR_MS] if shaped else 1.0
        segments.append((t, to, rate_per_hour * factor / HOUR_MS))
        t = to
    return segments


def expected_arrivals(rate_per_hour: float, start_ms: int, end_ms: int, shaped: bool) -> float:
    """The mean number of arrivals the simulator draws in ``[start_ms, end_ms)``."""
    return sum((to - t) * rate for t, to, rate in rate_segments(rate_per_hour, start_ms, end_ms, shaped))


def poisson_arrivals(
    rng: random.Random, rate_per_hour: float, start_ms: int, end_ms: int, shaped: bool
) -> list[int]:
    """Arrival times (ms) of a piecewise-constant Poisson process (restarting per piece is exact)."""
    expovariate = rng.expovariate
    times = []
    for t0, to, rate in rate_segments(rate_per_hour, start_ms, end_ms, shaped):
        if rate <= 0:
            continue
        t = t0 + expovariate(rate)
        while t < to:
            times.append(math.floor(t))
            t += expovariate(rate)
    return times
