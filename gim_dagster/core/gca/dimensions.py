"""Dimension sync: a snapshot into the tenant's Info Mart configuration dimensions, with history.

One transaction per sync, stamped with one CTL_AUDIT_LOG key (``begin_audit``/``finish_audit``: a sync that
changes nothing leaves no audit row and writes no row). The whole snapshot is staged with COPY into temporary
tables and compared set-based, so a sync is idempotent and self-healing: running it twice writes nothing the
second time, and a full reconcile repairs anything a crashed run left out.

History, the Info Mart way:

* ``RESOURCE_`` (agents; ACD queues, virtual queues and routing points), ``GROUP_`` (agent and place groups),
  ``PLACE``, ``SKILL`` and ``RESOURCE_STATE_REASON`` (not-ready reason codes) are versioned: a version is a
  row
  with its own surrogate key, valid from ``START_TS`` to ``END_TS`` (null while current). When a versioned
  attribute changes, the current row is closed at the time of the change (the object's ``updated_at`` in the
  Configuration DB) and a new row, with a new key, opens at the same time. A deleted object's current row is
  closed, never removed. A new object's first row starts at its creation time. The natural key is the
  configuration object (``*_CFG_TYPE_ID`` and ``*_CFG_DBID``; for reasons the reason code itself).
* ``RESOURCE_GROUP_FACT_`` and ``RESOURCE_SKILL_FACT_`` hold one row per (resource version, group version) and
  (resource version, skill version, level), from ``START_TS`` to ``END_TS``: moving an agent, changing a
  level, renaming the agent or the group closes the affected rows and opens new ones at the time of the
  change.
* ``RESOURCE_GROUP_COMBINATION`` holds one row per (combination, ``GROUP_`` key): a combination is a set of
  group versions some agent belonged to at once. A person's membership history (their
  ``RESOURCE_GROUP_FACT_`` rows over all their resource versions) is cut at every ``START_TS`` and
  ``END_TS``; the set of group keys active in each piece is one combination. Every non-empty set ever seen
  is registered; the empty set is the seeded combination -1 (``NO_GROUP_COMBINATION_KEY``). Combinations
  are immutable (same key, same set, forever) and never removed; a renamed group (a new ``GROUP_`` key)
  makes new combinations.
* ``TENANT`` is the one row ``TENANT_KEY = 1`` (see ``static_keys``), updated in place.

Surrogate keys are assigned as ``max(key) + row_number()`` in natural-key order under the audit lock (the only
writer of these tables is this sync), so they are stable and a re-run after a crash assigns the same keys a
clean run would have (new combinations: in the order of their sorted arrays of group keys). Keys -1
(unknown; no group combination) are seeded by the migration and never touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from gim_dagster.core.facts.static_keys import NO_GROUP_COMBINATION_KEY, TENANT_KEY
from gim_dagster.core.gca.model import Row
from gim_dagster.core.gca.validate import Violation
from gim_dagster.core.infomart.audit import AuditStats, begin_audit, finish_audit

JOB_NAME = "gca_snapshot"
CFG_TYPE = {
    "switch": 1,
    "dn": 2,
    "person": 3,
    "place": 4,
    "agent_group": 5,
    "place_group": 6,
    "tenant": 7,
    "skill": 13,
}
"""Configuration object type ids (``*_CFG_TYPE_ID``), as a configuration server numbers them."""
QUEUE_DN_TYPES = {
    "acd_queue": ("Queue", "QUEUE", "ACDQueue"),
    "virtual_queue": ("Queue", "QUEUE", "VirtualQueue"),
    "routing_point": ("RoutingPoint", "ROUTINGPOINT", "RoutingPoint"),
}
REASON_KEY = "ReasonCode"
"""``SOFTWARE_REASON_KEY`` of not-ready reasons: the key under which agent desktops send the reason code."""
INTERVAL = 900


@dataclass(frozen=True)
class _Dim:
    table: str
    key: str
    natural: tuple[str, ...]
    attributes: tuple[str, ...]


RESOURCE = _Dim(
    "resource_",
    "resource_key",
    ("resource_cfg_type_id", "resource_cfg_dbid"),
    (
        "resource_type",
        "resource_type_code",
        "resource_subtype",
        "resource_name",
        "agent_first_name",
        "agent_last_name",
        "employee_id",
        "switch_name",
    ),
)
GROUP = _Dim(
    "group_",
    "group_key",
    ("group_cfg_dbid",),
    ("group_name", "group_cfg_type_id", "group_type", "group_type_code"),
)
PLACE = _Dim("place", "place_key", ("place_cfg_dbid",), ("place_name",))
SKILL = _Dim("skill", "skill_key", ("skill_cfg_dbid",), ("skill_name",))
REASON = _Dim(
    "resource_state_reason",
    "resource_state_reason_key",
    ("reason_type_code", "software_reason_key", "software_reason_value"),
    ("reason_type", "workmode", "workmode_code"),
)


@dataclass(frozen=True)
class DimensionSync:
    rows: dict[str, int]
    """Rows inserted or updated per Info Mart table."""
    audit_key: int | None
    """CTL_AUDIT_LOG key of the sync, None when it wrote nothing."""


# ---- staging rows from the snapshot
# -------------------------------------------------------------------------


def _valid(tables: dict[str, pa.Table], invalid: dict[str, set[int]], object_type: str) -> list[Row]:
    return [r for r in tables[object_type].to_pylist() if r["dbid"] not in invalid.get(object_type, set())]


def _action(row: Row) -> str:
    """``live``: keep a current version; ``deleted``: close it (or record a closed one).

    (``gone``, set by callers: close a current version, never record one; e.g. a person who is no agent.)
    """
    return "deleted" if row["state"] == "deleted" else "live"


def _times(row: Row) -> dict[str, Any]:
    return {"action": _action(row), "created_ts": row["created_ts"], "changed_ts": row["changed_ts"]}


def _resource_rows(tables: dict[str, pa.Table], invalid: dict[str, set[int]]) -> list[dict[str, Any]]:
    switches = {r["dbid"]: r["name"] for r in tables["switch"].to_pylist()}
    rows = []
    for p in _valid(tables, invalid, "person"):
        times = _times(p) if p["is_agent"] else {**_times(p), "action": "gone"}
        rows.append(
            {
                "resource_cfg_type_id": CFG_TYPE["person"],
                "resource_cfg_dbid": p["dbid"],
                "resource_type": "Agent",
                "resource_type_code": "AGENT",
                "resource_subtype": "Agent",
                "resource_name": p["user_name"],
                "agent_first_name": p["first_name"],
                "agent_last_name": p["last_name"],
                "employee_id": p["employee_id"],
                "switch_name": None,
                **times,
            }
        )
    for d in _valid(tables, invalid, "dn"):
        kind = QUEUE_DN_TYPES.get(d["dn_type"], ("", "", ""))
        times = _times(d) if d["dn_type"] in QUEUE_DN_TYPES else {**_times(d), "action": "gone"}
        rows.append(
            {
                "resource_cfg_type_id": CFG_TYPE["dn"],
                "resource_cfg_dbid": d["dbid"],
                "resource_type": kind[0],
                "resource_type_code": kind[1],
                "resource_subtype": kind[2],
                "resource_name": d["number"],
                "agent_first_name": None,
                "agent_last_name": None,
                "employee_id": None,
                "switch_name": switches.get(d["switch_dbid"]),
                **times,
            }
        )
    return rows


def _group_rows(tables: dict[str, pa.Table], invalid: dict[str, set[int]]) -> list[dict[str, Any]]:
    return [
        {
            "group_cfg_dbid": g["dbid"],
            "group_name": g["name"],
            "group_cfg_type_id": CFG_TYPE[f"{g['group_type']}_group"],
            "group_type": g["group_type"].title(),
            "group_type_code": g["group_type"].upper(),
            **_times(g),
        }
        for g in _valid(tables, invalid, "group")
    ]


def _reason_rows(tables: dict[str, pa.Table], invalid: dict[str, set[int]]) -> list[dict[str, Any]]:
    """One row per reason code (several configuration values with one code are one reason)."""
    by_code: dict[str, dict[str, Any]] = {}
    for v in _valid(tables, invalid, "attribute_value"):
        if v["attribute"] != "not_ready_reason":
            continue
        row = {
            "reason_type_code": "SOFTWARE",
            "software_reason_key": REASON_KEY,
            "software_reason_value": v["name"],
            "reason_type": "Software",
            "workmode": "Unknown",
            "workmode_code": "UNKNOWN",
            **_times(v),
        }
        seen = by_code.get(v["name"])
        if seen is not None:
            row["action"] = "live" if "live" in (seen["action"], row["action"]) else "deleted"
            row["created_ts"] = min(seen["created_ts"], row["created_ts"])
            row["changed_ts"] = max(seen["changed_ts"], row["changed_ts"])
        by_code[v["name"]] = row
    return list(by_code.values())


def _relation_rows(
    tables: dict[str, pa.Table], invalid: dict[str, set[int]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    agent_groups = {g["dbid"] for g in tables["group"].to_pylist() if g["group_type"] == "agent"}
    members = [
        {
            "person_dbid": m["member_dbid"],
            "group_dbid": m["group_dbid"],
            "deleted": m["state"] == "deleted",
            "changed_ts": m["changed_ts"],
        }
        for m in _valid(tables, invalid, "group_member")
        if m["group_dbid"] in agent_groups
    ]
    levels = [
        {
            "person_dbid": s["person_dbid"],
            "skill_dbid": s["skill_dbid"],
            "skill_level": s["level"],
            "deleted": s["state"] == "deleted",
            "changed_ts": s["changed_ts"],
        }
        for s in _valid(tables, invalid, "skill_level")
    ]
    return members, levels


# ---- SQL
# ----------------------------------------------------------------------------------------------------


def _stage(
    conn: sa.Connection, name: str, columns: Sequence[tuple[str, str]], rows: Iterable[dict[str, Any]]
) -> None:
    """A temporary table dropped at commit, filled with COPY."""
    conn.execute(
        sa.text(f"CREATE TEMP TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns)}) ON COMMIT DROP")
    )
    names = [c for c, _t in columns]
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in names])


def _stage_dim(conn: sa.Connection, dim: _Dim, rows: list[dict[str, Any]]) -> str:
    name = f"stg_{dim.table.rstrip('_')}"
    columns = [
        *(
            (c, "integer" if c.endswith(("_cfg_type_id", "_cfg_dbid")) else "text")
            for c in (*dim.natural, *dim.attributes)
        ),
        ("action", "text"),
        ("created_ts", "bigint"),
        ("changed_ts", "bigint"),
    ]
    _stage(conn, name, columns, rows)
    return name


def _scd2(conn: sa.Connection, dim: _Dim, stg: str, audit_key: int) -> int:
    """Close current versions that changed or went; open versions for new and changed objects."""
    on = " AND ".join(f"d.{c} = s.{c}" for c in dim.natural)
    d_attrs = ", ".join(f"d.{c}" for c in dim.attributes)
    s_attrs = ", ".join(f"s.{c}" for c in dim.attributes)
    closed = conn.execute(
        sa.text(
            f"UPDATE {dim.table} d SET end_ts = greatest(s.changed_ts, d.start_ts), update_audit_key = :a "
            f"FROM {stg} s WHERE {on} AND d.end_ts IS NULL AND d.{dim.key} > 0 "
            f"AND (s.action <> 'live' OR ROW({d_attrs}) IS DISTINCT FROM ROW({s_attrs}))"
        ),
        {"a": audit_key},
    ).rowcount
    cols = ", ".join((*dim.natural, *dim.attributes))
    s_cols = ", ".join(f"s.{c}" for c in (*dim.natural, *dim.attributes))
    order = ", ".join(f"s.{c}" for c in dim.natural)
    opened = conn.execute(
        sa.text(
            f"INSERT INTO {dim.table} ({dim.key}, tenant_key, {cols}, start_ts, end_ts, create_audit_key, "
            "update_audit_key) "
            f"SELECT (SELECT greatest(max({dim.key}), 0) FROM {dim.table}) + row_number() OVER (ORDER BY "
            f"{order}), "
            f":tenant, {s_cols}, "
            f"CASE WHEN EXISTS (SELECT 1 FROM {dim.table} d WHERE {on}) THEN s.changed_ts ELSE "
            f"s.created_ts END, "
            "CASE WHEN s.action = 'deleted' THEN greatest(s.changed_ts, s.created_ts) END, :a, :a "
            f"FROM {stg} s WHERE "
            f"(s.action = 'live' AND NOT EXISTS (SELECT 1 FROM {dim.table} d WHERE {on} AND d.end_ts IS "
            f"NULL)) "
            f"OR (s.action = 'deleted' AND NOT EXISTS (SELECT 1 FROM {dim.table} d WHERE {on}))"
        ),
        {"a": audit_key, "tenant": TENANT_KEY},
    ).rowcount
    return closed + opened


@dataclass(frozen=True)
class _Relation:
    table: str
    other_key: str
    other_dim: str
    other_cfg: str
    stg_other: str
    extra: tuple[str, ...]  # versioned attributes of the relation (skill_level)


GROUP_FACT = _Relation("resource_group_fact_", "group_key", "group_", "group_cfg_dbid", "group_dbid", ())
SKILL_FACT = _Relation(
    "resource_skill_fact_", "skill_key", "skill", "skill_cfg_dbid", "skill_dbid", ("skill_level",)
)


def _sync_relation(conn: sa.Connection, rel: _Relation, stg: str, audit_key: int, as_of: int) -> int:
    """Open rows for wanted (resource version, other version[, level]); close open rows no longer wanted."""
    want = f"want_{rel.table.rstrip('_')}"
    extra_s = "".join(f", s.{c}" for c in rel.extra)
    conn.execute(
        sa.text(
            f"CREATE TEMP TABLE {want} ON COMMIT DROP AS "
            f"SELECT r.resource_key, o.{rel.other_key}{extra_s}, greatest(s.changed_ts, r.start_ts, "
            f"o.start_ts) AS since "
            f"FROM {stg} s "
            "JOIN resource_ r ON r.resource_cfg_type_id = :person AND r.resource_cfg_dbid = s.person_dbid "
            "AND r.end_ts IS NULL "
            f"JOIN {rel.other_dim} o ON o.{rel.other_cfg} = s.{rel.stg_other} AND o.end_ts IS NULL "
            "WHERE NOT s.deleted"
        ),
        {"person": CFG_TYPE["person"]},
    )
    match = " AND ".join(f"w.{c} = f.{c}" for c in ("resource_key", rel.other_key, *rel.extra))
    closed = conn.execute(
        sa.text(
            f"UPDATE {rel.table} f SET end_ts = x.end_ts, end_date_time_key = x.end_ts - x.end_ts % "
            f"{INTERVAL}, "
            "active_flag = 0, update_audit_key = :a FROM ("
            f"  SELECT f.resource_key, f.{rel.other_key}, f.start_ts, greatest(f.start_ts, coalesce(greatest("
            f"    (SELECT max(s.changed_ts) FROM {stg} s WHERE s.person_dbid = r.resource_cfg_dbid "
            f"     AND s.{rel.stg_other} = o.{rel.other_cfg}), r.end_ts, o.end_ts), :as_of)) AS end_ts "
            f"  FROM {rel.table} f JOIN resource_ r USING (resource_key) JOIN {rel.other_dim} o USING "
            f"({rel.other_key}) "
            f"  WHERE f.end_ts IS NULL AND NOT EXISTS (SELECT 1 FROM {want} w WHERE {match})) x "
            f"WHERE f.resource_key = x.resource_key AND f.{rel.other_key} = x.{rel.other_key} AND "
            f"f.start_ts = x.start_ts"
        ),
        {"a": audit_key, "as_of": as_of},
    ).rowcount
    extra_cols = "".join(f", {c}" for c in rel.extra)
    extra_w = "".join(f", w.{c}" for c in rel.extra)
    extra_set = "".join(f", {c} = EXCLUDED.{c}" for c in rel.extra)
    opened = conn.execute(
        sa.text(
            f"INSERT INTO {rel.table} (resource_key, {rel.other_key}, tenant_key{extra_cols}, "
            f"start_date_time_key, "
            "start_ts, active_flag, create_audit_key, update_audit_key) "
            f"SELECT w.resource_key, w.{rel.other_key}, :tenant{extra_w}, w.since - w.since % {INTERVAL}, "
            f"w.since, 1, "
            f":a, :a FROM {want} w "
            f"WHERE NOT EXISTS (SELECT 1 FROM {rel.table} f WHERE {match} AND f.end_ts IS NULL) "
            f"ON CONFLICT (resource_key, {rel.other_key}, start_ts) DO UPDATE SET end_ts = NULL, "
            f"end_date_time_key = NULL, active_flag = 1, update_audit_key = :a{extra_set}"
        ),
        {"a": audit_key, "tenant": TENANT_KEY},
    ).rowcount
    return closed + opened


COMBINATION_TABLE = "resource_group_combination"
_COMBINATION_PIECES = f"""
m AS (
    SELECT r.resource_cfg_dbid AS person, f.group_key, f.start_ts, f.end_ts
    FROM resource_group_fact_ f JOIN resource_ r USING (resource_key)
    WHERE r.resource_cfg_type_id = {CFG_TYPE["person"]} AND f.group_key > 0
      AND f.end_ts IS DISTINCT FROM f.start_ts
), cuts AS (
    SELECT person, start_ts AS ts FROM m UNION SELECT person, end_ts FROM m WHERE end_ts IS NOT NULL
), spans AS (
    SELECT person, ts AS start_ts, lead(ts) OVER (PARTITION BY person ORDER BY ts) AS end_ts FROM cuts
), pieces AS (
    SELECT s.person, s.start_ts, s.end_ts,
           coalesce(array_agg(DISTINCT m.group_key ORDER BY m.group_key)
                    FILTER (WHERE m.group_key IS NOT NULL), '{{}}') AS groups
    FROM spans s LEFT JOIN m ON m.person = s.person AND m.start_ts <= s.start_ts
                              AND (m.end_ts IS NULL OR m.end_ts > s.start_ts)
    GROUP BY s.person, s.start_ts, s.end_ts
), combinations AS (
    SELECT resource_group_combination_key AS key, array_agg(group_key ORDER BY group_key) AS groups
    FROM {COMBINATION_TABLE} WHERE resource_group_combination_key > 0 GROUP BY resource_group_combination_key
)"""
"""CTEs ``pieces`` (person DBID, start, end or null, sorted group keys: one row per piece of each person's
membership history, from their first membership on) and ``combinations`` (key, sorted group keys)."""


def _sync_combinations(conn: sa.Connection, audit_key: int) -> int:
    """Register every set of group keys an agent has had (see the module docstring); return rows inserted."""
    return conn.execute(
        sa.text(
            f"WITH {_COMBINATION_PIECES}, new AS ("
            f"  SELECT (SELECT greatest(max(resource_group_combination_key), 0) FROM {COMBINATION_TABLE})"
            "    + row_number() OVER (ORDER BY groups) AS key, groups FROM ("
            "    SELECT groups FROM pieces WHERE cardinality(groups) > 0 "
            "    EXCEPT SELECT groups FROM combinations) s) "
            f"INSERT INTO {COMBINATION_TABLE} (resource_group_combination_key, group_key, tenant_key, "
            "create_audit_key, update_audit_key) "
            "SELECT new.key, g.group_key, :tenant, :a, :a FROM new, unnest(new.groups) AS g(group_key)"
        ),
        {"a": audit_key, "tenant": TENANT_KEY},
    ).rowcount


def _sync_tenant(conn: sa.Connection, tenant: Row | None, audit_key: int) -> int:
    if tenant is None:
        return 0
    return conn.execute(
        sa.text(
            "INSERT INTO tenant (tenant_key, tenant_name, tenant_cfg_dbid, start_ts, end_ts, "
            "create_audit_key, "
            "update_audit_key) VALUES (:k, :name, :dbid, :start, :end, :a, :a) "
            "ON CONFLICT (tenant_key) DO UPDATE SET tenant_name = EXCLUDED.tenant_name, "
            "tenant_cfg_dbid = EXCLUDED.tenant_cfg_dbid, end_ts = EXCLUDED.end_ts, update_audit_key = :a "
            "WHERE (tenant.tenant_name, tenant.tenant_cfg_dbid, tenant.end_ts) IS DISTINCT FROM "
            "(EXCLUDED.tenant_name, EXCLUDED.tenant_cfg_dbid, EXCLUDED.end_ts)"
        ),
        {
            "k": TENANT_KEY,
            "name": tenant["name"],
            "dbid": tenant["dbid"],
            "start": tenant["created_ts"],
            "end": tenant["changed_ts"] if tenant["state"] == "deleted" else None,
            "a": audit_key,
        },
    ).rowcount


def sync_dimensions(
    engine: sa.Engine,
    tables: dict[str, pa.Table],
    violations: list[Violation],
    *,
    job_id: str,
    as_of: int,
) -> DimensionSync:
    """Bring the configuration dimensions in line with the snapshot ``tables`` (one audited transaction).

    ``as_of`` (UTC seconds) closes relation rows whose end has no better time (an object that vanished).
    """
    invalid: dict[str, set[int]] = {}
    for v in violations:
        invalid.setdefault(v.object_type, set()).add(v.dbid)
    members, levels = _relation_rows(tables, invalid)
    staged = {
        RESOURCE: _resource_rows(tables, invalid),
        GROUP: _group_rows(tables, invalid),
        PLACE: [
            {"place_cfg_dbid": p["dbid"], "place_name": p["name"], **_times(p)}
            for p in _valid(tables, invalid, "place")
        ],
        SKILL: [
            {"skill_cfg_dbid": s["dbid"], "skill_name": s["name"], **_times(s)}
            for s in _valid(tables, invalid, "skill")
        ],
        REASON: _reason_rows(tables, invalid),
    }
    tenants = _valid(tables, invalid, "tenant")
    rows: dict[str, int] = {}
    with engine.begin() as conn:
        audit_key = begin_audit(conn, job_id=job_id, job_name=JOB_NAME)
        rows["tenant"] = _sync_tenant(conn, tenants[0] if tenants else None, audit_key)
        for dim, dim_rows in staged.items():
            rows[dim.table] = _scd2(conn, dim, _stage_dim(conn, dim, dim_rows), audit_key)
        relation_columns = [("person_dbid", "integer"), ("deleted", "boolean"), ("changed_ts", "bigint")]
        _stage(conn, "stg_member", [*relation_columns, ("group_dbid", "integer")], members)
        _stage(
            conn,
            "stg_skill_level",
            [*relation_columns, ("skill_dbid", "integer"), ("skill_level", "integer")],
            levels,
        )
        rows[GROUP_FACT.table] = _sync_relation(conn, GROUP_FACT, "stg_member", audit_key, as_of)
        rows[SKILL_FACT.table] = _sync_relation(conn, SKILL_FACT, "stg_skill_level", audit_key, as_of)
        rows[COMBINATION_TABLE] = _sync_combinations(conn, audit_key)
        total = sum(rows.values())
        finish_audit(conn, audit_key, AuditStats(row_count=total))
    return DimensionSync(rows=rows, audit_key=audit_key if total else None)


# ---- keys for consumers
# -------------------------------------------------------------------------------------

KEYS_SCHEMA = pa.schema(
    [
        ("object_type", pa.string()),
        ("dbid", pa.int64()),
        ("dim_table", pa.string()),
        ("dim_key", pa.int64()),
        ("start_ts", pa.int64()),
        ("end_ts", pa.int64()),
        ("name", pa.string()),
    ]
)
_KEYS_SQL = f"""
SELECT CASE resource_cfg_type_id WHEN {CFG_TYPE["person"]} THEN 'person' ELSE 'dn' END, resource_cfg_dbid,
       'resource_', resource_key, start_ts, end_ts,
       CASE resource_cfg_type_id WHEN {CFG_TYPE["person"]} THEN employee_id ELSE resource_name END
FROM resource_ WHERE resource_key > 0
UNION ALL SELECT 'group', group_cfg_dbid, 'group_', group_key, start_ts, end_ts, group_name FROM group_
WHERE group_key > 0
UNION ALL SELECT 'place', place_cfg_dbid, 'place', place_key, start_ts, end_ts, place_name FROM place
WHERE place_key > 0
UNION ALL SELECT 'skill', skill_cfg_dbid, 'skill', skill_key, start_ts, end_ts, skill_name FROM skill
WHERE skill_key > 0
UNION ALL SELECT 'tenant', tenant_cfg_dbid, 'tenant', tenant_key, start_ts, end_ts, tenant_name FROM tenant
"""
_REASON_KEYS_SQL = """
SELECT software_reason_value, resource_state_reason_key, start_ts, end_ts FROM resource_state_reason
WHERE resource_state_reason_key > 0 AND reason_type_code = 'SOFTWARE' AND software_reason_key = :k
"""

_COMBINATION_KEYS_SQL = f"""
WITH {_COMBINATION_PIECES}
SELECT p.person, coalesce(c.key, {NO_GROUP_COMBINATION_KEY}), p.start_ts, p.end_ts
FROM pieces p LEFT JOIN (SELECT groups, min(key) AS key FROM combinations GROUP BY groups) c USING (groups)
ORDER BY p.person, p.start_ts
"""


def _combination_keys(pieces: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Key rows of the pieces (person, key, start, end), ordered by person and start.

    Adjacent pieces with the same key (e.g. around a rename, a new RESOURCE_KEY in the same groups) are one.
    """
    rows: list[dict[str, Any]] = []
    for person, key, start, end in pieces:
        last = rows[-1] if rows else None
        if last and last["dbid"] == person and last["dim_key"] == key and last["end_ts"] == start:
            last["end_ts"] = end
            continue
        rows.append(
            {
                "object_type": "group_combination",
                "dbid": person,
                "dim_table": COMBINATION_TABLE,
                "dim_key": key,
                "start_ts": start,
                "end_ts": end,
                "name": None,
            }
        )
    return rows


def dimension_keys(engine: sa.Engine, tables: dict[str, pa.Table]) -> pa.Table:
    """Every version's key per configuration object: (object type, DBID) -> dimension table, key, validity.

    Not-ready reasons have no DBID in the Info Mart: their versions are listed under each ``attribute_value``
    DBID that carries the code.

    Group combinations are listed per ``person`` DBID (``object_type = 'group_combination'``, ``dim_table =
    'resource_group_combination'``): one row per time piece in which the person belonged to one set of agent
    groups, from the person's first membership on, ``end_ts`` null while current; adjacent pieces with the
    same combination are merged. A piece in no group (after the agent left every group, or left the company)
    is listed with key -1 (``NO_GROUP_COMBINATION_KEY``), so that a consumer taking the newest piece does not
    keep a stale combination; a person never in a group has no row (the consumer falls back to -1).

    ``name`` is the name events carry for the object as that version had it (an agent's employee id, a queue
    DN's number, a place's, group's, skill's or tenant's name, a reason's code; none for a combination), so a
    consumer can resolve a name the object no longer has.
    """
    with engine.connect() as conn:
        rows = [dict(zip(KEYS_SCHEMA.names, r, strict=True)) for r in conn.execute(sa.text(_KEYS_SQL))]
        reasons = conn.execute(sa.text(_REASON_KEYS_SQL), {"k": REASON_KEY}).all()
        rows += _combination_keys(conn.execute(sa.text(_COMBINATION_KEYS_SQL)))
    by_code: dict[str, list[tuple[int, int, int | None]]] = {}
    for code, key, start, end in reasons:
        by_code.setdefault(code, []).append((key, start, end))
    for v in tables["attribute_value"].to_pylist():
        if v["attribute"] == "not_ready_reason":
            code = v["name"]
            for key, start, end in by_code.get(code, []):
                rows.append(
                    {
                        "object_type": "attribute_value",
                        "dbid": v["dbid"],
                        "dim_table": "resource_state_reason",
                        "dim_key": key,
                        "start_ts": start,
                        "end_ts": end,
                        "name": code,
                    }
                )
    rows.sort(key=lambda r: (r["object_type"], r["dbid"], r["start_ts"] or 0, r["dim_key"]))
    return pa.Table.from_pylist(rows, schema=KEYS_SCHEMA)
