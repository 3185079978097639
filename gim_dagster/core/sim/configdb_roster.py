"""The simulator's ``Roster`` from a tenant's Configuration DB: who can log in, which queues, which numbers.

The simulator builds on the configuration model, never the reverse: this adapter lives with the simulator,
so ``core/configdb`` imports nothing of it.

Only objects that are usable now take part: enabled agents (not deleted, not disabled) that have a login, a
place and an extension at that place; queues (``acd_queue`` DNs) that name a skill; routing points that name a
queue. Deleted group memberships and skill levels are ignored.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from gim_dagster.core.sim.roster import Agent, Queue, Roster, RoutingPoint

_AGENTS = """
SELECT p.dbid, p.employee_id, p.user_name, coalesce(p.first_name, ''), coalesce(p.last_name, ''),
       l.login_code, pl.name, d.number
FROM cfg_person p
JOIN LATERAL (SELECT login_code FROM cfg_agent_login l
              WHERE l.person_dbid = p.dbid AND l.state = 'enabled' ORDER BY l.dbid LIMIT 1) l ON true
JOIN cfg_place pl ON pl.dbid = p.place_dbid AND pl.state = 'enabled'
JOIN LATERAL (SELECT number FROM cfg_dn d
              WHERE d.place_dbid = pl.dbid AND d.dn_type = 'extension' AND d.state = 'enabled'
              ORDER BY d.dbid LIMIT 1) d ON true
WHERE p.is_agent AND p.state = 'enabled' AND p.employee_id IS NOT NULL
ORDER BY p.dbid
"""
_GROUPS = """
SELECT m.member_dbid, g.name FROM cfg_group_member m
JOIN cfg_group g ON g.dbid = m.group_dbid AND g.group_type = 'agent' AND g.state <> 'deleted'
WHERE m.state <> 'deleted' ORDER BY m.member_dbid, g.name
"""
_SKILLS = """
SELECT l.person_dbid, s.name, l.level FROM cfg_skill_level l
JOIN cfg_skill s ON s.dbid = l.skill_dbid AND s.state <> 'deleted'
WHERE l.state <> 'deleted' ORDER BY l.person_dbid, s.dbid
"""
_QUEUES = """
SELECT q.name, q.number, q.dbid, q.media, s.name, vq.number FROM cfg_dn q
JOIN cfg_skill s ON s.dbid = q.skill_dbid AND s.state <> 'deleted'
LEFT JOIN cfg_dn vq ON vq.dbid = q.virtual_queue_dbid AND vq.state <> 'deleted'
WHERE q.dn_type = 'acd_queue' AND q.state = 'enabled' AND q.media IS NOT NULL
ORDER BY q.dbid
"""
_ROUTING_POINTS = """
SELECT rp.number, rp.dbid, coalesce(q.name, q.number), coalesce(rp.weight, 1.0) FROM cfg_dn rp
JOIN cfg_dn q ON q.dbid = rp.queue_dbid AND q.dn_type = 'acd_queue' AND q.state = 'enabled'
WHERE rp.dn_type = 'routing_point' AND rp.state = 'enabled'
ORDER BY rp.dbid
"""
_REASONS = """
SELECT name FROM cfg_attribute_value
WHERE attribute = 'not_ready_reason' AND state = 'enabled' ORDER BY dbid
"""


def load_roster(engine: sa.Engine) -> Roster:
    """The roster of the Configuration DB behind ``engine`` (raises ``ValueError`` if it is unusable)."""
    with engine.connect() as conn:
        agent_rows = conn.execute(sa.text(_AGENTS)).all()
        groups: dict[int, list[str]] = defaultdict(list)
        for person, name in conn.execute(sa.text(_GROUPS)):
            groups[person].append(name)
        skills: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for person, name, level in conn.execute(sa.text(_SKILLS)):
            skills[person].append((name, level))
        queue_rows = conn.execute(sa.text(_QUEUES)).all()
        rp_rows = conn.execute(sa.text(_ROUTING_POINTS)).all()
        reasons = list(conn.execute(sa.text(_REASONS)).scalars())
    if not agent_rows:
        raise ValueError(
            "the Configuration DB has no usable agent (enabled, with login, place and extension)"
        )
    agents = [
        Agent(
            employee_id=employee_id,
            dbid=dbid,
            user_name=user_name,
            first_name=first,
            last_name=last,
            login_code=login,
            place=place,
            dn=dn,
            groups=tuple(groups[dbid]),
            skills=tuple(skills[dbid]),
        )
        for dbid, employee_id, user_name, first, last, login, place, dn in agent_rows
    ]
    queues = [
        Queue(name=name or number, dbid=dbid, dn=number, media=media, skill=skill, virtual_queue=vq)
        for name, number, dbid, media, skill, vq in queue_rows
    ]
    routing_points = [
        RoutingPoint(dn=number, dbid=dbid, queue=queue, weight=float(weight))
        for number, dbid, queue, weight in rp_rows
    ]
    return Roster(agents=agents, queues=queues, routing_points=routing_points, not_ready_reasons=reasons)
