"""The tables a fact record may target, one record schema each: columns in order, types, primary key.

These are the tables of the Genesys Info Mart's Data Export set, as lower-case names: the facts GSP emits,
the configuration facts and the dimensions (which GCA writes straight to the database, but a record may
carry a row of any of them). A schema lists the columns a producer may set, never the audit keys
(``CREATE_AUDIT_KEY`` / ``UPDATE_AUDIT_KEY``): the loader owns those. The Info Mart builds its tables from
these schemas (``core/infomart/tables.py``, which adds the audit keys, indexes and partitioning), so the
contract and the database cannot disagree.

Types are those of the Info Mart columns: ``smallint``, ``integer`` (32-bit), ``bigint``, ``varchar`` (at
most ``length`` characters) and ``date`` (``YYYY-MM-DD``). A fact's primary key is ``(<id>,
start_date_time_key)``: the Info Mart partitions facts by ``start_date_time_key``, and PostgreSQL requires
the partition key in the primary key. **Both the id and the start_date_time_key of one fact must be stable**
(GSP assigns the id once and never moves a fact's start), otherwise a re-emitted fact becomes a second row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["smallint", "integer", "bigint", "varchar", "date"]
TableKind = Literal["fact", "config_fact", "dimension", "static_dimension"]


@dataclass(frozen=True)
class Column:
    """One column a record may set; ``nullable=False`` ones must be in every record of the table."""

    name: str
    type: ColumnType
    nullable: bool = True
    length: int | None = None
    """``varchar`` only: the most characters it holds."""
    comment: str | None = None


@dataclass(frozen=True)
class TableSchema:
    """The record schema of one target table."""

    name: str
    kind: TableKind
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    comment: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> frozenset[str]:
        """Columns every record must carry: the primary key and the NOT NULL columns.

        A NOT NULL column is required even where the database has a default: the loader writes an absent
        column as NULL.
        """
        return frozenset(self.primary_key) | {c.name for c in self.columns if not c.nullable}


def _int(name: str, nullable: bool = True, comment: str | None = None) -> Column:
    return Column(name, "integer", nullable, comment=comment)


def _big(name: str, nullable: bool = True, comment: str | None = None) -> Column:
    return Column(name, "bigint", nullable, comment=comment)


def _small(name: str, nullable: bool = True, comment: str | None = None) -> Column:
    return Column(name, "smallint", nullable, comment=comment)


def _str(name: str, length: int, comment: str | None = None) -> Column:
    return Column(name, "varchar", length=length, comment=comment)


_SECONDS = "UTC seconds since 1970"


def _fact_time() -> tuple[Column, ...]:
    return (
        _int("start_date_time_key", False, "DATE_TIME key of START_TS; partition key"),
        _int("end_date_time_key"),
        _int("tenant_key", False),
        _int("start_ts", comment=_SECONDS),
        _int("end_ts", comment=_SECONDS),
    )


def _counts(*names: str) -> tuple[Column, ...]:
    """``<NAME>_COUNT`` and ``<NAME>_DURATION`` pairs (counts and whole seconds)."""
    return tuple(_int(f"{n}_{suffix}") for n in names for suffix in ("count", "duration"))


def _fact(name: str, id_column: str, *columns: Column, comment: str) -> TableSchema:
    return TableSchema(
        name,
        "fact",
        (
            _big(id_column, False, "stable identity assigned by GSP"),
            *_fact_time(),
            *columns,
            _small("active_flag", comment="1 while the fact is still open"),
        ),
        (id_column, "start_date_time_key"),
        comment,
    )


# --------------------------------------------------------------------------------------------- facts
INTERACTION_FACT = _fact(
    "interaction_fact",
    "interaction_id",
    _int("media_type_key", False),
    _int("interaction_type_key", False),
    _str("media_server_root_ixn_guid", 50),
    _str("media_server_ixn_guid", 50, "upstream call / interaction id"),
    _str("source_address", 255),
    _str("target_address", 255),
    _str("subject", 1024),
    _small("status", False),
    comment="One row per interaction (call, chat, email).",
)

INTERACTION_RESOURCE_FACT = _fact(
    "interaction_resource_fact",
    "interaction_resource_id",
    _big("interaction_id", False),
    _int("media_type_key", False),
    _int("interaction_type_key", False),
    _int("resource_key", False),
    _int("place_key"),
    _int("technical_descriptor_key", False),
    _int("resource_group_combination_key"),
    _big("mediation_segment_id", comment="MEDIATION_SEGMENT_FACT of the queue time before it"),
    _int("mediation_resource_key"),
    _big("received_from_ixn_resource_id", comment="IRF this resource received the interaction from"),
    _big("prev_interaction_resource_id", comment="previous IRF of the same interaction (transfers)"),
    _str("media_server_ixn_guid", 50),
    *_counts("ring", "dial", "talk", "hold", "after_call_work"),
    _int("customer_ring_duration"),
    _int("customer_dial_duration"),
    _int("customer_talk_duration"),
    _int("customer_hold_duration"),
    _int("customer_acw_duration"),
    *_counts("cons_init_dial", "cons_init_talk", "cons_init_hold"),
    *_counts("cons_rcv_ring", "cons_rcv_talk", "cons_rcv_hold", "cons_rcv_acw"),
    _small("irf_anchor", comment="1 on the first handling resource of the interaction"),
    comment="One row per resource (agent, queue, route point) that handled a part of an interaction.",
)

MEDIATION_SEGMENT_FACT = _fact(
    "mediation_segment_fact",
    "mediation_segment_id",
    _big("interaction_id", False),
    _int("media_type_key", False),
    _int("interaction_type_key"),
    _int("resource_key", False, "the queue / virtual queue / routing point"),
    _int("resource_group_combination_key"),
    _int("technical_descriptor_key", False),
    _big("target_ixn_resource_id", comment="IRF the interaction was delivered to"),
    _int("mediation_duration"),
    comment="One row per stay of an interaction in a queue, virtual queue or routing point.",
)


def _sm(name: str, id_column: str, *columns: Column, comment: str) -> TableSchema:
    return _fact(
        name,
        id_column,
        _int("media_type_key", False),
        _int("resource_key", False),
        _int("resource_group_combination_key"),
        *columns,
        _int("total_duration"),
        _int("lead_clip_duration", comment="seconds clipped at the start interval edge"),
        _int("trail_clip_duration", comment="seconds clipped at the end interval edge"),
        comment=comment,
    )


SM_RES_SESSION_FACT = _sm(
    "sm_res_session_fact", "sm_res_session_fact_key", comment="One row per agent login session per media."
)
SM_RES_STATE_FACT = _sm(
    "sm_res_state_fact",
    "sm_res_state_fact_key",
    _big("sm_res_session_fact_key"),
    _int("resource_state_key", False),
    comment="One row per interval an agent spent in one state.",
)
SM_RES_STATE_REASON_FACT = _sm(
    "sm_res_state_reason_fact",
    "sm_res_state_reason_fact_key",
    _big("sm_res_session_fact_key"),
    _int("resource_state_key", False),
    _int("resource_state_reason_key", False),
    comment="One row per interval an agent spent in a state with a reason code.",
)
SM_MEDIA_NRR_FACT = _sm(
    "sm_media_nrr_fact",
    "sm_media_nrr_fact_key",
    _big("sm_res_session_fact_key"),
    comment="One row per interval an agent was not ready for one media.",
)


# --------------------------------------------------------------------------- configuration facts (GCA)
def _config_fact(name: str, other_key: str, *columns: Column, comment: str) -> TableSchema:
    return TableSchema(
        name,
        "config_fact",
        (
            _int("resource_key", False),
            _int(other_key, False),
            _int("tenant_key", False),
            *columns,
            _int("start_date_time_key"),
            _int("end_date_time_key"),
            _int("start_ts", False, "UTC seconds the relation began"),
            _int("end_ts", comment="UTC seconds the relation ended; null while open"),
            _small("active_flag"),
        ),
        ("resource_key", other_key, "start_ts"),
        comment,
    )


RESOURCE_GROUP_FACT_ = _config_fact(
    "resource_group_fact_", "group_key", comment="Membership of a resource in a group over time (GCA)."
)
RESOURCE_SKILL_FACT_ = _config_fact(
    "resource_skill_fact_",
    "skill_key",
    _int("skill_level"),
    comment="Skill level of a resource over time (GCA).",
)


# ----------------------------------------------------------------------------------------- dimensions
def _dim(name: str, key: str, *columns: Column, comment: str, static: bool = False) -> TableSchema:
    kind: TableKind = "static_dimension" if static else "dimension"
    return TableSchema(name, kind, (_int(key, False), *columns), (key,), comment)


def _coded(*names: str, length: int = 64) -> tuple[Column, ...]:
    """PDM pairs ``X`` (display value) and ``X_CODE`` (stable code)."""
    return tuple(_str(f"{n}{suffix}", length) for n in names for suffix in ("", "_code"))


def _history() -> tuple[Column, ...]:
    return (
        _int("start_ts", comment="UTC seconds this version became valid"),
        _int("end_ts", comment="UTC seconds it stopped being valid; null while current"),
    )


TENANT = _dim(
    "tenant",
    "tenant_key",
    _str("tenant_name", 255),
    _int("tenant_cfg_dbid"),
    *_history(),
    comment="The tenant (one per Info Mart database; see static_keys.TENANT_KEY).",
)

DATE_TIME = _dim(
    "date_time",
    "date_time_key",
    _int("date_time_30min_key", comment="key of the 30-minute interval start"),
    _int("date_time_hour_key", comment="key of the hour start"),
    _int("date_time_day_key", comment="key of the local (tenant time zone) day start"),
    _int("date_time_week_key", comment="key of the local ISO week start (Monday)"),
    _int("date_time_month_key"),
    _int("date_time_quarter_key"),
    _int("date_time_year_key"),
    _str("date_time_tz", 64, "IANA time zone of the CAL_* and LABEL_* columns"),
    _int("date_time_tz_offset", comment="seconds east of UTC at this interval"),
    Column("cal_date", "date", comment="local calendar date"),
    _small("cal_year_num"),
    _small("cal_quarter_num_in_year"),
    _small("cal_month_num_in_year"),
    _small("cal_week_num_in_year", comment="ISO 8601 week number"),
    _small("cal_day_num_in_week", comment="ISO: 1 = Monday .. 7 = Sunday"),
    _small("cal_day_num_in_month"),
    _small("cal_day_num_in_year"),
    _str("cal_day_name", 16),
    _str("cal_month_name", 16),
    _small("cal_hour_24_num_in_day"),
    _small("cal_minute_num_in_hour"),
    _str("label_yyyy", 4),
    _str("label_yyyy_mm", 7),
    _str("label_yyyy_mm_dd", 10),
    _str("label_hh24", 2),
    _str("label_15_min", 11, "e.g. 09:15-09:30"),
    _str("label_30_min", 11, "e.g. 09:00-09:30"),
    _str("label_60_min", 11, "e.g. 09:00-10:00"),
    Column("utc_date", "date"),
    _small("utc_year_num"),
    _small("utc_month_num_in_year"),
    _small("utc_day_num_in_month"),
    _small("utc_hour_24_num_in_day"),
    _small("utc_minute_num_in_hour"),
    comment="One row per 15-minute interval; key = interval start in UTC seconds.",
)

MEDIA_TYPE = _dim(
    "media_type",
    "media_type_key",
    *_coded("media_name"),
    _small("is_online"),
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
    _int("tenant_key"),
    *_coded("reason_type"),
    _str("hardware_reason", 255),
    _str("software_reason_key", 255),
    _str("software_reason_value", 255),
    *_coded("workmode"),
    *_history(),
    comment="Reason codes of agent states (hardware / software); key -1 = no or unknown reason.",
)

RESOURCE_ = _dim(
    "resource_",
    "resource_key",
    _int("tenant_key"),
    *_coded("resource_type"),
    _str("resource_subtype", 64),
    _str("resource_name", 255),
    _int("resource_cfg_dbid"),
    _int("resource_cfg_type_id"),
    _str("agent_first_name", 64),
    _str("agent_last_name", 64),
    _str("employee_id", 255),
    _str("switch_name", 255),
    *_history(),
    comment="Agents, queues, routing points (GCA); key -1 = unknown resource.",
)

GROUP_ = _dim(
    "group_",
    "group_key",
    _int("tenant_key"),
    _str("group_name", 255),
    _int("group_cfg_dbid"),
    _int("group_cfg_type_id"),
    *_coded("group_type"),
    *_history(),
    comment="Agent and place groups (GCA); key -1 = no group.",
)

PLACE = _dim(
    "place",
    "place_key",
    _int("tenant_key"),
    _str("place_name", 255),
    _int("place_cfg_dbid"),
    *_history(),
    comment="Places (GCA); key -1 = unknown place.",
)

SKILL = _dim(
    "skill",
    "skill_key",
    _int("tenant_key"),
    _str("skill_name", 255),
    _int("skill_cfg_dbid"),
    *_history(),
    comment="Skills (GCA); key -1 = unknown skill.",
)

RESOURCE_GROUP_COMBINATION = TableSchema(
    "resource_group_combination",
    "dimension",
    (_int("resource_group_combination_key", False), _int("group_key", False), _int("tenant_key")),
    ("resource_group_combination_key", "group_key"),
    "One row per (combination, member group); combination -1 = no group.",
)


TABLES: tuple[TableSchema, ...] = (
    INTERACTION_FACT,
    INTERACTION_RESOURCE_FACT,
    MEDIATION_SEGMENT_FACT,
    SM_RES_SESSION_FACT,
    SM_RES_STATE_FACT,
    SM_RES_STATE_REASON_FACT,
    SM_MEDIA_NRR_FACT,
    RESOURCE_GROUP_FACT_,
    RESOURCE_SKILL_FACT_,
    TENANT,
    DATE_TIME,
    MEDIA_TYPE,
    INTERACTION_TYPE,
    TECHNICAL_DESCRIPTOR,
    RESOURCE_STATE,
    RESOURCE_STATE_REASON,
    RESOURCE_,
    GROUP_,
    PLACE,
    SKILL,
    RESOURCE_GROUP_COMBINATION,
)
"""Every table a record may target, facts first (the order of the Info Mart's Data Export set)."""
GSP_TABLES: tuple[TableSchema, ...] = tuple(t for t in TABLES if t.kind == "fact")
"""The tables GSP emits."""
