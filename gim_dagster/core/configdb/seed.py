"""A realistic, deterministic contact centre for a tenant's Configuration DB, and realistic changes to it.

``seed_config`` fills an empty Configuration DB: one SIP switch, one queue (with its virtual queue) per skill,
a routing point per voice queue, agents with a place, an extension, a login, one agent group, one to three
skills with levels, place groups per floor, a non-agent administrator, not-ready reason codes and interaction
types. ``mutate_config`` applies changes an administrator makes: an agent hired, one leaving, one moved to
another group, a skill level changed, an agent renamed. Both are deterministic for a given seed and database
state (names, choices and DBIDs).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from gim_dagster.core.configdb.schema import CHANGE_LOCK_ID, schema_exists


class SeedError(ValueError):
    """The seed or mutation cannot be applied (the message is one line for the user)."""


SKILLS: tuple[tuple[str, str], ...] = (
    ("sales", "voice"),
    ("support", "voice"),
    ("billing", "voice"),
    ("chat", "chat"),
    ("email", "email"),
    ("retention", "voice"),
    ("technical", "voice"),
    ("spanish", "voice"),
    ("french", "voice"),
    ("vip", "voice"),
)
AGENT_GROUPS = (
    "Voice Team A",
    "Voice Team B",
    "Digital Team",
    "Tier 2 Support",
    "Retention Desk",
    "Night Shift",
)
NOT_READY_REASONS = ("Break", "Lunch", "Meeting", "Training", "Coaching", "Personal")
INTERACTION_TYPES = ("Inbound", "Outbound", "Internal", "Consult")
FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira", "Liam", "Maya",
    "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wes", "Yara", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Novak", "Okafor", "Park", "Quist", "Rossi", "Silva", "Tanaka", "Ulrich", "Varga", "Weber", "Adams",
    "Becker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ivanova", "Jensen", "Kowalski",
)  # fmt: skip
AGENTS_PER_FLOOR = 50
SWITCH_NAME = "SIP_Switch"


@dataclass(frozen=True)
class SeedSpec:
    tenant: str
    agents: int
    groups: int
    skills: int
    seed: int = 0
    at: datetime | None = None  # created/updated time of every object; None: now

    def check(self) -> None:
        if self.agents < 1:
            raise SeedError(f"--agents must be at least 1, got {self.agents}")
        if self.groups < 1:
            raise SeedError(f"--groups must be at least 1, got {self.groups}")
        if self.skills < 1:
            raise SeedError(f"--skills must be at least 1, got {self.skills}")


class _Plan:
    """Rows per table with DBIDs assigned from a block reserved in the database."""

    def __init__(self, first_dbid: int, at: datetime | None) -> None:
        self.next_dbid = first_dbid
        self.at = at
        self.rows: dict[str, list[dict[str, Any]]] = {}

    def add(self, table: str, **values: Any) -> int:
        dbid = self.next_dbid
        self.next_dbid += 1
        row = {"dbid": dbid, "state": "enabled", **values}
        if self.at is not None:
            row |= {"created_at": self.at, "updated_at": self.at}
        self.rows.setdefault(table, []).append(row)
        return dbid


def _skill_catalogue(n: int) -> list[tuple[str, str]]:
    return [SKILLS[i] if i < len(SKILLS) else (f"skill{i + 1}", "voice") for i in range(n)]


def _group_names(n: int) -> list[str]:
    return [AGENT_GROUPS[i] if i < len(AGENT_GROUPS) else f"Team {i + 1}" for i in range(n)]


def plan_centre(spec: SeedSpec, first_dbid: int) -> dict[str, list[dict[str, Any]]]:
    """The rows of the seeded centre (pure: same spec and first DBID, same rows)."""
    spec.check()
    rng = random.Random(f"configdb-seed-{spec.seed}")
    plan = _Plan(first_dbid, spec.at)
    plan.add("cfg_tenant", name=spec.tenant)
    switch = plan.add("cfg_switch", name=SWITCH_NAME, switch_type="sip")
    skills = {
        name: (plan.add("cfg_skill", name=name), media) for name, media in _skill_catalogue(spec.skills)
    }
    _plan_queues(plan, switch, skills)
    for kind, values in (("not_ready_reason", NOT_READY_REASONS), ("interaction_type", INTERACTION_TYPES)):
        for value in values:
            plan.add("cfg_attribute_value", attribute=kind, name=value, display_name=value)
    groups = [plan.add("cfg_group", name=name, group_type="agent") for name in _group_names(spec.groups)]
    floors = [
        plan.add("cfg_group", name=f"Floor {i + 1}", group_type="place")
        for i in range(-(-spec.agents // AGENTS_PER_FLOOR))
    ]
    plan.add(
        "cfg_person",
        employee_id=None,
        user_name="cfg.admin",
        first_name="Config",
        last_name="Admin",
        is_agent=False,
        place_dbid=None,
    )
    for i in range(spec.agents):
        _plan_agent(plan, rng, i, switch, skills, groups, floors[i // AGENTS_PER_FLOOR])
    return plan.rows


def _plan_queues(plan: _Plan, switch: int, skills: dict[str, tuple[int, str]]) -> None:
    base = {"voice": 8001, "chat": 8101, "email": 8201}
    seen = {"voice": 0, "chat": 0, "email": 0}
    for name, (skill_dbid, media) in skills.items():
        number = str(base[media] + seen[media])
        seen[media] += 1
        title = name.title()
        vq = plan.add(
            "cfg_dn",
            switch_dbid=switch,
            number=f"VQ_{title}",
            name=f"VQ_{title}",
            dn_type="virtual_queue",
            media=media,
            skill_dbid=skill_dbid,
        )
        queue = plan.add(
            "cfg_dn",
            switch_dbid=switch,
            number=number,
            name=title,
            dn_type="acd_queue",
            media=media,
            skill_dbid=skill_dbid,
            virtual_queue_dbid=vq,
        )
        if media == "voice":
            plan.add(
                "cfg_dn",
                switch_dbid=switch,
                number=str(7001 + seen["voice"] - 1),
                name=f"RP_{title}",
                dn_type="routing_point",
                media="voice",
                queue_dbid=queue,
                weight=round(1.0 / seen["voice"], 4),
            )


def _plan_agent(
    plan: _Plan,
    rng: random.Random,
    i: int,
    switch: int,
    skills: dict[str, tuple[int, str]],
    groups: list[int],
    floor: int,
) -> None:
    person, place, _, _ = _add_agent(plan, rng, i + 1, switch)
    plan.add("cfg_group_member", group_dbid=rng.choice(groups), member_dbid=person)
    plan.add("cfg_group_member", group_dbid=floor, member_dbid=place)
    for skill_dbid in _pick_skills(rng, skills):
        plan.add("cfg_skill_level", person_dbid=person, skill_dbid=skill_dbid, level=rng.randint(1, 10))


def _add_agent(plan: _Plan, rng: random.Random, number: int, switch: int) -> tuple[int, int, str, str]:
    """Agent ``number``: place, extension, person and login; returns (person, place, first, last)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    extension = str(1000 + number)
    place = plan.add("cfg_place", name=f"Place_{extension}")
    plan.add(
        "cfg_dn",
        switch_dbid=switch,
        number=extension,
        name=None,
        dn_type="extension",
        media="voice",
        place_dbid=place,
    )
    person = plan.add(
        "cfg_person",
        employee_id=f"E{number:05d}",
        user_name=f"{first[0]}{last}{number:03d}".lower(),
        first_name=first,
        last_name=last,
        is_agent=True,
        place_dbid=place,
    )
    plan.add("cfg_agent_login", switch_dbid=switch, login_code=str(5000 + number), person_dbid=person)
    return person, place, first, last


def _pick_skills(rng: random.Random, skills: dict[str, tuple[int, str]]) -> list[int]:
    digital = [dbid for dbid, media in skills.values() if media != "voice"]
    voice = [dbid for dbid, media in skills.values() if media == "voice"]
    if digital and (not voice or rng.random() < 0.2):
        return sorted(digital)
    return sorted(rng.sample(voice, rng.randint(1, min(3, len(voice)))))


def _reserve_dbids(conn: sa.Connection, n: int) -> int:
    """Reserve ``n`` consecutive DBIDs; return the first (writers are serialised, see schema)."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": CHANGE_LOCK_ID})
    first = conn.execute(sa.text("SELECT nextval('cfg_dbid_seq')")).scalar_one()
    conn.execute(sa.text("SELECT setval('cfg_dbid_seq', :last)"), {"last": first + n - 1})
    return int(first)


def _insert(conn: sa.Connection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """One batched INSERT per table and column set."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(row), []).append(row)
    for columns, batch in by_columns.items():
        names = ", ".join(columns)
        params = ", ".join(f":{c}" for c in columns)
        conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({params})"), batch)


def _transaction(bind: sa.Engine | sa.Connection) -> AbstractContextManager[sa.Connection]:
    """A new transaction on an engine; on a connection, the caller's own (it commits with the rest)."""
    return bind.begin() if isinstance(bind, sa.Engine) else nullcontext(bind)


def seed_config(bind: sa.Engine | sa.Connection, spec: SeedSpec) -> dict[str, int]:
    """Fill an empty Configuration DB with the centre of ``spec``; return the number of rows per table."""
    spec.check()
    with _transaction(bind) as conn:
        if not schema_exists(conn):
            raise SeedError("the Configuration DB has no schema: run `gim configdb init` first")
        if conn.execute(sa.text("SELECT count(*) FROM cfg_person")).scalar_one():
            raise SeedError("the Configuration DB is already seeded: use --mutate to change it")
        sizes = plan_centre(spec, first_dbid=0)
        rows = plan_centre(spec, _reserve_dbids(conn, sum(len(r) for r in sizes.values())))
        for table, table_rows in rows.items():
            _insert(conn, table, table_rows)
    return {table: len(table_rows) for table, table_rows in rows.items()}


# ---- mutations
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Agent:
    dbid: int
    employee_id: str
    first_name: str
    last_name: str


def _agents(conn: sa.Connection) -> list[_Agent]:
    rows = conn.execute(
        sa.text(
            "SELECT dbid, employee_id, first_name, last_name FROM cfg_person "
            "WHERE is_agent AND state <> 'deleted' ORDER BY dbid"
        )
    ).all()
    return [_Agent(*row) for row in rows]


def _stamp(at: datetime | None) -> str:
    return ", updated_at = :at" if at is not None else ""


def _hire(conn: sa.Connection, rng: random.Random, at: datetime | None) -> str:
    number = conn.execute(
        sa.text("SELECT coalesce(max(substr(employee_id, 2)::integer), 0) + 1 FROM cfg_person WHERE is_agent")
    ).scalar_one()
    switch = conn.execute(sa.text("SELECT min(dbid) FROM cfg_switch WHERE state <> 'deleted'")).scalar_one()
    if switch is None:
        raise SeedError("the Configuration DB has no switch: seed it first")
    skills = dict(conn.execute(sa.text("SELECT name, dbid FROM cfg_skill WHERE state <> 'deleted'")).all())
    groups = (
        conn.execute(
            sa.text(
                "SELECT dbid FROM cfg_group WHERE group_type = 'agent' AND state <> 'deleted' ORDER BY dbid"
            )
        )
        .scalars()
        .all()
    )
    plan = _Plan(_reserve_dbids(conn, 16), at)
    catalogue = {name: (dbid, dict(SKILLS).get(name, "voice")) for name, dbid in sorted(skills.items())}
    person, _, first, last = _add_agent(plan, rng, number, switch)
    if groups:
        plan.add("cfg_group_member", group_dbid=rng.choice(groups), member_dbid=person)
    for skill_dbid in _pick_skills(rng, catalogue) if catalogue else []:
        plan.add("cfg_skill_level", person_dbid=person, skill_dbid=skill_dbid, level=rng.randint(1, 10))
    for table, rows in plan.rows.items():
        _insert(conn, table, rows)
    return f"hired {first} {last} (E{number:05d}, person {person})"


def _leave(conn: sa.Connection, rng: random.Random, at: datetime | None) -> str:
    agent = rng.choice(_agents(conn))
    params = {"p": agent.dbid, "at": at}
    conn.execute(sa.text(f"UPDATE cfg_person SET state = 'deleted'{_stamp(at)} WHERE dbid = :p"), params)
    for table, column in (("cfg_group_member", "member_dbid"), ("cfg_skill_level", "person_dbid")):
        conn.execute(sa.text(f"UPDATE {table} SET state = 'deleted'{_stamp(at)} WHERE {column} = :p"), params)
    conn.execute(
        sa.text(f"UPDATE cfg_agent_login SET person_dbid = NULL{_stamp(at)} WHERE person_dbid = :p"), params
    )
    return f"{agent.employee_id} left (person {agent.dbid})"


def _move_group(conn: sa.Connection, rng: random.Random, at: datetime | None) -> str | None:
    memberships = conn.execute(
        sa.text(
            "SELECT m.dbid, m.group_dbid, m.member_dbid FROM cfg_group_member m "
            "JOIN cfg_group g ON g.dbid = m.group_dbid AND g.group_type = 'agent' "
            "JOIN cfg_person p ON p.dbid = m.member_dbid AND p.state <> 'deleted' "
            "WHERE m.state <> 'deleted' ORDER BY m.dbid"
        )
    ).all()
    groups = (
        conn.execute(
            sa.text(
                "SELECT dbid FROM cfg_group WHERE group_type = 'agent' AND state <> 'deleted' ORDER BY dbid"
            )
        )
        .scalars()
        .all()
    )
    if not memberships or len(groups) < 2:
        return None
    membership, old, person = rng.choice(memberships)
    new = rng.choice([g for g in groups if g != old])
    params = {"m": membership, "g": new, "p": person, "at": at or datetime.now().astimezone()}
    conn.execute(
        sa.text("UPDATE cfg_group_member SET state = 'deleted', updated_at = :at WHERE dbid = :m"), params
    )
    conn.execute(
        sa.text(
            "INSERT INTO cfg_group_member (group_dbid, member_dbid, created_at, updated_at) VALUES (:g, "
            ":p, :at, :at) "
            "ON CONFLICT (group_dbid, member_dbid) DO UPDATE SET state = 'enabled', updated_at = :at"
        ),
        params,
    )
    return f"person {person} moved from group {old} to group {new}"


def _change_skill(conn: sa.Connection, rng: random.Random, at: datetime | None) -> str | None:
    levels = conn.execute(
        sa.text(
            "SELECT s.dbid, s.person_dbid, s.level FROM cfg_skill_level s "
            "JOIN cfg_person p ON p.dbid = s.person_dbid AND p.state <> 'deleted' "
            "WHERE s.state <> 'deleted' ORDER BY s.dbid"
        )
    ).all()
    if not levels:
        return None
    dbid, person, level = rng.choice(levels)
    new = level % 10 + 1
    conn.execute(
        sa.text(f"UPDATE cfg_skill_level SET level = :l{_stamp(at)} WHERE dbid = :d"),
        {"l": new, "d": dbid, "at": at},
    )
    return f"person {person} skill level {level} -> {new}"


def _rename(conn: sa.Connection, rng: random.Random, at: datetime | None) -> str:
    agent = rng.choice(_agents(conn))
    last = rng.choice([n for n in LAST_NAMES if n != agent.last_name])
    conn.execute(
        sa.text(f"UPDATE cfg_person SET last_name = :n{_stamp(at)} WHERE dbid = :p"),
        {"n": last, "p": agent.dbid, "at": at},
    )
    return f"{agent.employee_id} renamed {agent.last_name} -> {last}"


Mutation = Callable[[sa.Connection, random.Random, datetime | None], str | None]
MUTATIONS: dict[str, Mutation] = {
    "hire": _hire,
    "leave": _leave,
    "move_group": _move_group,
    "skill_level": _change_skill,
    "rename": _rename,
}


def mutate_config(
    bind: sa.Engine | sa.Connection, seed: int, changes: int = 5, at: datetime | None = None
) -> list[str]:
    """Apply ``changes`` realistic changes in one transaction; return what was done, one line each.

    The kinds of change cycle through hire, leave, move group, skill level and rename in a seed-determined
    order, so five changes apply each kind once. Changes made at ``at`` (default: now).
    """
    if changes < 1:
        raise SeedError(f"--changes must be at least 1, got {changes}")
    rng = random.Random(f"configdb-mutate-{seed}")
    kinds = list(MUTATIONS)
    rng.shuffle(kinds)
    done: list[str] = []
    with _transaction(bind) as conn:
        if not schema_exists(conn) or not _agents(conn):
            raise SeedError("the Configuration DB has no agents: seed it first with `gim simulate config`")
        for i in range(changes):
            kind = kinds[i % len(kinds)]
            done.append(MUTATIONS[kind](conn, rng, at) or f"{kind}: nothing to change")
    return done
