"""The Configuration DB against real PostgreSQL: schema, change counter, seeding, mutations, roster."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from gim_dagster.core.configdb.schema import OBJECT_TABLES, change_marker, create_schema
from gim_dagster.core.configdb.seed import SeedError, SeedSpec, mutate_config, seed_config
from gim_dagster.core.sim.configdb_roster import load_roster

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
T1 = datetime(2026, 2, 2, 9, 30, tzinfo=UTC)


@pytest.fixture()
def engine(fresh_db_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(fresh_db_url)
    create_schema(engine)
    yield engine
    engine.dispose()


def _dump(engine: sa.Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY dbid"))]
            for t in OBJECT_TABLES.values()
        }


def test_schema_is_idempotent_and_changes_bump_the_counter(engine: sa.Engine) -> None:
    create_schema(engine)  # second time: no error
    with engine.begin() as conn:
        assert change_marker(conn) == 0
        conn.execute(sa.text("INSERT INTO cfg_skill (name) VALUES ('sales'), ('support')"))
    with engine.begin() as conn:
        first = change_marker(conn)
        assert first == 2
        conn.execute(sa.text("UPDATE cfg_skill SET name = name"))  # no-op: not a change
        assert change_marker(conn) == first
        conn.execute(sa.text("UPDATE cfg_skill SET state = 'deleted' WHERE name = 'sales'"))
        assert change_marker(conn) == first + 1
        row = conn.execute(
            sa.text("SELECT state, created_at < updated_at FROM cfg_skill WHERE name = 'sales'")
        ).one()
        assert row == ("deleted", True)


def test_seed_is_deterministic_and_realistic(engine: sa.Engine, pg_server_url: str, unique: str) -> None:
    spec = SeedSpec(tenant="acme", agents=30, groups=3, skills=5, seed=7, at=T0)
    counts = seed_config(engine, spec)
    assert counts["cfg_person"] == 31  # 30 agents and one administrator
    assert counts["cfg_agent_login"] == counts["cfg_place"] == 30
    with pytest.raises(SeedError, match="already seeded"):
        seed_config(engine, spec)

    other = sa.make_url(pg_server_url).set(database=f"t_seed_{unique}")
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "t_seed_{unique}"'))
    try:
        twin = sa.create_engine(other)
        create_schema(twin)
        seed_config(twin, spec)
        assert _dump(twin) == _dump(engine)
        twin.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "t_seed_{unique}" WITH (FORCE)'))
        admin.dispose()

    roster = load_roster(engine)
    assert len(roster.agents) == 30
    assert {q.name for q in roster.queues} == {"Sales", "Support", "Billing", "Chat", "Email"}
    assert {q.media for q in roster.queues} == {"voice", "chat", "email"}
    assert [rp.queue for rp in roster.routing_points] == ["Sales", "Support", "Billing"]
    assert roster.not_ready_reasons[:2] == ["Break", "Lunch"]
    assert all(a.groups and a.skills and a.login_code and a.dn for a in roster.agents)
    assert len({a.employee_id for a in roster.agents}) == 30


def test_mutations_apply_each_kind_once(engine: sa.Engine) -> None:
    seed_config(engine, SeedSpec(tenant="acme", agents=20, groups=3, skills=4, seed=1, at=T0))
    before = load_roster(engine)
    with engine.connect() as conn:
        counter = change_marker(conn)
    done = mutate_config(engine, seed=3, changes=5, at=T1)
    assert len(done) == 5
    assert sorted(line.split()[0] for line in done if line.startswith(("hired",))) == ["hired"]
    assert any(" left " in line for line in done)
    assert any("moved from group" in line for line in done)
    assert any("skill level" in line for line in done)
    assert any("renamed" in line for line in done)
    after = load_roster(engine)
    assert len(after.agents) == len(before.agents)  # one hired, one left
    with engine.connect() as conn:
        assert change_marker(conn) > counter
        changed_at = (
            conn.execute(
                sa.text("SELECT DISTINCT updated_at FROM cfg_person WHERE change_counter > :c"),
                {"c": counter},
            )
            .scalars()
            .all()
        )
    assert changed_at == [T1]


def test_mutate_without_seed_is_a_clear_error(engine: sa.Engine) -> None:
    with pytest.raises(SeedError, match="seed it first"):
        mutate_config(engine, seed=1)
    with pytest.raises(SeedError, match="--agents"):
        seed_config(engine, SeedSpec(tenant="acme", agents=0, groups=1, skills=1))
