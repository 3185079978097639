"""The reports' days are the tenant's local days, and the hour repeated the night the clocks go back shows
twice, told apart by its UTC offset (America/New_York, 1 November 2026: 01:00 EDT, then 01:00 EST)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from gim_dagster.core.facts import static_keys as K
from gim_dagster.core.infomart.schema import migrate
from gim_dagster.core.reports import write_reports
from gim_dagster.core.reports.pages import interval_labels
from gim_dagster.core.reports.queries import fetch
from tests.reports.conftest import OPTIONS
from tests.reports.helpers import page_tables


def _utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def test_local_days_and_the_repeated_hour(fresh_db_url: str, tmp_path: Path) -> None:
    migrate(
        fresh_db_url, date_time_range=(date(2026, 10, 30), date(2026, 11, 4)), time_zone="America/New_York"
    )
    entered = {
        _utc(2026, 11, 1, 3, 30): 1,  # 23:30 EDT on 31 October: another local day
        _utc(2026, 11, 1, 5, 0): 2,  # 01:00 EDT
        _utc(2026, 11, 1, 6, 0): 3,  # 01:00 EST, an hour later
        _utc(2026, 11, 2, 3, 0): 4,  # 22:00 EST, still 1 November
    }
    engine = sa.create_engine(fresh_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO agt_queue_subhr (date_time_key, tenant_key, media_type_key, resource_key, "
                    "interaction_type_key, resource_group_combination_key, entered, create_audit_key, "
                    "update_audit_key) VALUES (:k, 1, :media, -1, :type, -1, :n, 1, 1)"
                ),
                [
                    {"k": k, "n": n, "media": K.MEDIA_VOICE.key, "type": K.INBOUND.key}
                    for k, n in entered.items()
                ],
            )
        with engine.connect() as conn:
            data = fetch(conn, date(2026, 11, 1), date(2026, 11, 1))
        assert data.time_zone == "America/New_York"
        assert [i.key for i in data.intervals] == list(entered)[1:]
        assert interval_labels(data.intervals) == [
            "01:00-01:15 UTC-04:00",
            "01:00-01:15 UTC-05:00",
            "22:00-22:15",
        ]
        assert sum(data.volume.values()) == 9
        index = write_reports(engine, tmp_path, data.first, data.last, OPTIONS)
    finally:
        engine.dispose()
    rows = page_tables(index.parent / "volume.html")["Per 15-minute interval and media"]
    assert [r[:2] for r in rows[1:-1]] == [
        ["2026-11-01", "01:00-01:15 UTC-04:00"],
        ["2026-11-01", "01:00-01:15 UTC-05:00"],
        ["2026-11-01", "22:00-22:15"],
    ]
