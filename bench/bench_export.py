"""Benchmark: Job_ExportGIM rows/s vs the DBA's peer, ``psql \\copy (SELECT …) TO`` plus ``zip``.

Run (creates and drops its own database on the server of the DSN)::

    .venv/bin/python bench/bench_export.py \
        [postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--rows 1000000]

``--rows`` INTERACTION_RESOURCE_FACT rows over seven days are inserted in one audited transaction of a freshly
migrated Info Mart, then exported twice, both timed end to end:

* **ours**: ``export_once`` to a local directory (every exported table, from one snapshot; zip with one CSV
  per table, per-CSV and zip SHA-1, metadata, atomic publish, HWM update);
* **peer**: ``psql -c "\\copy (<the same SELECT of the fact table>) TO 'irf.csv' WITH (FORMAT csv, HEADER)"``
  then ``zip -q irf.zip irf.csv`` (same deflate level 6), with no checksums and no other tables.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from gim_dagster.core.export.contract import ORIGIN, Mark
from gim_dagster.core.export.publish import LocalDestination
from gim_dagster.core.export.stream import export_once
from gim_dagster.core.export.writer import Source, relation_columns
from gim_dagster.core.infomart.audit import AuditStats, begin_audit, finish_audit
from gim_dagster.core.infomart.partitions import day_key, days_between, ensure_partitions
from gim_dagster.core.infomart.schema import migrate

DEFAULT_DSN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
IRF = "interaction_resource_fact"
DAYS = 7

FILL_SQL = f"""
INSERT INTO {IRF} (interaction_resource_id, start_date_time_key, end_date_time_key, tenant_key, start_ts,
    end_ts, interaction_id, media_type_key, interaction_type_key, resource_key, place_key,
    technical_descriptor_key,
    resource_group_combination_key, mediation_segment_id, media_server_ixn_guid, ring_count, ring_duration,
    talk_count, talk_duration, hold_count, hold_duration, after_call_work_count, after_call_work_duration,
    customer_talk_duration, irf_anchor, active_flag, create_audit_key, update_audit_key)
SELECT i, s - s % 900, (s + 400) - (s + 400) % 900, 1, s, s + 400, 5000000 + i / 2, 1 + i % 3, 1, 1 + i % 500,
    CASE WHEN i % 7 = 0 THEN NULL ELSE 1 + i % 300 END, 1 + i % 17, -1, CASE WHEN i % 2 = 0 THEN i END,
    CASE WHEN i % 9 = 0 THEN '' ELSE 'ixn-' || md5(i::text) END, 1, 5 + i % 20, 1, 30 + i % 600, i % 2,
    i % 40, 1, i % 90, 30 + i % 600, (i % 2)::smallint, 0, :ak, :ak
FROM (SELECT i, :first + (i * 37) % ({DAYS} * 86400) AS s FROM generate_series(1, :n) AS i) AS g
"""


def fill(engine: sa.Engine, rows: int) -> None:
    first = (datetime.now(UTC) - timedelta(days=DAYS + 1)).date()
    with engine.begin() as conn:
        ensure_partitions(conn, days_between(first, first + timedelta(days=DAYS + 1)), [IRF])
        key = begin_audit(conn, job_id=f"bench-{uuid.uuid4().hex[:8]}", job_name="bench")
        conn.execute(sa.text(FILL_SQL), {"ak": key, "first": day_key(first), "n": rows})
        finish_audit(conn, key, AuditStats(rows, day_key(first), day_key(first + timedelta(days=DAYS))))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"VACUUM ANALYZE {IRF}"))


def ours(engine: sa.Engine, out: Path) -> tuple[float, int]:
    export_once(engine, [LocalDestination(out / "seed")])  # the schema's own keys (dimensions) go first
    started = time.perf_counter()
    published = export_once(engine, [LocalDestination(out / "facts")])
    elapsed = time.perf_counter() - started
    assert published is not None
    return elapsed, published.rows[IRF]


def peer(engine: sa.Engine, url: sa.URL, out: Path, hwm_to: int) -> tuple[float, str]:
    with engine.connect() as conn:
        select = Source(IRF, IRF, relation_columns(conn, IRF)).select((ORIGIN, Mark(hwm_to, 0)))
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    out.mkdir()
    copy = f"\\copy ({select}) TO '{out / 'irf.csv'}' WITH (FORMAT csv, HEADER)"
    commands = [["psql", "-X", "-q", "-d", libpq, "-c", copy], ["zip", "-q", "irf.zip", "irf.csv"]]
    started = time.perf_counter()
    for argv in commands:
        subprocess.run(argv, check=True, cwd=out)
    elapsed = time.perf_counter() - started
    shown = f"psql -X -q -d {libpq} -c \"{copy[:60]}… TO 'irf.csv' WITH (FORMAT csv, HEADER)\""
    shown += " && zip -q irf.zip irf.csv"
    return elapsed, shown


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dsn", nargs="?", default=DEFAULT_DSN, help="server URL (maintenance database)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if not (shutil.which("psql") and shutil.which("zip")):
        print("psql and zip are needed for the peer", file=sys.stderr)
        return 2
    server = sa.make_url(args.dsn)
    name = f"bench_export_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name)
    engine = sa.create_engine(url)
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        migrate(engine)
        t0 = time.perf_counter()
        fill(engine, args.rows)
        print(f"filled {args.rows:,} {IRF} rows in {time.perf_counter() - t0:.1f} s")
        with engine.connect() as conn:
            hwm_to = conn.execute(sa.text("SELECT max(audit_key) FROM ctl_audit_log")).scalar_one()
        peer_s, command = peer(engine, url, work / "peer", hwm_to)
        ours_s, rows = ours(engine, work / "ours")
        zip_ours = next((work / "ours" / "facts").glob("export_*/*.zip")).stat().st_size
        zip_peer = (work / "peer" / "irf.zip").stat().st_size
        print(f"peer: {command}")
        print(f"{'':6}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'zip MB':>9}")
        print(f"{'ours':6}{rows:>12,}{ours_s:>10.2f}{rows / ours_s:>12,.0f}{zip_ours / 1e6:>9.1f}")
        print(f"{'peer':6}{rows:>12,}{peer_s:>10.2f}{rows / peer_s:>12,.0f}{zip_peer / 1e6:>9.1f}")
        print(f"ours / peer time: {ours_s / peer_s:.2f}x (target <= 1.5x)")
        return 0
    finally:
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
