"""Queue aggregates (AGT_QUEUE_*, AGT_QUEUE_ABN_*, AGT_QUEUE_ACC_AGENT_*) on a real PostgreSQL: outcomes,
service level per queue, time-range buckets, re-aggregation when a handling changes, the group views."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gim_dagster.core.facts import static_keys as K
from gim_dagster.core.infomart.aggregates import (
    DEFAULT_TIME_RANGE_BOUNDS,
    Thresholds,
    aggregate,
    check_totals,
    purge,
    time_range_key,
)
from gim_dagster.core.infomart.tables import AGGREGATE_TABLES

from .conftest import Feed, irf_row
from .test_aggregates import AGENT, T10

QUEUE, QUEUE_NAME = 40, "sales"
M = 60


def measures(engine: sa.Engine, table: str) -> dict[int, dict[str, int]]:
    """Every measure of the queue's rows of ``table`` per DATE_TIME_KEY (rows summed over other keys)."""
    tbl = next(t for t in AGGREGATE_TABLES if t.name == table)
    pk = {c.name for c in tbl.primary_key.columns}
    names = [c.name for c in tbl.columns if c.name not in pk and not c.name.endswith("audit_key")]
    totals = ", ".join(f"{'max' if n.endswith('_max') else 'sum'}({n})" for n in names)
    sql = f"SELECT date_time_key, {totals} FROM {table} WHERE resource_key = {QUEUE} GROUP BY date_time_key"
    with engine.connect() as conn:
        return {row[0]: dict(zip(names, row[1:], strict=True)) for row in conn.execute(sa.text(sql))}


def stay(msf_id: int, start: int, waited: int, td: K.TechnicalDescriptor, target: int | None = None) -> dict:
    end = start + waited
    return {
        "mediation_segment_id": msf_id,
        "start_date_time_key": start - start % 900,
        "end_date_time_key": end - end % 900,
        "tenant_key": K.TENANT_KEY,
        "start_ts": start,
        "end_ts": end,
        "active_flag": 0,
        "interaction_id": 500 + msf_id,
        "media_type_key": K.MEDIA_VOICE.key,
        "interaction_type_key": K.INBOUND.key,
        "resource_key": QUEUE,
        "resource_group_combination_key": K.NO_GROUP_COMBINATION_KEY,
        "technical_descriptor_key": td.key,
        "target_ixn_resource_id": target,
        "mediation_duration": waited,
    }


def handling(i: int, msf_id: int, start: int, *, ring: int, talk: int, acw: int = 0, **over: Any) -> dict:
    end = start + ring + talk
    row = irf_row(
        i,
        start_date_time_key=start - start % 900,
        end_date_time_key=end - end % 900,
        start_ts=start,
        end_ts=end,
        interaction_id=500 + msf_id,
        resource_key=AGENT,
        resource_group_combination_key=K.NO_GROUP_COMBINATION_KEY,
        mediation_segment_id=msf_id,
        ring_count=1,
        ring_duration=ring,
        talk_count=1,
        talk_duration=talk,
        after_call_work_count=int(acw > 0),
        after_call_work_duration=acw,
    )
    row.update(over)
    return row


def three_stays(acw: int = 10) -> list[tuple[str, list[dict[str, Any]]]]:
    """At 10:00: one accepted after 30 s queued + 5 s ringing; abandoned after 8 s and after 40 s."""
    return [
        (
            "mediation_segment_fact",
            [
                stay(1, T10, 30, K.TD_DIVERTED, target=101),
                stay(2, T10 + 60, 8, K.TD_ABANDONED_WHILE_QUEUED),
                stay(3, T10 + 120, 40, K.TD_ABANDONED_WHILE_QUEUED),
            ],
        ),
        ("interaction_resource_fact", [handling(101, 1, T10 + 30, ring=5, talk=4 * M, acw=acw)]),
    ]


def add_queue_resource(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO resource_ (resource_key, tenant_key, resource_type, resource_type_code, "
                "resource_name, start_ts, create_audit_key, update_audit_key) "
                "VALUES (:k, :t, 'Queue', 'QUEUE', :n, 0, 0, 0)"
            ),
            {"k": QUEUE, "t": K.TENANT_KEY, "n": QUEUE_NAME},
        )


def test_queue_outcomes_service_level_and_handling(engine: sa.Engine, feed: Feed) -> None:
    feed.load(*three_stays())
    aggregate(engine, thresholds=Thresholds(service_level_seconds=20, short_abandon_seconds=10))
    row = measures(engine, "agt_queue_subhr")[T10]
    expected = {
        "entered": 3,
        "abandoned": 2,
        "abandoned_time": 48,
        "abandoned_short": 1,
        "abandoned_standard": 1,
        "abandoned_thr": 1,
        "distributed": 1,
        "distributed_time": 30,
        "accepted": 1,
        "accepted_time": 35,
        "accepted_time_max": 35,
        "accepted_thr": 0,
        "accepted_agent": 1,
        "accepted_agent_time": 35,
        "accepted_agent_thr": 0,
        "invite": 1,
        "invite_time": 5,
        "engage": 1,
        "engage_time": 240,
        "wrap": 1,
        "wrap_time": 10,
        "redirected": 0,
        "cleared": 0,
    }
    assert {k: row[k] for k in expected} == expected
    for level in ("hour", "day", "month"):
        rolled = next(iter(measures(engine, f"agt_queue_{level}").values()))
        assert {k: rolled[k] for k in expected} == expected, level
    assert check_totals(engine.connect()) == []


def test_time_range_buckets_are_the_settings(engine: sa.Engine, feed: Feed) -> None:
    feed.load(*three_stays())
    aggregate(engine)
    abn = measures(engine, "agt_queue_abn_subhr")[T10]
    # default bounds 5, 10, 15, 20, 25, 30, 40, 50 ...: 8 s is bucket 2, 40 s bucket 8
    assert abn["abandoned"] == 2
    assert {n for n in range(1, 21) if abn[f"abandoned_sti_{n}"]} == {2, 8}
    acc = measures(engine, "agt_queue_acc_agent_subhr")[T10]
    assert acc["accepted_agent"] == 1 and acc["accepted_agent_sti_7"] == 1  # 35 s: [30, 40)
    with engine.connect() as conn:
        keys = (
            conn.execute(sa.text("SELECT DISTINCT time_range_key FROM agt_queue_abn_subhr")).scalars().all()
        )
        buckets = conn.execute(
            sa.text(
                "SELECT bucket_num, range_start, range_end FROM time_range WHERE time_range_key = :k "
                "ORDER BY bucket_num"
            ),
            {"k": keys[0]},
        ).all()
    assert keys == [time_range_key("QUEUE-ABN", DEFAULT_TIME_RANGE_BOUNDS)]
    assert buckets[1] == (2, 5, 10) and buckets[-1] == (20, DEFAULT_TIME_RANGE_BOUNDS[-1], None)


def test_a_queues_own_threshold_overrides_the_tenants(engine: sa.Engine, feed: Feed) -> None:
    add_queue_resource(engine)
    feed.load(*three_stays())
    aggregate(
        engine, thresholds=Thresholds(service_level_seconds=20, queue_service_level_seconds={QUEUE_NAME: 40})
    )
    row = measures(engine, "agt_queue_subhr")[T10]
    assert (row["accepted_thr"], row["abandoned_thr"]) == (1, 2)


def test_a_changed_handling_reaggregates_the_interval_its_queue_stay_entered(
    engine: sa.Engine, feed: Feed
) -> None:
    feed.load(*three_stays(acw=0))
    aggregate(engine)
    assert measures(engine, "agt_queue_subhr")[T10]["wrap_time"] == 0
    # the agent's after-call work arrives later: only the IRF changes, the queue stay does not
    feed.load(("interaction_resource_fact", [handling(101, 1, T10 + 30, ring=5, talk=4 * M, acw=90)]))
    result = aggregate(engine)
    assert measures(engine, "agt_queue_subhr")[T10]["wrap_time"] == 90
    assert measures(engine, "agt_queue_day")
    assert result.rows["agt_queue_subhr"] == 1


def test_group_views_sum_the_agents_of_each_group(engine: sa.Engine, feed: Feed) -> None:
    feed.load(*three_stays())
    aggregate(engine)
    with engine.connect() as conn:
        by_group = conn.execute(
            sa.text("SELECT group_key, entered, accepted FROM ag2_queue_grp_subhr WHERE date_time_key = :k"),
            {"k": T10},
        ).all()
        agents = conn.execute(sa.text("SELECT sum(engage_time) FROM ag2_i_agent_grp_day")).scalar_one()
    assert by_group == [(K.UNKNOWN_KEY, 3, 1)]  # the "no group" combination's one member: group -1
    assert agents == 240


def test_purge_removes_the_periods_before_the_cutoff_and_keeps_a_straddling_month(
    engine: sa.Engine, feed: Feed
) -> None:
    feed.load(*three_stays())
    aggregate(engine)
    cutoff = T10 - T10 % 86_400 + 86_400  # 00:00 UTC of the day after the stays
    with engine.begin() as conn:
        deleted = purge(conn, cutoff)
        month_straddles = conn.execute(
            sa.text("SELECT date_time_month_key < :c FROM date_time WHERE date_time_key = :c"), {"c": cutoff}
        ).scalar_one()
    assert deleted["agt_queue_subhr"] == 1 and deleted["agt_queue_day"] == 1
    assert not measures(engine, "agt_queue_subhr") and not measures(engine, "agt_queue_day")
    assert bool(measures(engine, "agt_queue_month")) == month_straddles
    assert ("agt_queue_month" in deleted) != month_straddles
