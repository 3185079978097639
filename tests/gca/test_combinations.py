"""RESOURCE_GROUP_COMBINATION against real PostgreSQL and S3: every set of agent groups an agent had is one
immutable combination, shared by agents with the same set, and the snapshot's dimension keys give each
person's combination over time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from gca_helpers import T0, T1, GcaEnv, db_rows

from gim_dagster.core.export.contract import Mark
from gim_dagster.core.export.writer import sources

COMBINATION = "resource_group_combination"


def _members(env: GcaEnv, tenant: str, at: datetime, memberships: dict[int, set[int]]) -> None:
    """Make each listed person a member of exactly the given agent groups, changed at ``at``."""
    with env.configdb(tenant).begin() as conn:
        for person, groups in memberships.items():
            conn.execute(
                sa.text(
                    "UPDATE cfg_group_member m SET state = 'deleted', updated_at = :at FROM cfg_group g "
                    "WHERE g.dbid = m.group_dbid AND g.group_type = 'agent' AND m.member_dbid = :p "
                    "AND m.state <> 'deleted' AND NOT m.group_dbid = ANY(:groups)"
                ),
                {"at": at, "p": person, "groups": sorted(groups)},
            )
            for group in groups:
                conn.execute(
                    sa.text(
                        "INSERT INTO cfg_group_member (group_dbid, member_dbid, created_at, updated_at) "
                        "VALUES (:g, :p, :at, :at) ON CONFLICT (group_dbid, member_dbid) DO UPDATE "
                        "SET state = 'enabled', updated_at = :at WHERE cfg_group_member.state <> 'enabled'"
                    ),
                    {"at": at, "p": person, "g": group},
                )


def _combinations(env: GcaEnv, tenant: str) -> dict[int, frozenset[int]]:
    """Combination key -> group DBIDs (without -1), with the audit keys checked against CTL_AUDIT_LOG."""
    rows = db_rows(
        env.infomart(tenant),
        f"SELECT c.resource_group_combination_key, g.group_cfg_dbid, c.create_audit_key, c.update_audit_key "
        f"FROM {COMBINATION} c JOIN group_ g USING (group_key) "
        "WHERE c.resource_group_combination_key > 0",
    )
    audits = {a for (a,) in db_rows(env.infomart(tenant), "SELECT audit_key FROM ctl_audit_log")}
    assert all(create == update and create in audits for _k, _g, create, update in rows)
    combinations: dict[int, set[int]] = {}
    for key, group, _c, _u in rows:
        combinations.setdefault(key, set()).add(group)
    return {key: frozenset(groups) for key, groups in combinations.items()}


def _pieces(env: GcaEnv, tenant: str) -> dict[int, list[tuple[int, int, int | None]]]:
    """Person DBID -> [(combination key, start, end)] from the latest snapshot's dimension keys."""
    pieces: dict[int, list[tuple[int, int, int | None]]] = {}
    for r in env.dimension_keys(tenant):
        if r["object_type"] == "group_combination":
            assert r["dim_table"] == COMBINATION
            pieces.setdefault(r["dbid"], []).append((r["dim_key"], r["start_ts"], r["end_ts"]))
    return pieces


def _audit_count(env: GcaEnv, tenant: str) -> int:
    return len(db_rows(env.infomart(tenant), "SELECT 1 FROM ctl_audit_log WHERE job_name = 'gca_snapshot'"))


def _group_key(env: GcaEnv, tenant: str, dbid: int) -> int:
    (key,) = db_rows(env.infomart(tenant), "SELECT group_key FROM group_ WHERE group_cfg_dbid = :d", d=dbid)
    return key[0]


def _exported(env: GcaEnv, tenant: str) -> list[tuple]:
    """(combination, group key) rows the export of the last transaction carries (window (previous, last])."""
    with env.infomart(tenant).connect() as conn:
        keys = conn.execute(sa.text("SELECT audit_key FROM ctl_audit_log ORDER BY audit_key")).scalars().all()
        (source,) = (s for s in sources(conn, use_views=False) if s.table == COMBINATION)
        window = (Mark(keys[-2], 0), Mark(keys[-1], 0))
        return sorted(tuple(r[:2]) for r in conn.execute(sa.text(source.select(window))))


def _sync(env: GcaEnv, tenant: str, **kwargs: Any) -> None:
    assert env.materialize(tenant, **kwargs).success


def test_group_combinations_are_shared_immutable_and_follow_moves(gca_env: GcaEnv) -> None:
    a, _b = gca_env.tenants
    gca_env.seed(a, agents=5)
    config = gca_env.configdb(a)
    ga, gb, gc = (
        dbid
        for (dbid,) in db_rows(config, "SELECT dbid FROM cfg_group WHERE group_type = 'agent' ORDER BY dbid")
    )
    p1, p2, p3, p4, p5 = (
        dbid for (dbid,) in db_rows(config, "SELECT dbid FROM cfg_person WHERE is_agent ORDER BY dbid")
    )
    _members(gca_env, a, T0, {p1: {ga, gb}, p2: {ga, gb}, p3: set(), p4: {gc}, p5: {gc}})
    _sync(gca_env, a)
    t0, t1 = int(T0.timestamp()), int(T1.timestamp())

    # {A, B} is one combination of exactly two rows, shared by both agents; keys in sorted-set order
    combinations = _combinations(gca_env, a)
    assert combinations == {1: frozenset({ga, gb}), 2: frozenset({gc})}
    assert db_rows(gca_env.infomart(a), f"SELECT count(*) FROM {COMBINATION}") == [(4,)]  # with -1
    assert db_rows(
        gca_env.infomart(a), f"SELECT group_key FROM {COMBINATION} WHERE resource_group_combination_key = -1"
    ) == [(-1,)]
    pieces = _pieces(gca_env, a)
    assert pieces == {p1: [(1, t0, None)], p2: [(1, t0, None)], p4: [(2, t0, None)], p5: [(2, t0, None)]}
    assert p3 not in pieces  # in no group: no combination, the consumer uses -1

    # a re-sync (incremental and full) writes nothing and leaves no audit row
    audits = _audit_count(gca_env, a)
    _sync(gca_env, a, full=True)
    assert _audit_count(gca_env, a) == audits and _combinations(gca_env, a) == combinations

    # at T1: p1 moves to {A} (a new combination), p4 leaves every group, p2 is renamed (a new RESOURCE_KEY in
    # the same groups: still one piece)
    _members(gca_env, a, T1, {p1: {ga}, p4: set()})
    with config.begin() as conn:
        conn.execute(
            sa.text("UPDATE cfg_person SET last_name = 'Renamed', updated_at = :at WHERE dbid = :p"),
            {"at": T1, "p": p2},
        )
    _sync(gca_env, a)
    assert _combinations(gca_env, a) == {**combinations, 3: frozenset({ga})}
    assert _exported(gca_env, a) == [(3, _group_key(gca_env, a, ga))]  # the new combination is exported
    assert (
        len(db_rows(gca_env.infomart(a), "SELECT 1 FROM resource_ WHERE resource_cfg_dbid = :p", p=p2)) == 2
    )
    assert _pieces(gca_env, a) == {
        p1: [(1, t0, t1), (3, t1, None)],
        p2: [(1, t0, None)],
        p4: [(2, t0, t1), (-1, t1, None)],  # left every group: the newest piece says so
        p5: [(2, t0, None)],
    }
    audits = _audit_count(gca_env, a)
    _sync(gca_env, a, full=True)
    assert _audit_count(gca_env, a) == audits

    # back to {A, B}: the old combination again, no new key
    _members(gca_env, a, datetime(2026, 3, 2, 10, 0, tzinfo=T1.tzinfo), {p1: {ga, gb}})
    _sync(gca_env, a)
    t2 = int(datetime(2026, 3, 2, 10, 0, tzinfo=T1.tzinfo).timestamp())
    assert _combinations(gca_env, a) == {**combinations, 3: frozenset({ga})}
    assert _pieces(gca_env, a)[p1] == [(1, t0, t1), (3, t1, t2), (1, t2, None)]
