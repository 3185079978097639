"""The standard contact-centre reports (queue summary, agent summary, abandon delay, not-ready reasons,
volume) as static HTML pages, from the Info Mart's RAA views. Dagster-free: ``gim report``, the
``infomart_reports`` asset and ``gim demo`` call ``write_reports``. See docs/reports.md."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from gim_dagster.core.reports.pages import ReportOptions, render
from gim_dagster.core.reports.queries import ReportData, fetch

__all__ = ["ReportData", "ReportOptions", "write_reports"]


def write_reports(engine: sa.Engine, out_dir: Path, first: date, last: date, options: ReportOptions) -> Path:
    """Read local days ``first`` to ``last`` (inclusive) and write the pages and index into ``out_dir``;
    return the index's path."""
    with engine.connect() as conn:
        data = fetch(conn, first, last)
    return render(data, options, out_dir)
