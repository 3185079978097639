"""Interval aggregates on a real PostgreSQL: time slicing, rollups in the tenant's zone, incremental runs."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from gim_dagster.core.facts import static_keys as K
from gim_dagster.core.infomart import aggregates
from gim_dagster.core.infomart.aggregates import aggregate, read_hwm
from gim_dagster.core.infomart.partitions import day_key
from gim_dagster.core.infomart.schema import migrate
from gim_dagster.core.infomart.tables import AGGREGATE_TABLES

from .conftest import DATE_TIME_RANGE, TODAY, Feed, irf_row, snapshot

AGENT = 7
DAY = TODAY - timedelta(days=2)
T10 = day_key(DAY) + 10 * 3600  # 10:00 UTC of DAY
M = 60


def irf(
    i: int, start: int, *, ring: int = 0, talk: int = 0, hold: int = 0, acw: int = 0, **overrides: Any
) -> tuple[str, list[dict[str, Any]]]:
    end = start + ring + talk + hold
    row = irf_row(
        i,
        start_date_time_key=start - start % 900,
        end_date_time_key=end - end % 900,
        start_ts=start,
        end_ts=end,
        resource_key=AGENT,
        resource_group_combination_key=K.NO_GROUP_COMBINATION_KEY,
        ring_count=int(ring > 0),
        ring_duration=ring,
        talk_count=int(talk > 0),
        talk_duration=talk,
        hold_count=int(hold > 0),
        hold_duration=hold,
        after_call_work_count=int(acw > 0),
        after_call_work_duration=acw,
    )
    row.update(overrides)
    return "interaction_resource_fact", [row]


def sm(table: str, key: int, start: int, end: int, **extra: Any) -> tuple[str, list[dict[str, Any]]]:
    row = {
        f"{table}_key": key,
        "start_date_time_key": start - start % 900,
        "end_date_time_key": end - end % 900,
        "tenant_key": K.TENANT_KEY,
        "start_ts": start,
        "end_ts": end,
        "media_type_key": K.MEDIA_VOICE.key,
        "resource_key": AGENT,
        "resource_group_combination_key": K.NO_GROUP_COMBINATION_KEY,
        "total_duration": end - start,
        "active_flag": 0,
        **extra,
    }
    return table, [row]


def measures(engine: sa.Engine, table: str, **where: int) -> dict[int, dict[str, int]]:
    """Non-zero measures of the agent's rows of ``table`` per DATE_TIME_KEY (rows summed over other keys)."""
    tbl = next(t for t in AGGREGATE_TABLES if t.name == table)
    pk = {c.name for c in tbl.primary_key.columns}
    names = [c.name for c in tbl.columns if c.name not in pk and not c.name.endswith("audit_key")]
    filters = " ".join(f"AND {k} = {int(v)}" for k, v in where.items())
    sql = (
        f"SELECT date_time_key, {', '.join(f'sum({n})' for n in names)} FROM {table} "
        f"WHERE resource_key = {AGENT} {filters} GROUP BY date_time_key"
    )
    with engine.connect() as conn:
        return {
            row[0]: {n: v for n, v in zip(names, row[1:], strict=True) if v}
            for row in conn.execute(sa.text(sql))
        }


def read_hwm_of(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return read_hwm(conn)


def audit_keys(engine: sa.Engine, table: str) -> dict[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT date_time_key, max(update_audit_key) FROM {table} GROUP BY 1"))
        return {key: audit_key for key, audit_key in rows}


def aggregates_snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    return {t.name: snapshot(engine, t.name) for t in AGGREGATE_TABLES} | {
        "hwm": snapshot(engine, "gim_agg_hwm")
    }


# A call: rings across 10:15, talk and hold in 10:15-10:30, its ACW across 10:30.
CALL = irf(1, T10 + 14 * M + 50, ring=20, talk=600, hold=60, acw=300)
# A login session 10:05-11:05: ready, not ready 30 minutes (with a reason), busy.
SESSION = [
    sm("sm_res_session_fact", 100, T10 + 5 * M, T10 + 65 * M),
    sm("sm_res_state_fact", 101, T10 + 5 * M, T10 + 20 * M, resource_state_key=K.STATE_READY.key),
    sm("sm_res_state_fact", 102, T10 + 20 * M, T10 + 50 * M, resource_state_key=K.STATE_NOTREADY.key),
    sm(
        "sm_res_state_reason_fact",
        103,
        T10 + 20 * M,
        T10 + 50 * M,
        resource_state_key=K.STATE_NOTREADY.key,
        resource_state_reason_key=K.UNKNOWN_KEY,
    ),
    sm("sm_res_state_fact", 104, T10 + 50 * M, T10 + 65 * M, resource_state_key=K.STATE_BUSY.key),
]


def test_call_is_sliced_into_its_intervals_and_rolled_up(engine: sa.Engine, feed: Feed) -> None:
    unanswered = irf(2, T10 + 40 * M, ring=15, technical_descriptor_key=K.TD_REDIRECTED.key)
    no_agent = irf(3, T10 + 40 * M, ring=5, talk=50, resource_key=K.UNKNOWN_KEY)
    feed.load(CALL, unanswered, no_agent)
    result = aggregate(engine)
    assert result.intervals == 3 and result.hwm_from == 0 and result.hwm_to == read_hwm_of(engine)
    assert measures(engine, "agt_i_agent_subhr") == {
        T10: {"offered": 1, "invite": 1, "invite_time": 10},
        T10 + 15 * M: {
            "invite_time": 10,
            "accepted": 1,
            "engage": 1,
            "engage_time": 600,
            "hold": 1,
            "hold_time": 60,
            "wrap": 1,
            "wrap_time": 230,
        },
        T10 + 30 * M: {"wrap_time": 70, "offered": 1, "invite": 1, "invite_time": 15},
    }
    hour = {
        "offered": 2,
        "accepted": 1,
        "invite": 2,
        "invite_time": 35,
        "engage": 1,
        "engage_time": 600,
        "hold": 1,
        "hold_time": 60,
        "wrap": 1,
        "wrap_time": 300,
    }
    assert measures(engine, "agt_i_agent_hour") == {T10: hour}
    assert measures(engine, "agt_i_agent_day") == {day_key(DAY): hour}


def test_session_states_and_reasons_are_sliced(engine: sa.Engine, feed: Feed) -> None:
    feed.load(*SESSION)
    aggregate(engine)
    assert measures(engine, "agt_i_sess_state_subhr") == {
        T10: {"active_time": 600, "ready": 1, "ready_time": 600},
        T10 + 15 * M: {"active_time": 900, "ready_time": 300, "not_ready": 1, "not_ready_time": 600},
        T10 + 30 * M: {"active_time": 900, "not_ready_time": 900},
        T10 + 45 * M: {"active_time": 900, "not_ready_time": 300, "busy": 1, "busy_time": 600},
        T10 + 60 * M: {"active_time": 300, "busy_time": 300},
    }
    assert measures(engine, "agt_i_sess_state_hour") == {
        T10: {
            "active_time": 3300,
            "ready": 1,
            "ready_time": 900,
            "not_ready": 1,
            "not_ready_time": 1800,
            "busy": 1,
            "busy_time": 600,
        },
        T10 + 60 * M: {"active_time": 300, "busy_time": 300},
    }
    reason = {"resource_state_reason_key": K.UNKNOWN_KEY, "resource_state_key": K.STATE_NOTREADY.key}
    assert measures(engine, "agt_i_state_rsn_subhr", **reason) == {
        T10 + 15 * M: {"state_rsn": 1, "state_rsn_time": 600},
        T10 + 30 * M: {"state_rsn_time": 900},
        T10 + 45 * M: {"state_rsn_time": 300},
    }
    assert measures(engine, "agt_i_state_rsn_day", **reason) == {
        day_key(DAY): {"state_rsn": 1, "state_rsn_time": 1800}
    }


def test_rerun_is_a_no_op(engine: sa.Engine, feed: Feed) -> None:
    feed.load(CALL, *SESSION)
    first = aggregate(engine)
    before = aggregates_snapshot(engine)
    again = aggregate(engine)
    assert (again.hwm_from, again.hwm_to, again.intervals, again.rows) == (first.hwm_to, first.hwm_to, 0, {})
    assert aggregates_snapshot(engine) == before


def test_late_update_reaggregates_only_its_intervals(engine: sa.Engine, feed: Feed) -> None:
    feed.load(CALL, *SESSION)
    first = aggregate(engine)
    # The call's ACW grows to 10 minutes (the same fact re-emitted), and a late call arrives at 14:00.
    feed.load(irf(1, T10 + 14 * M + 50, ring=20, talk=600, hold=60, acw=600), irf(4, T10 + 4 * 3600, talk=30))
    second = aggregate(engine)
    assert second.hwm_from == first.hwm_to < second.hwm_to
    assert second.intervals == 4  # 10:00, 10:15, 10:30 (the call) and 14:00
    wrap = measures(engine, "agt_i_agent_subhr")
    assert wrap[T10 + 15 * M]["wrap_time"] == 230 and wrap[T10 + 30 * M]["wrap_time"] == 370
    assert measures(engine, "agt_i_agent_hour")[T10]["wrap_time"] == 600
    assert measures(engine, "agt_i_agent_day")[day_key(DAY)]["engage_time"] == 630
    # Session rows outside the touched intervals were not rewritten; those inside were, with equal values.
    keys = audit_keys(engine, "agt_i_sess_state_subhr")
    assert {k for k, ak in keys.items() if ak == second.hwm_to} == {T10, T10 + 15 * M, T10 + 30 * M}
    assert keys[T10 + 45 * M] == keys[T10 + 60 * M] == first.hwm_to
    assert measures(engine, "agt_i_sess_state_subhr")[T10 + 30 * M] == {
        "active_time": 900,
        "not_ready_time": 900,
    }


def test_killed_run_leaves_tables_and_hwm_as_before(
    engine: sa.Engine, feed: Feed, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed.load(CALL)
    aggregate(engine)
    feed.load(*SESSION)
    before = aggregates_snapshot(engine)
    rebuild = aggregates._rebuild_rollup
    calls = iter(range(100))

    def dies_midway(*args: Any) -> int:
        if next(calls) == 3:  # after the agent tables, in the middle of the session-state ones
            raise RuntimeError("killed")
        return rebuild(*args)

    monkeypatch.setattr(aggregates, "_rebuild_rollup", dies_midway)
    with pytest.raises(RuntimeError, match="killed"):
        aggregate(engine)
    assert aggregates_snapshot(engine) == before
    monkeypatch.setattr(aggregates, "_rebuild_rollup", rebuild)
    aggregate(engine)
    assert measures(engine, "agt_i_sess_state_hour")[T10]["active_time"] == 3300


@pytest.fixture()
def kolkata(fresh_db_url: str) -> Iterator[sa.Engine]:
    """An Info Mart whose DATE_TIME is in Asia/Kolkata (UTC+05:30: local hours start at :30 UTC)."""
    migrate(fresh_db_url, date_time_range=DATE_TIME_RANGE, time_zone="Asia/Kolkata")
    eng = sa.create_engine(fresh_db_url)
    try:
        yield eng
    finally:
        eng.dispose()


def test_hours_and_days_are_the_tenants(kolkata: sa.Engine) -> None:
    Feed(kolkata).load(irf(1, T10 + 25 * M, talk=600))  # 15:55-16:05 local
    aggregate(kolkata)
    assert measures(kolkata, "agt_i_agent_subhr") == {
        T10 + 15 * M: {"offered": 1, "accepted": 1, "engage": 1, "engage_time": 300},
        T10 + 30 * M: {"engage_time": 300},
    }
    hours = measures(kolkata, "agt_i_agent_hour")
    assert {k: v["engage_time"] for k, v in hours.items()} == {T10 - 30 * M: 300, T10 + 30 * M: 300}
    local_midnight = day_key(DAY) - 330 * M
    assert measures(kolkata, "agt_i_agent_day") == {
        local_midnight: {"offered": 1, "accepted": 1, "engage": 1, "engage_time": 600}
    }


def test_concurrent_runs_aggregate_each_key_once(engine: sa.Engine, feed: Feed) -> None:
    feed.load(CALL, *SESSION)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: aggregate(engine), range(2)))
    assert sorted(r.intervals for r in results) == [0, 5]  # the second waits, then finds nothing new
    assert measures(engine, "agt_i_sess_state_hour")[T10]["active_time"] == 3300
    assert measures(engine, "agt_i_agent_hour")[T10]["engage_time"] == 600
