"""The Info Mart physical model: the single source of truth for table and column names, types and keys.

Names follow the Genesys Info Mart physical data model (PDM) for PostgreSQL, as lower-case unquoted
identifiers. The facts, configuration facts and dimensions (the exported tables) are built from the
fact-record contract, ``core/facts/tables.py``, which owns their columns, types and primary keys; this module
adds what only the database has (audit keys, indexes, partitions, defaults). Where we deviate from the PDM we
say so in a column's ``comment``:

* identities and audit keys are ``bigint`` (the PDM says ``numeric(19)``): same range in practice, faster,
  and they arrive as plain Python ``int`` instead of ``Decimal``;
* fact tables are range-partitioned by ``start_date_time_key`` (daily, UTC days), so their primary key is
  ``(<id>, start_date_time_key)`` -- PostgreSQL requires the partition key in a partitioned table's primary
  key (``core/facts/tables.py`` says why both must be stable for one fact).

Every table carries ``info`` describing its role, read by the loader, the export and the target-schema
script (never hard-code a table list elsewhere):

``kind``         ``"fact"``, ``"config_fact"``, ``"dimension"``, ``"static_dimension"``, ``"aggregate"``
                 (RAA, written by ``aggregates``; ``level`` names its interval) or ``"control"``
``exported``     in the PDM's Data Export set (has ``create_audit_key`` and ``update_audit_key``)
``partitioned``  range-partitioned by ``start_date_time_key``

This module describes the *live* model; the database is created by the frozen alembic migrations in
``migrations/versions`` and a test checks that both agree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import BigInteger, Column, Date, Integer, MetaData, SmallInteger, String, Table, Text

from gim_dagster.core.facts import tables as facts

metadata = MetaData()

PARTITION_KEY = "start_date_time_key"
AUDIT_COLUMNS = ("create_audit_key", "update_audit_key")
AUDIT_KEY_SEQUENCE = sa.Sequence("ctl_audit_log_audit_key_seq", start=2, metadata=metadata)
"""Audit key 1 is the schema initialisation (seeded rows); every later transaction draws from here."""


def _audit() -> list[Column[Any]]:
    return [
        Column(
            "create_audit_key", BigInteger, nullable=False, comment="CTL_AUDIT_LOG key that inserted the row"
        ),
        Column(
            "update_audit_key", BigInteger, nullable=False, comment="CTL_AUDIT_LOG key that last changed it"
        ),
    ]


# ------------------------------------------------------------- facts and dimensions (the fact contract)
_SQL_TYPES: dict[str, Any] = {
    "smallint": SmallInteger,
    "integer": Integer,
    "bigint": BigInteger,
    "date": Date,
}
SERVER_DEFAULTS = {("interaction_fact", "status"): "0"}
"""Column defaults of the database (DDL only: a record must carry these NOT NULL columns all the same)."""


def _column(tbl: facts.TableSchema, col: facts.Column) -> Column[Any]:
    return Column(
        col.name,
        String(col.length) if col.type == "varchar" else _SQL_TYPES[col.type],
        nullable=col.nullable,
        server_default=SERVER_DEFAULTS.get((tbl.name, col.name)),
        comment=col.comment,
    )


def _exported(tbl: facts.TableSchema) -> Table:
    """The Info Mart table of a fact-record schema: its columns, then the audit keys the loader sets.

    Facts are range-partitioned by ``start_date_time_key``; facts and configuration facts are indexed by
    ``update_audit_key``.
    """
    fact = tbl.kind == "fact"
    indexed = tbl.kind in ("fact", "config_fact")
    return Table(
        tbl.name,
        metadata,
        *(_column(tbl, c) for c in tbl.columns),
        *_audit(),
        sa.PrimaryKeyConstraint(*tbl.primary_key, name=f"pk_{tbl.name}"),
        *([sa.Index(f"ix_{tbl.name}_update_audit_key", "update_audit_key")] if indexed else []),
        comment=tbl.comment,
        info={"kind": tbl.kind, "exported": True, "partitioned": fact},
        **({"postgresql_partition_by": f"RANGE ({PARTITION_KEY})"} if fact else {}),
    )


EXPORTED_TABLES: tuple[Table, ...] = tuple(_exported(t) for t in facts.TABLES)
"""The PDM Data Export set, in the contract's order (facts, configuration facts, dimensions): every table a
fact record may target."""


# ----------------------------------------------------------------------------------------- aggregates
AGGREGATE_LEVELS = ("subhr", "hour", "day", "month")
"""The interval levels built, each keyed by the DATE_TIME column of ``AGGREGATE_LEVEL_KEYS``."""
AGGREGATE_LEVEL_KEYS = {
    "subhr": "date_time_key",
    "hour": "date_time_hour_key",
    "day": "date_time_day_key",
    "month": "date_time_month_key",
}
TIME_RANGE_BUCKETS = 20
"""Time-range buckets of the queue abandon and accept tables (``ABANDONED_STI_1`` ... ``_20``)."""


def _aggregate(family: str, keys: tuple[str, ...], measures: tuple[str, ...], comment: str) -> list[Table]:
    """The RAA tables ``AGT_<family>_SUBHR|HOUR|DAY|MONTH``: one row per interval and combination of ``keys``.

    DATE_TIME_KEY is the key of the interval's first 15-minute row (``AGGREGATE_LEVEL_KEYS``). The audit
    keys are the aggregation high-water mark (``GIM_AGG_HWM``) of the run that last computed the row. A
    measure named ``*_max`` rolls up as a maximum, every other one as a sum.
    """
    return [
        Table(
            f"agt_{family}_{level}",
            metadata,
            Column(
                "date_time_key", Integer, nullable=False, comment=f"DATE_TIME.{AGGREGATE_LEVEL_KEYS[level]}"
            ),
            *(Column(k, Integer, nullable=False) for k in keys),
            *(Column(m, Integer, nullable=False, server_default="0") for m in measures),
            *_audit(),
            sa.PrimaryKeyConstraint("date_time_key", *keys, name=f"pk_agt_{family}_{level}"),
            comment=comment,
            info={"kind": "aggregate", "exported": False, "partitioned": False, "level": level},
        )
        for level in AGGREGATE_LEVELS
    ]


_AGENT_KEYS = ("tenant_key", "media_type_key", "resource_key")
AGT_I_AGENT = _aggregate(
    "i_agent",
    (*_AGENT_KEYS, "interaction_type_key", "resource_group_combination_key"),
    (
        "offered",
        "accepted",
        "invite",
        "invite_time",
        "engage",
        "engage_time",
        "hold",
        "hold_time",
        "wrap",
        "wrap_time",
    ),
    comment="RAA interval-based: an agent's handling of interactions per interval (from IRF).",
)
AGT_I_SESS_STATE = _aggregate(
    "i_sess_state",
    (*_AGENT_KEYS, "resource_group_combination_key"),
    (
        "active_time",
        "ready",
        "ready_time",
        "not_ready",
        "not_ready_time",
        "busy",
        "busy_time",
        "wrap",
        "wrap_time",
    ),
    comment="RAA interval-based: an agent's login and state times per interval (SM_RES_SESSION_/STATE_FACT).",
)
AGT_I_STATE_RSN = _aggregate(
    "i_state_rsn",
    (*_AGENT_KEYS, "resource_group_combination_key", "resource_state_key", "resource_state_reason_key"),
    ("state_rsn", "state_rsn_time"),
    comment="RAA interval-based: an agent's time per state reason per interval (SM_RES_STATE_REASON_FACT).",
)

_QUEUE_KEYS = (
    "tenant_key",
    "media_type_key",
    "resource_key",
    "interaction_type_key",
    "resource_group_combination_key",
)
AGT_QUEUE = _aggregate(
    "queue",
    _QUEUE_KEYS,
    (
        "entered",
        "abandoned",
        "abandoned_time",
        "abandoned_short",
        "abandoned_standard",
        "abandoned_thr",
        "abandoned_invite",
        "distributed",
        "distributed_time",
        "redirected",
        "routed_other",
        "cleared",
        "accepted",
        "accepted_time",
        "accepted_time_max",
        "accepted_thr",
        "accepted_agent",
        "accepted_agent_time",
        "accepted_agent_thr",
        "transfer_init_agent",
        "invite",
        "invite_time",
        "engage",
        "engage_time",
        "hold",
        "hold_time",
        "wrap",
        "wrap_time",
    ),
    comment="RAA disposition-based: interactions that entered a queue, per interval of entering (from MSF, "
    "with the IRF each was distributed to).",
)
_BUCKETS = range(1, TIME_RANGE_BUCKETS + 1)
AGT_QUEUE_ABN = _aggregate(
    "queue_abn",
    (*_QUEUE_KEYS, "time_range_key"),
    ("abandoned", *(f"abandoned_sti_{i}" for i in _BUCKETS)),
    comment="RAA disposition-based: interactions abandoned while queued, by time waited (TIME_RANGE "
    "buckets).",
)
AGT_QUEUE_ACC_AGENT = _aggregate(
    "queue_acc_agent",
    (*_QUEUE_KEYS, "time_range_key"),
    ("accepted_agent", *(f"accepted_agent_sti_{i}" for i in _BUCKETS)),
    comment="RAA disposition-based: interactions accepted by agents from a queue, by time to accept "
    "(queued + ringing; TIME_RANGE buckets).",
)
AGGREGATE_TABLES: tuple[Table, ...] = (
    *AGT_I_AGENT,
    *AGT_I_SESS_STATE,
    *AGT_I_STATE_RSN,
    *AGT_QUEUE,
    *AGT_QUEUE_ABN,
    *AGT_QUEUE_ACC_AGENT,
)
"""The aggregate tables, read by reports through the ``AG2_*`` view of the same suffix (``view_name``)."""


def view_name(aggregate: Table) -> str:
    """The RAA view reports read an aggregate table through: ``AGT_X`` -> ``AG2_X``."""
    return "ag2_" + aggregate.name.removeprefix("agt_")


TIME_RANGE = Table(
    "time_range",
    metadata,
    Column("time_range_key", Integer, nullable=False, comment="one set of bucket boundaries"),
    Column("time_range_name", String(64), nullable=False, comment="QUEUE-ABN or QUEUE-ACC"),
    Column("bucket_num", SmallInteger, nullable=False, comment="n of the ..._STI_n column"),
    Column("range_start", Integer, nullable=False, comment="seconds, inclusive"),
    Column("range_end", Integer, comment="seconds, exclusive; NULL: unbounded"),
    *_audit(),
    sa.PrimaryKeyConstraint("time_range_key", "bucket_num", name="pk_time_range"),
    comment="The time-range buckets of AGT_QUEUE_ABN_* and AGT_QUEUE_ACC_AGENT_* (from the settings).",
    info={"kind": "aggregate_dimension", "exported": False, "partitioned": False},
)


# -------------------------------------------------------------------------------------------- control
CTL_AUDIT_LOG = Table(
    "ctl_audit_log",
    metadata,
    Column("audit_key", BigInteger, nullable=False),
    Column("job_id", String(64), nullable=False, comment="id of the run that committed the transaction"),
    Column("job_name", String(64), comment="ours: the job (e.g. infomart_load, gca_snapshot)"),
    Column("created", sa.DateTime, nullable=False, comment="UTC time the transaction began"),
    Column("inserted", sa.DateTime, comment="UTC time the row was written (commit follows)"),
    Column("processing_status_key", Integer, nullable=False, server_default="0"),
    Column("min_start_date_time_key", Integer),
    Column("max_start_date_time_key", Integer),
    Column("max_chunk_ts", Integer),
    Column("row_count", Integer),
    Column("created_ts", Integer, nullable=False, comment="UTC seconds of CREATED"),
    sa.PrimaryKeyConstraint("audit_key", name="pk_ctl_audit_log"),
    comment="One row per committed transaction that wrote facts or dimensions.",
    info={"kind": "control", "exported": False, "partitioned": False},
)

CTL_ETL_HISTORY = Table(
    "ctl_etl_history",
    metadata,
    Column("job_id", String(64), nullable=False),
    Column("job_name", String(64), nullable=False),
    Column("job_version", String(64)),
    Column("start_time", sa.DateTime, nullable=False),
    Column("end_time", sa.DateTime),
    Column("status", String(32), nullable=False, comment="COMPLETE or FAILED"),
    Column("details", Text, comment="ours: JSON summary of the run"),
    sa.PrimaryKeyConstraint("job_id", name="pk_ctl_etl_history"),
    comment="One row per job run.",
    info={"kind": "control", "exported": False, "partitioned": False},
)

GIM_KAFKA_OFFSETS = Table(
    "gim_kafka_offsets",
    metadata,
    Column("topic", String(255), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("next_offset", BigInteger, nullable=False, comment="first offset not yet loaded"),
    Column("updated", sa.DateTime, nullable=False),
    sa.PrimaryKeyConstraint("topic", "partition", name="pk_gim_kafka_offsets"),
    comment="Ours: consumed Kafka offsets, committed in the same transaction as the rows.",
    info={"kind": "control", "exported": False, "partitioned": False},
)

GIM_EXPORT_HWM = Table(
    "gim_export_hwm",
    metadata,
    Column("stream", String(64), nullable=False, comment="export stream (the main stream or a re-export)"),
    Column("hwm_audit_key", BigInteger, nullable=False, comment="last exported audit key"),
    Column("hwm_created_ts", Integer, comment="CREATED_TS of that audit key"),
    Column("max_data_ts", Integer, comment="maximum data time of this and all previous exports"),
    Column("export_name", String(255), comment="folder name of the last export"),
    Column("updated", sa.DateTime, nullable=False),
    sa.PrimaryKeyConstraint("stream", name="pk_gim_export_hwm"),
    comment="Ours: export high-water marks, updated only when an export is complete.",
    info={"kind": "control", "exported": False, "partitioned": False},
)

GIM_AGG_HWM = Table(
    "gim_agg_hwm",
    metadata,
    Column("aggregation", String(64), nullable=False, comment="aggregation set (AGT_I: the interval tables)"),
    Column("hwm_audit_key", BigInteger, nullable=False, comment="last audit key aggregated"),
    Column("intervals", Integer, comment="15-minute intervals the last run recomputed"),
    Column("updated", sa.DateTime, nullable=False),
    sa.PrimaryKeyConstraint("aggregation", name="pk_gim_agg_hwm"),
    comment="Ours: aggregation high-water marks, moved in the transaction that recomputes the intervals.",
    info={"kind": "control", "exported": False, "partitioned": False},
)

GIM_SCHEMA_VERSION = Table(
    "gim_schema_version",
    metadata,
    Column("schema_version", String(32), nullable=False),
    Column("description", String(255)),
    Column("applied", sa.DateTime, nullable=False),
    sa.PrimaryKeyConstraint("schema_version", name="pk_gim_schema_version"),
    comment="Ours: one row per applied schema version (the export's gim-schema-version).",
    info={"kind": "control", "exported": False, "partitioned": False},
)


# ------------------------------------------------------------------------------------------- catalogue
ALL_TABLES: tuple[Table, ...] = tuple(metadata.sorted_tables)
FACT_TABLES: tuple[Table, ...] = tuple(t for t in EXPORTED_TABLES if t.info["kind"] == "fact")
PARTITIONED_TABLES: tuple[Table, ...] = tuple(t for t in EXPORTED_TABLES if t.info["partitioned"])
STATIC_DIMENSIONS: tuple[Table, ...] = tuple(
    t for t in EXPORTED_TABLES if t.info["kind"] == "static_dimension"
)


def table(name: str) -> Table:
    """The table called ``name`` (lower or upper case); ``KeyError`` naming it if there is none."""
    try:
        return metadata.tables[name.lower()]
    except KeyError:
        raise KeyError(f"no Info Mart table {name!r}") from None


def primary_key(tbl: Table) -> tuple[str, ...]:
    """Primary-key column names of ``tbl``, in key order."""
    return tuple(c.name for c in tbl.primary_key.columns)


def data_columns(tbl: Table) -> tuple[str, ...]:
    """Columns a producer may set: every column except the audit keys, which the loader owns."""
    return tuple(c.name for c in tbl.columns if c.name not in AUDIT_COLUMNS)
