"""The figures of the standard reports, read from the Info Mart's RAA views (``AG2_*``) and dimensions only.

Every query keeps the rows whose interval lies on a local calendar day (``DATE_TIME.CAL_DATE``, in the
tenant's time zone, which DATE_TIME holds) from ``first`` to ``last`` inclusive. Days come from the ``_DAY``
views, 15-minute intervals from ``_SUBHR`` and the hours of the week's heat map from ``_HOUR``; agents are
told apart by employee id, queues and groups by name (every RESOURCE_ / GROUP_ version of one counts as one).
Ratios are computed here from the sums, never averaged from ratios. docs/reports.md defines each figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date

import sqlalchemy as sa

from gim_dagster.core.facts import static_keys as K
from gim_dagster.core.infomart.tables import TIME_RANGE_BUCKETS

Rows = Callable[[str], list[sa.RowMapping]]
"""Runs one query of the report's range and returns its rows."""
_IN_RANGE = "d.cal_date BETWEEN :first AND :last"
_DAY = "JOIN date_time d ON d.date_time_key = v.date_time_key"
_AGENT = """coalesce(r.employee_id, r.resource_name, 'key ' || v.resource_key) AS who,
    (array_agg(nullif(trim(concat_ws(' ', r.agent_first_name, r.agent_last_name)), '')
        ORDER BY r.start_ts DESC NULLS LAST))[1] AS name"""
"""An agent: its employee id (``who``) and the name of its newest RESOURCE_ version among the rows."""
_QUEUE = "coalesce(r.resource_name, 'key ' || v.resource_key) AS queue"
_GROUP = (
    f"CASE WHEN v.group_key = {K.UNKNOWN_KEY} THEN '(no group)' "
    "ELSE coalesce(g.group_name, 'group key ' || v.group_key) END AS who, NULL AS name"
)
_RESOURCE = "LEFT JOIN resource_ r ON r.resource_key = v.resource_key"
_GROUP_JOIN = "LEFT JOIN group_ g ON g.group_key = v.group_key"
_REASON = """coalesce(s.state_name, 'state ' || v.resource_state_key) AS state,
    coalesce(rr.software_reason_value, rr.hardware_reason, '(no reason)') AS reason"""
_REASON_JOIN = """LEFT JOIN resource_state s ON s.resource_state_key = v.resource_state_key
    LEFT JOIN resource_state_reason rr ON rr.resource_state_reason_key = v.resource_state_reason_key"""


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class QueueFigures:
    """Queue measures summed over some rows of AG2_QUEUE_* (one interval, one day and queue, ...)."""

    offered: int
    """ENTERED: queue stays begun."""
    accepted: int
    abandoned: int
    accepted_thr: int
    """ACCEPTED_THR: accepted within the service-level threshold (queued plus ringing)."""
    accepted_time: int
    """ACCEPTED_TIME: seconds from entering the queue to being accepted (queued plus ringing), summed."""

    @property
    def service_level(self) -> float | None:
        """ACCEPTED_THR / (ACCEPTED + ABANDONED); None where nothing was accepted or abandoned."""
        return _ratio(self.accepted_thr, self.accepted + self.abandoned)

    @property
    def asa(self) -> float | None:
        """Average speed of answer: ACCEPTED_TIME / ACCEPTED, seconds."""
        return _ratio(self.accepted_time, self.accepted)

    @property
    def abandon_rate(self) -> float | None:
        return _ratio(self.abandoned, self.offered)


_QUEUE_SUMS = """sum(v.entered) AS offered, sum(v.accepted) AS accepted, sum(v.abandoned) AS abandoned,
    sum(v.accepted_thr) AS accepted_thr, sum(v.accepted_time) AS accepted_time"""


def _queue(row: sa.RowMapping) -> QueueFigures:
    return QueueFigures(
        *(int(row[c]) for c in ("offered", "accepted", "abandoned", "accepted_thr", "accepted_time"))
    )


@dataclass(frozen=True)
class Interval:
    """A 15-minute interval: its DATE_TIME key and local labels."""

    key: int
    day: str
    label: str
    """``09:15-09:30``, local time."""
    offset: int
    """Seconds east of UTC then (DATE_TIME_TZ_OFFSET): tells apart the two local 01:00 hours of the night the
    clocks go back."""


@dataclass(frozen=True)
class AgentFigures:
    """One agent's (or group's) handling (AG2_I_AGENT_*) and state times (AG2_I_SESS_STATE_*)."""

    name: str
    handled: int = 0
    """ACCEPTED: received interactions the agent answered."""
    engage_time: int = 0
    hold_time: int = 0
    wrap_time: int = 0
    """After-call work of the handlings (AG2_I_AGENT WRAP_TIME)."""
    logged_in: int = 0
    """ACTIVE_TIME of the login sessions."""
    ready: int = 0
    not_ready: int = 0
    busy: int = 0
    acw_state: int = 0
    """Seconds in the ACW state (AG2_I_SESS_STATE WRAP_TIME)."""
    employee_id: str = ""

    @property
    def handle_time(self) -> int:
        return self.engage_time + self.hold_time + self.wrap_time

    @property
    def aht(self) -> float | None:
        """(ENGAGE_TIME + HOLD_TIME + WRAP_TIME) / ACCEPTED, seconds."""
        return _ratio(self.handle_time, self.handled)

    @property
    def occupancy(self) -> float | None:
        """(BUSY_TIME + ACW) / (READY_TIME + BUSY_TIME + ACW): the share of available time spent working."""
        return _ratio(self.busy + self.acw_state, self.ready + self.busy + self.acw_state)


@dataclass(frozen=True)
class Bucket:
    """A TIME_RANGE bucket: seconds waited in [start, end) (end None: unbounded) and the count in it."""

    start: int
    end: int | None
    count: int

    @property
    def label(self) -> str:
        return f"{self.start}–{self.end} s" if self.end is not None else f"≥ {self.start} s"


@dataclass(frozen=True)
class AbandonFigures:
    """A queue's abandons (AG2_QUEUE_DAY summed over the range)."""

    queue: str
    abandoned: int
    short: int
    standard: int
    within_threshold: int
    abandoned_time: int

    @property
    def average_wait(self) -> float | None:
        return _ratio(self.abandoned_time, self.abandoned)


@dataclass(frozen=True)
class ReasonFigures:
    """Time in a state with one reason code (AG2_I_STATE_RSN_*), for the whole centre, an agent or a group."""

    who: str
    state: str
    reason: str
    count: int
    seconds: int


@dataclass
class ReportData:
    """Everything the pages show, for local days ``first`` ... ``last`` of the Info Mart's time zone."""

    first: date
    last: date
    time_zone: str
    intervals: list[Interval] = field(default_factory=list)
    queue_by_interval: dict[int, QueueFigures] = field(default_factory=dict)
    queue_by_day: dict[tuple[str, str], QueueFigures] = field(default_factory=dict)
    """(local day, queue) -> figures."""
    days: list[str] = field(default_factory=list)
    agents: list[AgentFigures] = field(default_factory=list)
    groups: list[AgentFigures] = field(default_factory=list)
    abandon_buckets: list[Bucket] = field(default_factory=list)
    abandons: list[AbandonFigures] = field(default_factory=list)
    reasons: list[ReasonFigures] = field(default_factory=list)
    reasons_by_agent: list[ReasonFigures] = field(default_factory=list)
    reasons_by_group: list[ReasonFigures] = field(default_factory=list)
    volume: dict[tuple[int, str], int] = field(default_factory=dict)
    """(interval key, media name) -> queue stays entered."""
    media: list[str] = field(default_factory=list)
    week: dict[tuple[int, int], int] = field(default_factory=dict)
    """(ISO day of week 1-7, local hour 0-23) -> queue stays entered, summed over the range."""

    def queue_total(self, day: str | None = None) -> QueueFigures:
        """All queues summed (over one local day, or the whole range)."""
        rows = [f for (d, _q), f in self.queue_by_day.items() if day is None or d == day]
        return QueueFigures(*(sum(getattr(f, c.name) for f in rows) for c in fields(QueueFigures)))


def time_zone(conn: sa.Connection) -> str:
    """The time zone DATE_TIME was filled in (the tenant's)."""
    zone = conn.execute(sa.text("SELECT date_time_tz FROM date_time LIMIT 1")).scalar()
    return str(zone or "UTC")


def fetch(conn: sa.Connection, first: date, last: date) -> ReportData:
    """Read every report's figures for local days ``first`` to ``last`` (inclusive)."""
    if last < first:
        raise ValueError(f"the range ends ({last}) before it begins ({first})")
    p = {"first": first, "last": last}
    data = ReportData(first, last, time_zone(conn))

    def rows(sql: str) -> list[sa.RowMapping]:
        return list(conn.execute(sa.text(sql), p).mappings())

    for row in rows(
        "SELECT d.date_time_key AS key, d.label_yyyy_mm_dd AS day, d.label_15_min AS label, "
        f"d.date_time_tz_offset AS tz_offset, {_QUEUE_SUMS} FROM ag2_queue_subhr v {_DAY} WHERE {_IN_RANGE} "
        "GROUP BY 1, 2, 3, 4 ORDER BY d.date_time_key"
    ):
        data.intervals.append(Interval(row["key"], row["day"], row["label"], int(row["tz_offset"] or 0)))
        data.queue_by_interval[row["key"]] = _queue(row)
    for row in rows(
        f"SELECT d.label_yyyy_mm_dd AS day, {_QUEUE}, {_QUEUE_SUMS} FROM ag2_queue_day v {_DAY} {_RESOURCE} "
        f"WHERE {_IN_RANGE} GROUP BY 1, 2 ORDER BY 1, 2"
    ):
        data.queue_by_day[(row["day"], row["queue"])] = _queue(row)
    data.days = sorted({day for day, _queue in data.queue_by_day})
    _agents(data, rows)
    _abandons(data, rows)
    _reasons(data, rows)
    _volume(data, rows)
    return data


def _agents(data: ReportData, rows: Rows) -> None:
    handling = "sum(v.accepted) AS handled, sum(v.engage_time) AS engage_time, " + (
        "sum(v.hold_time) AS hold_time, sum(v.wrap_time) AS wrap_time"
    )
    states = "sum(v.active_time) AS logged_in, sum(v.ready_time) AS ready, " + (
        "sum(v.not_ready_time) AS not_ready, sum(v.busy_time) AS busy, sum(v.wrap_time) AS acw_state"
    )
    where = f"WHERE {_IN_RANGE} GROUP BY 1"
    for target, who, join, suffix in (
        (data.agents, _AGENT, _RESOURCE, ""),
        (data.groups, _GROUP, _GROUP_JOIN, "_grp"),
    ):
        merged: dict[str, dict[str, int]] = {}
        names: dict[str, str] = {}
        for view, sums in (("i_agent", handling), ("i_sess_state", states)):
            for row in rows(f"SELECT {who}, {sums} FROM ag2_{view}{suffix}_day v {_DAY} {join} {where}"):
                key = str(row["who"])
                names[key] = row["name"] or names.get(key) or key
                merged.setdefault(key, {}).update(
                    {k: int(v) for k, v in row.items() if k not in ("who", "name")}
                )
        target.extend(
            AgentFigures(names[key], employee_id=key if suffix == "" else "", **values)
            for key, values in merged.items()
        )
        target.sort(key=lambda a: (a.name, a.employee_id))


def _abandons(data: ReportData, rows: Rows) -> None:
    per_bucket = " ".join(f"WHEN {n} THEN v.abandoned_sti_{n}" for n in range(1, TIME_RANGE_BUCKETS + 1))
    data.abandon_buckets = [
        Bucket(row["range_start"], row["range_end"], int(row["abandoned"]))
        for row in rows(
            f"SELECT t.range_start, t.range_end, sum(CASE t.bucket_num {per_bucket} END) AS abandoned "
            f"FROM ag2_queue_abn_day v {_DAY} JOIN time_range t ON t.time_range_key = v.time_range_key "
            f"WHERE {_IN_RANGE} GROUP BY 1, 2 ORDER BY 1, 2 NULLS LAST"
        )
    ]
    data.abandons = [
        AbandonFigures(
            row["queue"],
            *(int(row[c]) for c in ("abandoned", "short", "standard", "within", "waited")),
        )
        for row in rows(
            f"SELECT {_QUEUE}, sum(v.abandoned) AS abandoned, sum(v.abandoned_short) AS short, "
            "sum(v.abandoned_standard) AS standard, sum(v.abandoned_thr) AS within, "
            f"sum(v.abandoned_time) AS waited FROM ag2_queue_day v {_DAY} {_RESOURCE} "
            f"WHERE {_IN_RANGE} GROUP BY 1 ORDER BY 1"
        )
    ]


def _reasons(data: ReportData, rows: Rows) -> None:
    sums = "sum(v.state_rsn) AS n, sum(v.state_rsn_time) AS seconds"
    for target, who, view, join in (
        (data.reasons, "'all agents' AS who, NULL AS name", "ag2_i_state_rsn_day", ""),
        (data.reasons_by_agent, _AGENT, "ag2_i_state_rsn_day", _RESOURCE),
        (data.reasons_by_group, _GROUP, "ag2_i_state_rsn_grp_day", _GROUP_JOIN),
    ):
        target.extend(
            ReasonFigures(
                f"{row['name']} ({row['who']})" if row["name"] else str(row["who"]),
                row["state"],
                row["reason"],
                int(row["n"]),
                int(row["seconds"]),
            )
            for row in rows(
                f"SELECT {who}, {_REASON}, {sums} FROM {view} v {_DAY} {join} {_REASON_JOIN} "
                f"WHERE {_IN_RANGE} GROUP BY who, state, reason ORDER BY who, state, reason"
            )
        )


def _volume(data: ReportData, rows: Rows) -> None:
    media = "coalesce(m.media_name, 'media ' || v.media_type_key) AS media"
    for row in rows(
        f"SELECT d.date_time_key AS key, {media}, sum(v.entered) AS n FROM ag2_queue_subhr v {_DAY} "
        f"LEFT JOIN media_type m ON m.media_type_key = v.media_type_key WHERE {_IN_RANGE} GROUP BY 1, 2"
    ):
        data.volume[(row["key"], row["media"])] = int(row["n"])
    data.media = sorted({m for _k, m in data.volume})
    for row in rows(
        "SELECT d.cal_day_num_in_week AS dow, d.cal_hour_24_num_in_day AS hour, sum(v.entered) AS n "
        f"FROM ag2_queue_hour v {_DAY} WHERE {_IN_RANGE} GROUP BY 1, 2"
    ):
        data.week[(int(row["dow"]), int(row["hour"]))] = int(row["n"])
