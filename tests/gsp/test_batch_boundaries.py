"""Property: wherever a stream is cut into micro-batches, the facts and dead letters are a single run's.

Each batch is processed the way ``run_microbatch`` processes a read against a broker that already holds the
whole stream (the demo, or any backlog): a partition counts as read to its end (``at_eof``) only when the
batch took its last record, and every batch passes a clock far past the traffic, so a partition read to its
end is flushed at once (``idle_flush_seconds: 0``, the demo's setting). Timestamps are optionally floored
to whole seconds, so that many events tie in ``ts`` with the newest event of their partition, also at a cut.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gim_dagster.core.gsp import GspConfig, GspState, Processor
from gim_dagster.core.gsp.state import dumps, loads
from gim_dagster.core.kafka_io import TP, Record
from gim_dagster.core.sim import Roster
from tests.gsp.helpers import FAR_FUTURE_MS, as_records, final_facts, resolver_for, simulated
from tests.gsp.test_chunking import spread

TENANT = "cuts"
RESOLVER = resolver_for(Roster.synthetic(12, seed=1))
CONFIGS = {
    "default": GspConfig(idle_flush_ms=0),
    "short": GspConfig(
        allowed_lateness_ms=5_000,
        dedup_window_ms=10_000,
        interaction_timeout_ms=1_800_000,
        closed_retention_ms=60_000,
        acw_grace_ms=30_000,
        idle_flush_ms=0,
    ),
}
"""The defaults, and times short enough that lateness, de-duplication, time-outs, retention and the wait for
after-call work all act many times within the simulated window, on both sides of cuts."""
SIM = simulated(TENANT, hours=1.5)


def _floor_ts(rec: Record) -> Record:
    """The record with its event time floored to the second (a malformed value is left as it is)."""
    try:
        doc = json.loads(rec.value or b"")
        doc["ts"] -= doc["ts"] % 1000
    except (ValueError, TypeError, KeyError):
        return rec
    value = json.dumps(doc, separators=(",", ":")).encode()
    return Record(rec.topic, rec.partition, rec.offset, rec.key, value, rec.timestamp_ms)


STREAMS = {
    False: spread(as_records(TENANT, SIM), 2),
    True: spread([_floor_ts(r) for r in as_records(TENANT, SIM)], 2),
}
"""Two partitions per raw topic; with ``True``, event times floored to the second."""


def run(
    records: list[Record], cuts: list[int], config: str = "default"
) -> tuple[dict[str, Any], list[tuple[TP, int, str]]]:
    """Final facts and dead letters of ``records`` processed in batches ending at ``cuts``."""
    last = {(r.topic, r.partition): i for i, r in enumerate(records)}
    state, facts, dead = GspState(TENANT), [], []
    bounds = [0, *sorted(set(cuts)), len(records)]
    for start, end in itertools.pairwise(bounds):
        state = loads(dumps(state))  # every batch starts from a checkpoint
        at_eof = {tp: i < end for tp, i in last.items()}
        out = Processor(state, CONFIGS[config], RESOLVER).process(
            records[start:end], now_ms=FAR_FUTURE_MS, partitions=last, at_eof=at_eof
        )
        facts += out.facts
        dead += [((d.topic, d.partition), d.offset, d.reason) for d in out.dead_letters]
    return final_facts(facts), sorted(dead)


SINGLE = {(ties, config): run(records, [], config) for ties, records in STREAMS.items() for config in CONFIGS}


def test_the_single_runs_see_ties_and_rejects() -> None:
    """The property below is only worth something if the streams carry what makes cuts hard."""
    for (_ties, config), (facts, dead) in SINGLE.items():
        assert len(facts["interaction_resource_fact"]) > 50
        reasons = {reason.split(":")[0] for _tp, _offset, reason in dead}
        assert reasons >= ({"malformed"} if config == "default" else {"malformed", "too late"}), config


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ties=st.booleans(), config=st.sampled_from(sorted(CONFIGS)), data=st.data())
def test_any_cut_into_micro_batches_gives_the_single_runs_facts(
    ties: bool, config: str, data: st.DataObject
) -> None:
    records = STREAMS[ties]
    cuts = data.draw(st.lists(st.integers(1, len(records) - 1), min_size=1, max_size=12), label="cuts")
    assert run(records, cuts, config) == SINGLE[ties, config]


def test_a_cut_right_before_an_event_that_ties_the_newest_keeps_it() -> None:
    """The defect the property found first: a batch cut by the record bound was idle-flushed (its frontier
    moved past its newest event), so the next batch's first event, tied in ts with it, was too late."""
    records = STREAMS[True]
    newest: dict[TP, int] = {}
    cuts = []
    for i, rec in enumerate(records):
        tp, ts = (rec.topic, rec.partition), _ts(rec)
        if ts is not None and ts == newest.get(tp) and rec.topic.endswith(".voice.events"):
            cuts.append(i)
        if ts is not None:
            newest[tp] = max(ts, newest.get(tp, ts))
    assert len(cuts) > 10
    for cut in cuts[:: len(cuts) // 5][:5]:
        assert run(records, [cut]) == SINGLE[True, "default"], cut


def _ts(rec: Record) -> int | None:
    try:
        return int(json.loads(rec.value or b"")["ts"])
    except (ValueError, TypeError, KeyError):
        return None
