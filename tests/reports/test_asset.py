"""The ``infomart_reports`` asset: one materialization per tenant writes the pages of the tenant's last
``reports.days`` local days and links the index in its metadata; the schedule asks for every tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagster import build_schedule_context, materialize

from gim_dagster.assets import reports as report_assets
from gim_dagster.resources import PostgresResource
from gim_dagster.settings import load_settings
from tests.reports.conftest import TENANT, Mart, write_settings


def test_the_asset_writes_the_pages_and_links_the_index(mart: Mart, tmp_path: Path) -> None:
    settings_file = write_settings(tmp_path / "gim.yaml", mart.url, tmp_path / "reports", days=2)
    settings = load_settings(settings_file)
    defs = report_assets.definitions(settings)
    result = materialize(
        list(defs.assets or []),  # type: ignore[arg-type]
        partition_key=TENANT,
        resources={"postgres": PostgresResource(settings_file=str(settings_file))},
        run_config={"ops": {report_assets.REPORTS: {"config": {"last_day": mart.last.isoformat()}}}},
    )
    assert result.success
    metadata = result.asset_materializations_for_node(report_assets.REPORTS)[0].metadata
    index = Path(metadata["index"].value)  # type: ignore[arg-type]
    first = mart.last - timedelta(days=1)  # reports.days: 2
    assert index == tmp_path / "reports" / TENANT / f"{first}_{mart.last}" / "index.html"
    assert metadata["open"].value == index.as_uri()
    assert {p.name for p in index.parent.iterdir()} == {
        "index.html",
        "queue-summary.html",
        "agent-summary.html",
        "abandon-delay.html",
        "not-ready-reasons.html",
        "volume.html",
    }
    assert "Sales" in (index.parent / "queue-summary.html").read_text(encoding="utf-8")

    (schedule,) = defs.schedules or []
    context = build_schedule_context(scheduled_execution_time=datetime(2026, 1, 6, 3, 45, tzinfo=UTC))
    requests = list(schedule(context))  # type: ignore[operator]
    assert [r.partition_key for r in requests] == [TENANT]
