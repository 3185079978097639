"""The standard contact-centre reports (queue summary, agent summary, abandon delay, not-ready reasons,
volume) as static HTML pages, from the Info Mart's RAA views. Dagster-free: ``gim report``, the
``infomart_reports`` asset and ``gim demo`` call ``write_reports``. See docs/reports.md."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from gim_dagster.core.reports.pages import ReportOptions, render
from gim_dagster.core.reports.queries import ReportData, fetch

__all__ = ["ReportData", "ReportOptions", "report_dir", "write_reports"]


def report_dir(base: Path, tenant: str, first: date, last: date) -> Path:
    """Where a tenant's reports of local days ``first`` to ``last`` go under ``base``."""
    return base / tenant / f"{first.isoformat()}_{last.isoformat()}"


def write_reports(engine: sa.Engine, out_dir: Path, first: date, last: date, options: ReportOptions) -> Path:
    """Read local days ``first`` to ``last`` (inclusive) and write the pages and index into ``out_dir``;
    return the index's path."""
    with engine.connect() as conn:
        data = fetch(conn, first, last)
    return render(data, options, out_dir)
