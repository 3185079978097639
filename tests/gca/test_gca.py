"""gca_snapshot against real PostgreSQL, Kafka and S3: snapshot, topic and dimensions match the
Configuration DB, only changes are published, history is kept, tenants are isolated, a crashed run re-runs
to the clean result."""

from __future__ import annotations

import io
from typing import Any

import pyarrow.parquet as pq
import sqlalchemy as sa
from confluent_kafka import Producer
from gca_helpers import T0, T1, GcaEnv, db_rows, latest

from gim_dagster.core.configdb.seed import mutate_config
from gim_dagster.core.gca.model import OBJECT_TYPES
from gim_dagster.core.gca.reader import read_config
from gim_dagster.resources import KafkaResource
from gim_dagster.stack import S3_BUCKET

EXTRA = ("object_type", "tenant", "op", "snapshot_id", "dim")
AUDITED_DIMS = (
    "resource_",
    "group_",
    "place",
    "skill",
    "resource_state_reason",
    "resource_group_combination",
)
"""Dimension tables whose rows end with (create_audit_key, update_audit_key)."""


def _meta(result: Any) -> dict[str, Any]:
    (mat,) = result.asset_materializations_for_node("gca_snapshot")
    return {k: v.value for k, v in mat.metadata.items()}


def _config(env: GcaEnv, tenant: str) -> dict[str, dict[int, dict[str, Any]]]:
    read = read_config(env.configdb(tenant), tenant=tenant)
    return {t: {r["dbid"]: r for r in read.tables[t].to_pylist()} for t in OBJECT_TYPES}


def _snapshot(env: GcaEnv, tenant: str) -> dict[str, dict[int, dict[str, Any]]]:
    marker = env.marker(tenant)
    s3 = env.s3()
    tables = {}
    for t in OBJECT_TYPES:
        body = s3.get_object(Bucket=S3_BUCKET, Key=f"{marker['snapshot_prefix']}/{t}.parquet")["Body"].read()
        tables[t] = {r["dbid"]: r for r in pq.read_table(io.BytesIO(body)).to_pylist()}
    return tables


def _topic_objects(env: GcaEnv, tenant: str) -> dict[str, dict[int, dict[str, Any]]]:
    objects: dict[str, dict[int, dict[str, Any]]] = {t: {} for t in OBJECT_TYPES}
    for key, value in latest(env.topic(tenant)).items():
        object_type, dbid = key.split(":")
        assert (
            value["object_type"] == object_type and value["dbid"] == int(dbid) and value["tenant"] == tenant
        )
        objects[object_type][int(dbid)] = {k: v for k, v in value.items() if k not in EXTRA}
    return objects


def _current_dims(env: GcaEnv, tenant: str) -> dict[str, set[tuple]]:
    engine = env.infomart(tenant)
    return {
        "agents": set(
            db_rows(
                engine,
                "SELECT resource_cfg_dbid, resource_name, agent_first_name, agent_last_name, "
                "employee_id FROM resource_ WHERE resource_type_code = 'AGENT' AND end_ts IS NULL",
            )
        ),
        "queues": set(
            db_rows(
                engine,
                "SELECT resource_cfg_dbid, resource_name, resource_subtype FROM resource_ "
                "WHERE resource_type_code IN ('QUEUE', 'ROUTINGPOINT') AND end_ts IS NULL",
            )
        ),
        "places": set(
            db_rows(
                engine, "SELECT place_cfg_dbid, place_name FROM place WHERE place_key > 0 AND end_ts IS NULL"
            )
        ),
        "groups": set(
            db_rows(
                engine,
                "SELECT group_cfg_dbid, group_name, group_type_code FROM group_ "
                "WHERE group_key > 0 AND end_ts IS NULL",
            )
        ),
        "skills": set(
            db_rows(
                engine, "SELECT skill_cfg_dbid, skill_name FROM skill WHERE skill_key > 0 AND end_ts IS NULL"
            )
        ),
        "reasons": set(
            db_rows(
                engine,
                "SELECT software_reason_value FROM resource_state_reason "
                "WHERE resource_state_reason_key > 0 AND end_ts IS NULL",
            )
        ),
        "members": set(
            db_rows(
                engine,
                "SELECT r.resource_cfg_dbid, g.group_cfg_dbid FROM resource_group_fact_ f "
                "JOIN resource_ r USING (resource_key) JOIN group_ g USING (group_key) WHERE f.end_ts IS "
                "NULL",
            )
        ),
        "levels": set(
            db_rows(
                engine,
                "SELECT r.resource_cfg_dbid, s.skill_cfg_dbid, f.skill_level FROM resource_skill_fact_ f "
                "JOIN resource_ r USING (resource_key) JOIN skill s USING (skill_key) WHERE f.end_ts IS NULL",
            )
        ),
        "tenant": set(db_rows(engine, "SELECT tenant_key, tenant_name FROM tenant")),
        "combinations": _current_combinations(env, tenant),
    }


def _current_combinations(env: GcaEnv, tenant: str) -> set[tuple]:
    """(person, group DBIDs) of every open group-combination piece of the latest snapshot's keys."""
    groups: dict[int, set[int]] = {}
    for key, dbid in db_rows(
        env.infomart(tenant),
        "SELECT c.resource_group_combination_key, g.group_cfg_dbid FROM resource_group_combination c "
        "JOIN group_ g USING (group_key) WHERE c.resource_group_combination_key > 0",
    ):
        groups.setdefault(key, set()).add(dbid)
    return {
        (r["dbid"], frozenset(groups[r["dim_key"]]))
        for r in env.dimension_keys(tenant)
        if r["object_type"] == "group_combination" and r["end_ts"] is None and r["dim_key"] > 0
    }


def _expected_dims(config: dict[str, dict[int, dict[str, Any]]], tenant: str) -> dict[str, set[tuple]]:
    def live(t: str) -> list[dict[str, Any]]:
        return [r for r in config[t].values() if r["state"] != "deleted"]

    subtypes = {"acd_queue": "ACDQueue", "virtual_queue": "VirtualQueue", "routing_point": "RoutingPoint"}
    agents = {p["dbid"] for p in live("person") if p["is_agent"]}
    agent_groups = {g["dbid"] for g in live("group") if g["group_type"] == "agent"}
    members = {
        (m["member_dbid"], m["group_dbid"])
        for m in live("group_member")
        if m["group_dbid"] in agent_groups and m["member_dbid"] in agents
    }
    return {
        "agents": {
            (p["dbid"], p["user_name"], p["first_name"], p["last_name"], p["employee_id"])
            for p in live("person")
            if p["is_agent"]
        },
        "queues": {
            (d["dbid"], d["number"], subtypes[d["dn_type"]]) for d in live("dn") if d["dn_type"] in subtypes
        },
        "places": {(p["dbid"], p["name"]) for p in live("place")},
        "groups": {(g["dbid"], g["name"], g["group_type"].upper()) for g in live("group")},
        "skills": {(s["dbid"], s["name"]) for s in live("skill")},
        "reasons": {(v["name"],) for v in live("attribute_value") if v["attribute"] == "not_ready_reason"},
        "members": members,
        "levels": {
            (s["person_dbid"], s["skill_dbid"], s["level"])
            for s in live("skill_level")
            if s["person_dbid"] in agents
        },
        "tenant": {(1, tenant)},
        "combinations": {
            (person, frozenset(g for p, g in members if p == person)) for person in {p for p, _g in members}
        },
    }


def _audit_rows(env: GcaEnv, tenant: str) -> list[tuple]:
    return db_rows(
        env.infomart(tenant), "SELECT audit_key, row_count FROM ctl_audit_log WHERE job_name = 'gca_snapshot'"
    )


def _assert_all_match(env: GcaEnv, tenant: str) -> None:
    config = _config(env, tenant)
    assert _snapshot(env, tenant) == config
    assert _topic_objects(env, tenant) == config
    assert _current_dims(env, tenant) == _expected_dims(config, tenant)


def test_snapshot_topic_and_dimensions_match_the_configuration_db(gca_env: GcaEnv) -> None:
    a, b = gca_env.tenants
    gca_env.seed(a)
    first = gca_env.materialize(a)
    assert first.success
    meta = _meta(first)
    assert meta["snapshot_id"] == 1 and meta["violations"] == 0 and meta["changed"] == meta["deleted"] == 0
    assert meta["added"] == meta["published"] == sum(len(rows) for rows in _config(gca_env, a).values())
    _assert_all_match(gca_env, a)
    (audit,) = _audit_rows(gca_env, a)
    stamped = db_rows(
        gca_env.infomart(a),
        "SELECT DISTINCT create_audit_key, update_audit_key FROM resource_ WHERE resource_key > 0",
    )
    assert stamped == [(audit[0], audit[0])]

    # the topic carries each object's Info Mart key: employee id -> RESOURCE_KEY, place name -> PLACE_KEY
    by_employee = {
        v["employee_id"]: v["dim"]["key"]
        for _k, v in gca_env.topic(a)
        if v["object_type"] == "person" and v["is_agent"]
    }
    assert by_employee == dict(
        db_rows(
            gca_env.infomart(a),
            "SELECT employee_id, resource_key FROM resource_ WHERE resource_type_code = 'AGENT'",
        )
    )

    records = len(gca_env.topic(a))
    again = gca_env.materialize(a)
    assert again.success and _meta(again)["published"] == 0 and _meta(again)["snapshot_id"] == 1
    reconcile = gca_env.materialize(a, full=True)
    assert reconcile.success and _meta(reconcile)["published"] == 0 and _meta(reconcile)["full_read"]
    assert len(gca_env.topic(a)) == records
    assert len(_audit_rows(gca_env, a)) == 1  # no dimension row written, no audit row

    # the other tenant saw nothing: no topic, no snapshot, its own empty databases
    assert gca_env.topic(b) == [] and gca_env.s3_keys(b) == []


def test_mutations_publish_only_changes_and_keep_history(gca_env: GcaEnv) -> None:
    a, b = gca_env.tenants
    gca_env.seed(a)
    gca_env.seed(b, agents=5, seed=2)
    assert gca_env.materialize(a).success and gca_env.materialize(b).success
    before = _config(gca_env, a)
    records_before = len(gca_env.topic(a))
    b_records = gca_env.topic(b)

    done = mutate_config(gca_env.configdb(a), seed=3, changes=5, at=T1)
    result = gca_env.materialize(a)
    assert result.success
    meta = _meta(result)
    after = _config(gca_env, a)
    changed = {(t, d) for t in OBJECT_TYPES for d, row in after[t].items() if before[t].get(d) != row}
    published = gca_env.topic(a)[records_before:]
    assert meta["snapshot_id"] == 2 and meta["published"] == len(published) == len(changed)
    assert {tuple(k.split(":")) for k, _v in published} == {(t, str(d)) for t, d in changed}
    _assert_all_match(gca_env, a)

    t0, t1 = int(T0.timestamp()), int(T1.timestamp())
    im = gca_env.infomart(a)
    renamed = next(line for line in done if "renamed" in line).split()  # "E00007 renamed Old -> New"
    history = db_rows(
        im,
        "SELECT agent_last_name, start_ts, end_ts FROM resource_ WHERE employee_id = :e ORDER BY start_ts",
        e=renamed[0],
    )
    assert history == [(renamed[2], t0, t1), (renamed[4], t1, None)]
    versions = [(r["start_ts"], r["end_ts"]) for r in gca_env.dimension_keys(a) if r["name"] == renamed[0]]
    assert versions == [(t0, t1), (t1, None)]  # each key version with the employee id events carry
    left = next(line for line in done if " left " in line).split()[0]
    assert db_rows(im, "SELECT start_ts, end_ts FROM resource_ WHERE employee_id = :e", e=left) == [(t0, t1)]
    hired = next(line for line in done if line.startswith("hired")).split("(")[1].split(",")[0]
    assert db_rows(im, "SELECT start_ts, end_ts FROM resource_ WHERE employee_id = :e", e=hired) == [
        (t1, None)
    ]
    person = int(next(line for line in done if "skill level" in line).split()[1])
    levels = db_rows(
        im,
        "SELECT f.skill_level, f.start_ts, f.end_ts, f.active_flag FROM resource_skill_fact_ f "
        "JOIN resource_ r USING (resource_key) WHERE r.resource_cfg_dbid = :p AND f.end_ts IS DISTINCT "
        "FROM f.start_ts "
        "ORDER BY f.start_ts",
        p=person,
    )
    old, new = (int(x) for x in next(line for line in done if "skill level" in line).split()[-3::2])
    assert (old, t0, t1, 0) in levels and (new, t1, None, 1) in levels
    moved = next(line for line in done if "moved" in line).split()  # person P moved from group G1 to group G2
    groups = db_rows(
        im,
        "SELECT g.group_cfg_dbid, f.start_ts, f.end_ts FROM resource_group_fact_ f "
        "JOIN resource_ r USING (resource_key) JOIN group_ g USING (group_key) "
        "WHERE r.resource_cfg_dbid = :p ORDER BY f.start_ts, f.end_ts NULLS LAST",
        p=int(moved[1]),
    )
    hired_now = f"person {moved[1]})" in done[[line.startswith("hired") for line in done].index(True)]
    assert groups[-1] == (int(moved[8]), t1, None)
    assert groups[0] == ((int(moved[8]), t1, None) if hired_now else (int(moved[5]), t0, t1))

    # only the changes were written to the dimensions, under one new audit key
    (_first, second) = _audit_rows(gca_env, a)
    assert second[1] == sum(_meta(result)["dimension_rows"].values())
    again = gca_env.materialize(a)
    assert _meta(again)["published"] == 0 and len(_audit_rows(gca_env, a)) == 2
    assert gca_env.topic(b) == b_records  # the other tenant is untouched
    assert _current_dims(gca_env, b) == _expected_dims(_config(gca_env, b), b)


class _CrashAfterFlush:
    """A producer that delivers everything, then dies before the run records its marker."""

    def __init__(self, inner: Producer) -> None:
        self.inner = inner

    def produce(self, *args: Any, **kwargs: Any) -> None:
        self.inner.produce(*args, **kwargs)

    def poll(self, timeout: float) -> int:
        return self.inner.poll(timeout)

    def flush(self, timeout: float) -> int:
        assert self.inner.flush(timeout) == 0
        raise RuntimeError("injected crash after publishing")


class CrashingKafka(KafkaResource):
    def producer(self, **overrides: Any) -> Any:
        return _CrashAfterFlush(super().producer(**overrides))


def _state(env: GcaEnv, tenant: str) -> dict[str, Any]:
    """Everything a run leaves behind, without the tenant's name and audit keys."""
    im = env.infomart(tenant)
    dims = {
        t: db_rows(im, f"SELECT * FROM {t} ORDER BY 1, 2")
        for t in (
            "resource_",
            "group_",
            "place",
            "skill",
            "resource_state_reason",
            "resource_group_fact_",
            "resource_skill_fact_",
            "resource_group_combination",
        )
    }
    strip = {
        k: {kk: vv for kk, vv in v.items() if kk != "tenant"} for k, v in latest(env.topic(tenant)).items()
    }
    snapshot = _snapshot(env, tenant)
    snapshot.pop("tenant")
    marker = env.marker(tenant)
    return {
        "dims": {
            t: [r[:-2] if t.startswith("resource_") and "fact" in t else r for r in rows]
            for t, rows in dims.items()
        },
        "topic": {k: v for k, v in strip.items() if not k.startswith("tenant:")},
        "snapshot": snapshot,
        "marker": (marker["snapshot_id"], marker["change_counter"]),
    }


def test_crash_after_publishing_reruns_to_the_clean_result(gca_env: GcaEnv) -> None:
    crashed, clean = gca_env.tenants
    for tenant in gca_env.tenants:
        gca_env.seed(tenant, agents=8, seed=5)
    kafka = CrashingKafka(bootstrap_servers=gca_env.kafka_bootstrap)
    for step in ("seeded", "mutated"):
        if step == "mutated":
            for tenant in gca_env.tenants:
                mutate_config(gca_env.configdb(tenant), seed=9, changes=5, at=T1)
        failed = gca_env.materialize(crashed, kafka=kafka)
        assert not failed.success
        assert gca_env.materialize(crashed).success
        assert gca_env.materialize(clean).success
        got, want = _state(gca_env, crashed), _state(gca_env, clean)
        for part in ("dims", "topic", "snapshot", "marker"):
            assert _strip_audit(got[part]) == _strip_audit(want[part]), part


def _strip_audit(value: Any) -> Any:
    """Dimension rows end with (create_audit_key, update_audit_key): tenants draw audit keys independently."""
    if isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
        return {t: [row[:-2] if t in AUDITED_DIMS else row for row in rows] for t, rows in value.items()}
    return value


def test_unreachable_configuration_db_fails_clearly_and_changes_nothing(gca_env: GcaEnv) -> None:
    a, _b = gca_env.tenants
    text = gca_env.settings_file.read_text()
    url = sa.make_url(gca_env.pg_server_url).set(host="127.0.0.1", port=1, query={})
    gca_env.settings_file.write_text(
        text.replace(gca_env.pg_server_url, url.render_as_string(hide_password=False))
    )
    result = gca_env.materialize(a)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    message = error.cause.message if error.cause else error.message
    assert f"cannot reach the Configuration DB of tenant '{a}'" in message
    assert gca_env.s3_keys(a) == [] and gca_env.topic(a) == []


def test_model_violations_are_reported_and_the_rest_processed(gca_env: GcaEnv) -> None:
    a, _b = gca_env.tenants
    gca_env.seed(a, agents=6)
    engine = gca_env.configdb(a)
    with engine.begin() as conn:
        login = conn.execute(
            sa.text(
                "INSERT INTO cfg_agent_login (switch_dbid, login_code) VALUES (999999, '6666') RETURNING dbid"
            )
        ).scalar_one()
        member = conn.execute(
            sa.text(
                "INSERT INTO cfg_group_member (group_dbid, member_dbid) SELECT min(dbid), 888888 "
                "FROM cfg_group WHERE group_type = 'agent' RETURNING dbid"
            )
        ).scalar_one()
    result = gca_env.materialize(a)
    assert result.success
    meta = _meta(result)
    assert meta["violations"] == 2
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed
    listed = check.metadata["first_violations"].value
    assert {(v["object_type"], v["dbid"], v["rule"]) for v in listed} == {
        ("agent_login", login, "login_unknown_switch"),
        ("group_member", member, "member_unknown"),
    }
    keys = {k for k, _v in gca_env.topic(a)}
    assert f"agent_login:{login}" not in keys and f"group_member:{member}" not in keys
    assert meta["published"] == sum(len(rows) for rows in _config(gca_env, a).values()) - 2
    assert _current_dims(gca_env, a) == _expected_dims(_config(gca_env, a), a)

    with engine.begin() as conn:  # fixed: published as added, one violation left
        conn.execute(
            sa.text(
                "UPDATE cfg_agent_login SET switch_dbid = (SELECT min(dbid) FROM cfg_switch) WHERE dbid = :d"
            ),
            {"d": login},
        )
    fixed = gca_env.materialize(a)
    assert _meta(fixed)["violations"] == 1 and _meta(fixed)["added"] == 1
    assert gca_env.topic(a)[-1][0] == f"agent_login:{login}"
