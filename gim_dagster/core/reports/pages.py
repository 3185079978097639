"""The reports as self-contained static HTML: one page per report plus an index, charts inline as SVG.

A page needs nothing but itself: the style sheet is inline, the charts are ``<svg>`` elements, there is no
script and no link outside the report's directory, so it opens from disk with no network. Every string is
escaped by Jinja's autoescape (names from the database included); the charts are the only markup passed
through, and matplotlib escapes the text it writes into them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from markupsafe import Markup

from gim_dagster.core.infomart.aggregates import Thresholds
from gim_dagster.core.reports import charts
from gim_dagster.core.reports.queries import AgentFigures, Interval, QueueFigures, ReasonFigures, ReportData
from gim_dagster.core.reports.templates import TEMPLATES

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class ReportOptions:
    """What the pages state besides the data: tenant, queue thresholds, service-level target."""

    tenant: str
    thresholds: Thresholds
    service_level_target_percent: float = 80.0


@dataclass(frozen=True)
class HtmlTable:
    caption: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    total: Sequence[str] | None = None
    """A last row set apart (the sum over the rows)."""
    labels: int = 1
    """Leading columns that are labels; the others are figures (right-aligned)."""


@dataclass
class Page:
    file: str
    title: str
    summary: str
    """One line for the index."""
    definitions: list[tuple[str, str]] = field(default_factory=list)
    charts: list[Markup] = field(default_factory=list)
    tables: list[HtmlTable] = field(default_factory=list)


# ---- number formats ------------------------------------------------------------------------------------
def count(n: int) -> str:
    return f"{n:,}"


def percent(ratio: float | None) -> str:
    return "–" if ratio is None else f"{100 * ratio:.1f} %"


def seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def duration(total: int) -> str:
    """Whole seconds as ``h:mm:ss``."""
    hours, rest = divmod(int(total), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def interval_labels(intervals: Sequence[Interval]) -> list[str]:
    """Each interval's local label (``09:15-09:30``); where a day has a label twice (the hour repeated the
    night the clocks go back), with the UTC offset of each (``01:15-01:30 UTC-04:00``)."""
    times = Counter((i.day, i.label) for i in intervals)
    return [
        f"{i.label} {_utc_offset(i.offset)}" if times[(i.day, i.label)] > 1 else i.label for i in intervals
    ]


def _utc_offset(seconds_east: int) -> str:
    sign = "+" if seconds_east >= 0 else "-"
    hours, minutes = divmod(abs(seconds_east) // 60, 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _chart_labels(data: ReportData) -> list[str]:
    """``MM-DD HH:MM`` (with the offset where the hour repeats) per interval, for the charts' axes."""
    return [
        f"{i.day[5:]} {label[:5]}{label[11:]}"
        for i, label in zip(data.intervals, interval_labels(data.intervals), strict=True)
    ]


# ---- the pages --------------------------------------------------------------------------------------------
def _threshold_text(th: Thresholds) -> str:
    text = f"{th.service_level_seconds} s (the tenant's aggregates.service_level_seconds)"
    if th.queue_service_level_seconds:
        own = ", ".join(f"{q}: {s} s" for q, s in sorted(th.queue_service_level_seconds.items()))
        text += f"; queues with their own threshold: {own}"
    return text


def _queue_row(label: Sequence[str], f: QueueFigures) -> list[str]:
    return [
        *label,
        count(f.offered),
        count(f.accepted),
        count(f.abandoned),
        percent(f.abandon_rate),
        count(f.accepted_thr),
        percent(f.service_level),
        seconds(f.asa),
    ]


_QUEUE_HEADERS = [
    "offered",
    "accepted",
    "abandoned",
    "abandoned %",
    "accepted in threshold",
    "service level",
    "ASA",
]


def queue_summary(data: ReportData, options: ReportOptions) -> Page:
    target = options.service_level_target_percent
    labels = _chart_labels(data)
    per = [data.queue_by_interval[i.key] for i in data.intervals]
    total = data.queue_total()
    page = Page(
        "queue-summary.html",
        "Queue summary",
        f"{count(total.offered)} offered, {count(total.accepted)} accepted, "
        f"{count(total.abandoned)} abandoned; "
        f"service level {percent(total.service_level)} (target {target:g} %), ASA {seconds(total.asa)}",
    )
    page.definitions = [
        (
            "Offered",
            "interactions that entered a queue (AG2_QUEUE ENTERED), counted in the interval they "
            "entered it; an interaction queued twice counts twice.",
        ),
        (
            "Accepted",
            "of those, answered by an agent (ACCEPTED: routed to an agent whose handling was answered).",
        ),
        (
            "Abandoned",
            "the customer hung up or left while queued (ABANDONED, technical result ABANDONED); "
            "interactions abandoned while ringing at an agent are not in it.",
        ),
        ("Service-level threshold", _threshold_text(options.thresholds)),
        (
            "Service level",
            "ACCEPTED_THR / (ACCEPTED + ABANDONED): accepted within the threshold, measured from "
            "entering the queue to being answered (queued + ringing), over the interactions that were "
            "accepted "
            "or abandoned. Interactions cleared or routed elsewhere are in neither.",
        ),
        ("Service-level target", f"{target:g} % (reports.service_level_target_percent)."),
        (
            "ASA",
            "average speed of answer: ACCEPTED_TIME / ACCEPTED, seconds from entering the queue to being "
            "answered (queued + ringing).",
        ),
        ("Abandoned %", "ABANDONED / offered."),
    ]
    page.charts = [
        Markup(
            charts.grouped_bars(
                "Offered, accepted and abandoned per 15-minute interval",
                labels,
                {
                    "offered": [f.offered for f in per],
                    "accepted": [f.accepted for f in per],
                    "abandoned": [f.abandoned for f in per],
                },
                "interactions",
            )
        ),
        Markup(
            charts.line_against_target(
                "Service level per 15-minute interval",
                labels,
                [None if f.service_level is None else 100 * f.service_level for f in per],
                target,
                "% in threshold",
            )
        ),
    ]
    days = [_queue_row([day, queue], f) for (day, queue), f in sorted(data.queue_by_day.items())] + [
        _queue_row([day, "all queues"], data.queue_total(day)) for day in data.days
    ]
    page.tables = [
        HtmlTable(
            "Per day and queue",
            ["day", "queue", *_QUEUE_HEADERS],
            sorted(days, key=lambda r: (r[0], r[1] == "all queues", r[1])),
            _queue_row(["all days", "all queues"], total),
            labels=2,
        ),
        HtmlTable(
            "Per 15-minute interval, all queues",
            ["day", "interval", *_QUEUE_HEADERS],
            [
                _queue_row([i.day, label], f)
                for i, label, f in zip(data.intervals, interval_labels(data.intervals), per, strict=True)
            ],
            labels=2,
        ),
    ]
    return page


def _agent_row(a: AgentFigures, with_id: bool) -> list[str]:
    return [
        a.name,
        *([a.employee_id] if with_id else []),
        count(a.handled),
        seconds(a.aht),
        duration(a.engage_time),
        duration(a.hold_time),
        duration(a.wrap_time),
        percent(a.occupancy),
        duration(a.logged_in),
        duration(a.ready),
        duration(a.not_ready),
    ]


_AGENT_HEADERS = [
    "handled",
    "AHT",
    "talk",
    "hold",
    "ACW",
    "occupancy",
    "logged in",
    "ready",
    "not ready",
]


def agent_summary(data: ReportData, options: ReportOptions) -> Page:
    handled = sum(a.handled for a in data.agents)
    handle_time = sum(a.handle_time for a in data.agents)
    page = Page(
        "agent-summary.html",
        "Agent summary",
        f"{len(data.agents)} agents, {count(handled)} handled, AHT "
        f"{seconds(handle_time / handled if handled else None)}",
    )
    page.definitions = [
        (
            "Handled",
            "received interactions the agent answered (AG2_I_AGENT ACCEPTED), counted in the interval "
            "the ringing ended.",
        ),
        (
            "AHT",
            "average handle time: (talk + hold + ACW) / handled, from ENGAGE_TIME, HOLD_TIME and WRAP_TIME "
            "of AG2_I_AGENT (every handling of the agent, consultations included).",
        ),
        (
            "Talk, hold, ACW",
            "seconds, time-sliced into the intervals they fall in (ENGAGE_TIME, HOLD_TIME, WRAP_TIME).",
        ),
        (
            "Occupancy",
            "(busy + after-call-work state time) / (ready + busy + after-call-work state time), from "
            "AG2_I_SESS_STATE: the share of the time available to take interactions spent on them.",
        ),
        ("Logged in, ready, not ready", "AG2_I_SESS_STATE ACTIVE_TIME, READY_TIME, NOT_READY_TIME."),
        (
            "Groups",
            "an agent in several groups counts in each (AG2_*_GRP views); '(no group)' gathers agents "
            "in none.",
        ),
    ]
    agents = data.agents
    page.charts = [
        Markup(
            charts.stacked_barh(
                "Average handle time per agent: talk + hold + ACW per handled interaction",
                [a.name for a in agents],
                {
                    component: [getattr(a, attr) / a.handled if a.handled else 0 for a in agents]
                    for component, attr in (
                        ("talk", "engage_time"),
                        ("hold", "hold_time"),
                        ("ACW", "wrap_time"),
                    )
                },
                "seconds per handled interaction",
            )
        )
    ]
    page.tables = [
        HtmlTable(
            "Per agent",
            ["agent", "employee id", *_AGENT_HEADERS],
            [_agent_row(a, True) for a in agents],
            labels=2,
        ),
        HtmlTable("Per group", ["group", *_AGENT_HEADERS], [_agent_row(g, False) for g in data.groups]),
    ]
    return page


def abandon_delay(data: ReportData, options: ReportOptions) -> Page:
    th = options.thresholds
    total = sum(b.count for b in data.abandon_buckets)
    page = Page(
        "abandon-delay.html", "Abandon delay", f"{count(total)} abandoned while queued, by time waited"
    )
    page.definitions = [
        (
            "Abandoned",
            "interactions whose customer left while queued (AG2_QUEUE_ABN ABANDONED), by the seconds "
            "they waited in the queue, counted in the interval they entered it.",
        ),
        (
            "Buckets",
            "TIME_RANGE (QUEUE-ABN): bucket n holds waits from its start (inclusive) to its end "
            "(exclusive), from the tenant's aggregates.abandon_time_ranges; now "
            f"{list(th.abandon_bounds)} s.",
        ),
        (
            "Short / standard",
            f"abandoned before {th.short_abandon_seconds} s (aggregates.short_abandon_seconds) / "
            "at or after it (ABANDONED_SHORT, ABANDONED_STANDARD).",
        ),
        (
            "Within threshold",
            f"abandoned within the service-level threshold ({_threshold_text(th)}): ABANDONED_THR.",
        ),
    ]
    labels = [b.label for b in data.abandon_buckets]
    page.charts = [
        Markup(
            charts.bars(
                "Abandoned by time waited in queue",
                labels,
                [b.count for b in data.abandon_buckets],
                "abandoned",
                charts.COLOURS["abandoned"],
            )
        )
    ]
    page.tables = [
        HtmlTable(
            "Per bucket, all queues",
            ["waited", "abandoned", "share"],
            [
                [b.label, count(b.count), percent(b.count / total if total else None)]
                for b in data.abandon_buckets
            ],
            ["all", count(total), percent(1.0 if total else None)],
        ),
        HtmlTable(
            "Per queue",
            ["queue", "abandoned", "short", "standard", "within threshold", "average wait"],
            [
                [
                    a.queue,
                    count(a.abandoned),
                    count(a.short),
                    count(a.standard),
                    count(a.within_threshold),
                    seconds(a.average_wait),
                ]
                for a in data.abandons
            ],
        ),
    ]
    return page


def _reason_rows(rows: Sequence[ReasonFigures], who: bool) -> list[list[str]]:
    return [[*([r.who] if who else []), r.state, r.reason, count(r.count), duration(r.seconds)] for r in rows]


def not_ready_reasons(data: ReportData, options: ReportOptions) -> Page:
    total = sum(r.seconds for r in data.reasons)
    page = Page(
        "not-ready-reasons.html",
        "Not-ready reasons",
        f"{duration(total)} in states with a reason code, "
        f"{len({r.reason for r in data.reasons})} reason codes",
    )
    page.definitions = [
        (
            "Time",
            "seconds an agent spent in a state with that reason code (AG2_I_STATE_RSN STATE_RSN_TIME), "
            "time-sliced into the intervals it falls in.",
        ),
        ("Count", "states with that reason begun in the range (STATE_RSN)."),
        (
            "Reason code",
            "the software reason value of RESOURCE_STATE_REASON (the hardware reason where there is none).",
        ),
        ("Groups", "an agent in several groups counts in each (AG2_I_STATE_RSN_GRP)."),
    ]
    agents = sorted({r.who for r in data.reasons_by_agent})
    reasons = sorted({r.reason for r in data.reasons_by_agent})
    by = {(r.who, r.reason): r.seconds / 60 for r in data.reasons_by_agent}
    page.charts = [
        Markup(
            charts.stacked_barh(
                "Minutes per reason code and agent",
                agents,
                {reason: [by.get((a, reason), 0.0) for a in agents] for reason in reasons},
                "minutes",
            )
        )
    ]
    headers = ["state", "reason", "count", "time"]
    page.tables = [
        HtmlTable("Per reason code", headers, _reason_rows(data.reasons, False), labels=2),
        HtmlTable("Per agent", ["agent", *headers], _reason_rows(data.reasons_by_agent, True), labels=3),
        HtmlTable("Per group", ["group", *headers], _reason_rows(data.reasons_by_group, True), labels=3),
    ]
    return page


def volume(data: ReportData, options: ReportOptions) -> Page:
    total = sum(data.volume.values())
    page = Page(
        "volume.html",
        "Volume",
        f"{count(total)} interactions entered a queue ({', '.join(data.media) or 'no media'})",
    )
    page.definitions = [
        (
            "Interactions",
            "queue stays begun (AG2_QUEUE ENTERED) per media, in the interval the interaction "
            "entered the queue; an interaction queued twice counts twice.",
        ),
        (
            "Heat map",
            f"the same, per local weekday and hour ({data.time_zone}), summed over every week in the "
            "range (AG2_QUEUE_HOUR).",
        ),
    ]
    labels = _chart_labels(data)
    page.charts = [
        Markup(
            charts.grouped_bars(
                "Interactions per 15-minute interval and media",
                labels,
                {m: [data.volume.get((i.key, m), 0) for i in data.intervals] for m in data.media},
                "interactions",
            )
        ),
        Markup(
            charts.heat_map(
                "Interactions per weekday and hour",
                list(WEEKDAYS),
                [f"{h:02d}" for h in range(24)],
                [[data.week.get((d, h), 0) for h in range(24)] for d in range(1, 8)],
            )
        ),
    ]
    page.tables = [
        HtmlTable(
            "Per 15-minute interval and media",
            ["day", "interval", *data.media, "all media"],
            [
                [
                    i.day,
                    label,
                    *(count(data.volume.get((i.key, m), 0)) for m in data.media),
                    count(sum(data.volume.get((i.key, m), 0) for m in data.media)),
                ]
                for i, label in zip(data.intervals, interval_labels(data.intervals), strict=True)
            ],
            labels=2,
            total=[
                "all",
                "",
                *(count(sum(v for (_k, m), v in data.volume.items() if m == media)) for media in data.media),
                count(total),
            ],
        )
    ]
    return page


PAGES = (queue_summary, agent_summary, abandon_delay, not_ready_reasons, volume)

_ENV = jinja2.Environment(
    loader=jinja2.DictLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def render(data: ReportData, options: ReportOptions, out_dir: Path) -> Path:
    """Write every page and the index into ``out_dir``; return the index's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = [build(data, options) for build in PAGES]
    context = {
        "tenant": options.tenant,
        "first": data.first.isoformat(),
        "last": data.last.isoformat(),
        "time_zone": data.time_zone,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "pages": pages,
    }
    for page in pages:
        html = _ENV.get_template("page.html").render(page=page, current=page.file, **context)
        (out_dir / page.file).write_text(html, encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(
        _ENV.get_template("index.html").render(current="index.html", **context), encoding="utf-8"
    )
    return index
