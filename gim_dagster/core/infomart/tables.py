"""The Info Mart physical model: the single source of truth for table and column names, types and keys.

Names follow the Genesys Info Mart physical data model (PDM) for PostgreSQL, as lower-case unquoted
identifiers. Where we deviate from the PDM we say so in the column's ``comment``:

* identities and audit keys are ``bigint`` (the PDM says ``numeric(19)``): same range in practice, faster,
  and they arrive as plain Python ``int`` instead of ``Decimal``;
* fact tables are range-partitioned by ``start_date_time_key`` (daily, UTC days), so their primary key is
  ``(<id>, start_date_time_key)`` -- PostgreSQL requires the partition key in a partitioned table's primary
  key. **Both the fact's id and its start_date_time_key must be stable for one fact** (GSP assigns the id
  once and never moves a fact's start), otherwise a re-emitted fact would become a second row.

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


def _fact_time() -> list[Column[Any]]:
    return [
        Column(
            "start_date_time_key", Integer, nullable=False, comment="DATE_TIME key of START_TS; partition key"
        ),
        Column("end_date_time_key", Integer),
        Column("tenant_key", Integer, nullable=False),
        Column("start_ts", Integer, comment="UTC seconds since 1970"),
        Column("end_ts", Integer, comment="UTC seconds since 1970"),
    ]


def _counts(*names: str) -> list[Column[Any]]:
    """``<NAME>_COUNT`` and ``<NAME>_DURATION`` pairs (counts and whole seconds)."""
    return [Column(f"{n}_{suffix}", Integer) for n in names for suffix in ("count", "duration")]


def _fact(name: str, id_column: str, *columns: Column[Any], comment: str) -> Table:
    return Table(
        name,
        metadata,
        Column(id_column, BigInteger, nullable=False, comment="stable identity assigned by GSP"),
        *_fact_time(),
        *columns,
        Column("active_flag", SmallInteger, comment="1 while the fact is still open"),
        *_audit(),
        sa.PrimaryKeyConstraint(id_column, PARTITION_KEY, name=f"pk_{name}"),
        sa.Index(f"ix_{name}_update_audit_key", "update_audit_key"),
        comment=comment,
        info={"kind": "fact", "exported": True, "partitioned": True},
        postgresql_partition_by=f"RANGE ({PARTITION_KEY})",
    )


# --------------------------------------------------------------------------------------------- facts
INTERACTION_FACT = _fact(
    "interaction_fact",
    "interaction_id",
    Column("media_type_key", Integer, nullable=False),
    Column("interaction_type_key", Integer, nullable=False),
    Column("media_server_root_ixn_guid", String(50)),
    Column("media_server_ixn_guid", String(50), comment="upstream call / interaction id"),
    Column("source_address", String(255)),
    Column("target_address", String(255)),
    Column("subject", String(1024)),
    Column("status", SmallInteger, nullable=False, server_default="0"),
    comment="One row per interaction (call, chat, email).",
)

INTERACTION_RESOURCE_FACT = _fact(
    "interaction_resource_fact",
    "interaction_resource_id",
    Column("interaction_id", BigInteger, nullable=False),
    Column("media_type_key", Integer, nullable=False),
    Column("interaction_type_key", Integer, nullable=False),
    Column("resource_key", Integer, nullable=False),
    Column("place_key", Integer),
    Column("technical_descriptor_key", Integer, nullable=False),
    Column("resource_group_combination_key", Integer),
    Column("mediation_segment_id", BigInteger, comment="MEDIATION_SEGMENT_FACT of the queue time before it"),
    Column("mediation_resource_key", Integer),
    Column(
        "received_from_ixn_resource_id", BigInteger, comment="IRF this resource received the interaction from"
    ),
    Column(
        "prev_interaction_resource_id", BigInteger, comment="previous IRF of the same interaction (transfers)"
    ),
    Column("media_server_ixn_guid", String(50)),
    *_counts("ring", "dial", "talk", "hold", "after_call_work"),
    Column("customer_ring_duration", Integer),
    Column("customer_dial_duration", Integer),
    Column("customer_talk_duration", Integer),
    Column("customer_hold_duration", Integer),
    Column("customer_acw_duration", Integer),
    *_counts("cons_init_dial", "cons_init_talk", "cons_init_hold"),
    *_counts("cons_rcv_ring", "cons_rcv_talk", "cons_rcv_hold", "cons_rcv_acw"),
    Column("irf_anchor", SmallInteger, comment="1 on the first handling resource of the interaction"),
    comment="One row per resource (agent, queue, route point) that handled a part of an interaction.",
)

MEDIATION_SEGMENT_FACT = _fact(
    "mediation_segment_fact",
    "mediation_segment_id",
    Column("interaction_id", BigInteger, nullable=False),
    Column("media_type_key", Integer, nullable=False),
    Column("interaction_type_key", Integer),
    Column("resource_key", Integer, nullable=False, comment="the queue / virtual queue / routing point"),
    Column("resource_group_combination_key", Integer),
    Column("technical_descriptor_key", Integer, nullable=False),
    Column("target_ixn_resource_id", BigInteger, comment="IRF the interaction was delivered to"),
    Column("mediation_duration", Integer),
    comment="One row per stay of an interaction in a queue, virtual queue or routing point.",
)


def _sm(name: str, id_column: str, *columns: Column[Any], comment: str) -> Table:
    return _fact(
        name,
        id_column,
        Column("media_type_key", Integer, nullable=False),
        Column("resource_key", Integer, nullable=False),
        Column("resource_group_combination_key", Integer),
        *columns,
        Column("total_duration", Integer),
        Column("lead_clip_duration", Integer, comment="seconds clipped at the start interval edge"),
        Column("trail_clip_duration", Integer, comment="seconds clipped at the end interval edge"),
        comment=comment,
    )


SM_RES_SESSION_FACT = _sm(
    "sm_res_session_fact", "sm_res_session_fact_key", comment="One row per agent login session per media."
)
SM_RES_STATE_FACT = _sm(
    "sm_res_state_fact",
    "sm_res_state_fact_key",
    Column("sm_res_session_fact_key", BigInteger),
    Column("resource_state_key", Integer, nullable=False),
    comment="One row per interval an agent spent in one state.",
)
SM_RES_STATE_REASON_FACT = _sm(
    "sm_res_state_reason_fact",
    "sm_res_state_reason_fact_key",
    Column("sm_res_session_fact_key", BigInteger),
    Column("resource_state_key", Integer, nullable=False),
    Column("resource_state_reason_key", Integer, nullable=False),
    comment="One row per interval an agent spent in a state with a reason code.",
)
SM_MEDIA_NRR_FACT = _sm(
    "sm_media_nrr_fact",
    "sm_media_nrr_fact_key",
    Column("sm_res_session_fact_key", BigInteger),
    comment="One row per interval an agent was not ready for one media.",
)


# --------------------------------------------------------------------------- configuration facts (GCA)
def _config_fact(name: str, other_key: str, *columns: Column[Any], comment: str) -> Table:
    return Table(
        name,
        metadata,
        Column("resource_key", Integer, nullable=False),
        Column(other_key, Integer, nullable=False),
        Column("tenant_key", Integer, nullable=False),
        *columns,
        Column("start_date_time_key", Integer),
        Column("end_date_time_key", Integer),
        Column("start_ts", Integer, nullable=False, comment="UTC seconds the relation began"),
        Column("end_ts", Integer, comment="UTC seconds the relation ended; null while open"),
        Column("active_flag", SmallInteger),
        *_audit(),
        sa.PrimaryKeyConstraint("resource_key", other_key, "start_ts", name=f"pk_{name}"),
        sa.Index(f"ix_{name}_update_audit_key", "update_audit_key"),
        comment=comment,
        info={"kind": "config_fact", "exported": True, "partitioned": False},
    )


RESOURCE_GROUP_FACT_ = _config_fact(
    "resource_group_fact_", "group_key", comment="Membership of a resource in a group over time (GCA)."
)
RESOURCE_SKILL_FACT_ = _config_fact(
    "resource_skill_fact_",
    "skill_key",
    Column("skill_level", Integer),
    comment="Skill level of a resource over time (GCA).",
)


# ----------------------------------------------------------------------------------------- dimensions
def _dim(name: str, key: str, *columns: Column[Any], comment: str, static: bool = False) -> Table:
    return Table(
        name,
        metadata,
        Column(key, Integer, nullable=False),
        *columns,
        *_audit(),
        sa.PrimaryKeyConstraint(key, name=f"pk_{name}"),
        comment=comment,
        info={"kind": "static_dimension" if static else "dimension", "exported": True, "partitioned": False},
    )


def _coded(*names: str, length: int = 64) -> list[Column[Any]]:
    """PDM pairs ``X`` (display value) and ``X_CODE`` (stable code)."""
    return [Column(f"{n}{suffix}", String(length)) for n in names for suffix in ("", "_code")]


def _history() -> list[Column[Any]]:
    return [
        Column("start_ts", Integer, comment="UTC seconds this version became valid"),
        Column("end_ts", Integer, comment="UTC seconds it stopped being valid; null while current"),
    ]


TENANT = _dim(
    "tenant",
    "tenant_key",
    Column("tenant_name", String(255)),
    Column("tenant_cfg_dbid", Integer),
    *_history(),
    comment="The tenant (one per Info Mart database; see static_keys.TENANT_KEY).",
)

DATE_TIME = _dim(
    "date_time",
    "date_time_key",
    Column("date_time_30min_key", Integer, comment="key of the 30-minute interval start"),
    Column("date_time_hour_key", Integer, comment="key of the hour start"),
    Column("date_time_day_key", Integer, comment="key of the local (tenant time zone) day start"),
    Column("date_time_week_key", Integer, comment="key of the local ISO week start (Monday)"),
    Column("date_time_month_key", Integer),
    Column("date_time_quarter_key", Integer),
    Column("date_time_year_key", Integer),
    Column("date_time_tz", String(64), comment="IANA time zone of the CAL_* and LABEL_* columns"),
    Column("date_time_tz_offset", Integer, comment="seconds east of UTC at this interval"),
    Column("cal_date", Date, comment="local calendar date"),
    Column("cal_year_num", SmallInteger),
    Column("cal_quarter_num_in_year", SmallInteger),
    Column("cal_month_num_in_year", SmallInteger),
    Column("cal_week_num_in_year", SmallInteger, comment="ISO 8601 week number"),
    Column("cal_day_num_in_week", SmallInteger, comment="ISO: 1 = Monday .. 7 = Sunday"),
    Column("cal_day_num_in_month", SmallInteger),
    Column("cal_day_num_in_year", SmallInteger),
    Column("cal_day_name", String(16)),
    Column("cal_month_name", String(16)),
    Column("cal_hour_24_num_in_day", SmallInteger),
    Column("cal_minute_num_in_hour", SmallInteger),
    Column("label_yyyy", String(4)),
    Column("label_yyyy_mm", String(7)),
    Column("label_yyyy_mm_dd", String(10)),
    Column("label_hh24", String(2)),
    Column("label_15_min", String(11), comment="e.g. 09:15-09:30"),
    Column("label_30_min", String(11), comment="e.g. 09:00-09:30"),
    Column("label_60_min", String(11), comment="e.g. 09:00-10:00"),
    Column("utc_date", Date),
    Column("utc_year_num", SmallInteger),
    Column("utc_month_num_in_year", SmallInteger),
    Column("utc_day_num_in_month", SmallInteger),
    Column("utc_hour_24_num_in_day", SmallInteger),
    Column("utc_minute_num_in_hour", SmallInteger),
    comment="One row per 15-minute interval; key = interval start in UTC seconds.",
)

MEDIA_TYPE = _dim(
    "media_type",
    "media_type_key",
    *_coded("media_name"),
    Column("is_online", SmallInteger),
    comment="Media types (static, see static_keys).",
    static=True,
)

INTERACTION_TYPE = _dim(
    "interaction_type",
    "interaction_type_key",
    *_coded("interaction_type", "interaction_subtype"),
    comment="Interaction types and subtypes (static, see static_keys).",
    static=True,
)

TECHNICAL_DESCRIPTOR = _dim(
    "technical_descriptor",
    "technical_descriptor_key",
    *_coded("resource_role", "role_reason", "technical_result", "result_reason"),
    comment="Role of a resource and the technical result of its part (static, see static_keys).",
    static=True,
)

RESOURCE_STATE = _dim(
    "resource_state",
    "resource_state_key",
    *_coded("state_name", "state_type"),
    comment="Agent states (static, see static_keys).",
    static=True,
)

RESOURCE_STATE_REASON = _dim(
    "resource_state_reason",
    "resource_state_reason_key",
    Column("tenant_key", Integer),
    *_coded("reason_type"),
    Column("hardware_reason", String(255)),
    Column("software_reason_key", String(255)),
    Column("software_reason_value", String(255)),
    *_coded("workmode"),
    *_history(),
    comment="Reason codes of agent states (hardware / software); key -1 = no or unknown reason.",
)

RESOURCE_ = _dim(
    "resource_",
    "resource_key",
    Column("tenant_key", Integer),
    *_coded("resource_type"),
    Column("resource_subtype", String(64)),
    Column("resource_name", String(255)),
    Column("resource_cfg_dbid", Integer),
    Column("resource_cfg_type_id", Integer),
    Column("agent_first_name", String(64)),
    Column("agent_last_name", String(64)),
    Column("employee_id", String(255)),
    Column("switch_name", String(255)),
    *_history(),
    comment="Agents, queues, routing points (GCA); key -1 = unknown resource.",
)

GROUP_ = _dim(
    "group_",
    "group_key",
    Column("tenant_key", Integer),
    Column("group_name", String(255)),
    Column("group_cfg_dbid", Integer),
    Column("group_cfg_type_id", Integer),
    *_coded("group_type"),
    *_history(),
    comment="Agent and place groups (GCA); key -1 = no group.",
)

PLACE = _dim(
    "place",
    "place_key",
    Column("tenant_key", Integer),
    Column("place_name", String(255)),
    Column("place_cfg_dbid", Integer),
    *_history(),
    comment="Places (GCA); key -1 = unknown place.",
)

SKILL = _dim(
    "skill",
    "skill_key",
    Column("tenant_key", Integer),
    Column("skill_name", String(255)),
    Column("skill_cfg_dbid", Integer),
    *_history(),
    comment="Skills (GCA); key -1 = unknown skill.",
)

RESOURCE_GROUP_COMBINATION = Table(
    "resource_group_combination",
    metadata,
    Column("resource_group_combination_key", Integer, nullable=False),
    Column("group_key", Integer, nullable=False),
    Column("tenant_key", Integer),
    *_audit(),
    sa.PrimaryKeyConstraint(
        "resource_group_combination_key", "group_key", name="pk_resource_group_combination"
    ),
    comment="One row per (combination, member group); combination -1 = no group.",
    info={"kind": "dimension", "exported": True, "partitioned": False},
)


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
EXPORTED_TABLES: tuple[Table, ...] = tuple(t for t in metadata.tables.values() if t.info["exported"])
"""The PDM Data Export set, in definition order (facts, configuration facts, dimensions)."""
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
