"""The change sensor requests a run per tenant only when its counter moved; the schedule reconciles all."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from dagster import RunRequest, SkipReason, build_schedule_context, build_sensor_context
from gca_helpers import GcaEnv

from gim_dagster.assets.gca import definitions
from gim_dagster.settings import load_settings


def test_sensor_requests_runs_only_for_moved_counters_and_schedule_reconciles(gca_env: GcaEnv) -> None:
    a, b = gca_env.tenants
    gca_env.seed(a, agents=3)
    defs = definitions(load_settings(gca_env.settings_file))
    (sensor,) = defs.sensors or []
    (schedule,) = defs.schedules or []
    resources = {"postgres": gca_env.postgres}

    def evaluate(cursor: str | None) -> tuple[list[RunRequest | SkipReason], str | None]:
        context = build_sensor_context(cursor=cursor, resources=resources)
        return list(sensor(context)), context.cursor

    requests, cursor = evaluate(None)
    assert [(r.partition_key, r.run_key, r.tags["gim/tenant-stage"]) for r in requests] == [
        (a, f"{a}:{requests[0].run_key.split(':')[1]}", f"{a}:gca")
    ]
    again, cursor = evaluate(cursor)
    assert len(again) == 1 and isinstance(again[0], SkipReason)

    gca_env.seed(b, agents=2)
    with gca_env.configdb(a).begin() as conn:
        conn.execute(
            sa.text("UPDATE cfg_skill SET name = name || '_x' WHERE dbid = (SELECT min(dbid) FROM cfg_skill)")
        )
    moved, _cursor = evaluate(cursor)
    assert sorted(r.partition_key for r in moved) == [a, b]

    assert schedule.cron_schedule == "15 */6 * * *"
    context = build_schedule_context(scheduled_execution_time=datetime(2026, 3, 1, 6, 15, tzinfo=UTC))
    runs = list(schedule(context))
    assert [r.partition_key for r in runs] == [a, b]
    assert all(r.run_config == {"ops": {"gca_snapshot": {"config": {"full_reconcile": True}}}} for r in runs)
