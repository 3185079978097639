"""The Configuration Database: a tenant's contact-centre configuration, modelled on a configuration server.

One PostgreSQL database per tenant (``TenantNames.configdb_name`` on the local stack). Every object table has

``dbid``            the object's database id, drawn from one sequence shared by all object types (so a DBID
                    names one object even without its type);
``state``           ``enabled`` | ``disabled`` | ``deleted``: deleting an object is a state change (a
                    tombstone
                    that stays), so GCA sees it;
``change_counter``  a global counter (``cfg_change_counter_seq``) set by a trigger on every insert and on
                    every
                    update that changes a value: GCA reads ``change_counter > last seen`` to get only what
                    changed, and ``change_marker()`` is what the sensor polls;
``created_at`` /    when the object was created / last changed (set by the trigger unless the writer sets them
``updated_at``      explicitly, which the simulator does to place changes in simulated time).

The trigger takes a transaction-level advisory lock before drawing a counter, so configuration writers commit
in
counter order: a reader that has seen counter ``c`` committed can never later find a committed row with a
smaller counter. (Configuration writes are rare; serialising them costs nothing.)

There are deliberately **no foreign keys**: configuration may be imported or edited by other tools, and GCA
must
see (and report, see ``gca.validate``) a login on an unknown switch rather than have the database refuse it.
"""

from __future__ import annotations

import sqlalchemy as sa

CHANGE_LOCK_ID = 0x47494D_43464743  # "GIM" "CFGC"

OBJECT_TABLES: dict[str, str] = {
    "tenant": "cfg_tenant",
    "switch": "cfg_switch",
    "dn": "cfg_dn",
    "place": "cfg_place",
    "person": "cfg_person",
    "agent_login": "cfg_agent_login",
    "group": "cfg_group",
    "group_member": "cfg_group_member",
    "skill": "cfg_skill",
    "skill_level": "cfg_skill_level",
    "attribute_value": "cfg_attribute_value",
}
"""Object type (as used in GCA snapshots and topic keys) -> Configuration DB table."""

DN_TYPES = ("extension", "acd_queue", "virtual_queue", "routing_point")
GROUP_TYPES = ("agent", "place")
ATTRIBUTES = ("not_ready_reason", "interaction_type")
STATES = ("enabled", "disabled", "deleted")

_META = f"""
    state text NOT NULL DEFAULT 'enabled' CHECK (state IN {STATES!r}),
    change_counter bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()"""

_DBID = "dbid integer PRIMARY KEY DEFAULT nextval('cfg_dbid_seq')"

_TABLES: dict[str, str] = {
    "cfg_tenant": "name text NOT NULL",
    "cfg_switch": "name text NOT NULL, switch_type text NOT NULL DEFAULT 'sip'",
    "cfg_dn": f"""
        switch_dbid integer NOT NULL,
        number text NOT NULL,
        name text,
        dn_type text NOT NULL CHECK (dn_type IN {DN_TYPES!r}),
        media text CHECK (media IN ('voice', 'chat', 'email')),
        place_dbid integer,
        queue_dbid integer,
        virtual_queue_dbid integer,
        skill_dbid integer,
        weight double precision""",
    "cfg_place": "name text NOT NULL",
    "cfg_person": """
        employee_id text,
        user_name text NOT NULL,
        first_name text,
        last_name text,
        is_agent boolean NOT NULL DEFAULT true,
        place_dbid integer""",
    "cfg_agent_login": "switch_dbid integer NOT NULL, login_code text NOT NULL, person_dbid integer",
    "cfg_group": f"name text NOT NULL, group_type text NOT NULL CHECK (group_type IN {GROUP_TYPES!r})",
    "cfg_group_member": "group_dbid integer NOT NULL, member_dbid integer NOT NULL, UNIQUE (group_dbid, "
    "member_dbid)",
    "cfg_skill": "name text NOT NULL",
    "cfg_skill_level": """
        person_dbid integer NOT NULL,
        skill_dbid integer NOT NULL,
        level integer NOT NULL,
        UNIQUE (person_dbid, skill_dbid)""",
    "cfg_attribute_value": f"""
        attribute text NOT NULL CHECK (attribute IN {ATTRIBUTES!r}),
        name text NOT NULL,
        display_name text""",
}

_TRIGGER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION cfg_track_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.created_at := OLD.created_at;
        IF (to_jsonb(NEW) - 'change_counter' - 'updated_at') = (to_jsonb(OLD) - 'change_counter' -
        'updated_at')
        THEN
            NEW.change_counter := OLD.change_counter;  -- a no-op update is not a change
            NEW.updated_at := OLD.updated_at;
            RETURN NEW;
        END IF;
        IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
            NEW.updated_at := now();
        END IF;
    END IF;
    PERFORM pg_advisory_xact_lock({CHANGE_LOCK_ID});
    NEW.change_counter := nextval('cfg_change_counter_seq');
    RETURN NEW;
END $$;
"""


def _ddl() -> list[str]:
    statements = [
        "CREATE SEQUENCE IF NOT EXISTS cfg_dbid_seq START 101",
        "CREATE SEQUENCE IF NOT EXISTS cfg_change_counter_seq",
        _TRIGGER_FUNCTION,
    ]
    for name, columns in _TABLES.items():
        statements += [
            f"CREATE TABLE IF NOT EXISTS {name} ({_DBID}, {columns}, {_META})",
            f"CREATE INDEX IF NOT EXISTS ix_{name}_change_counter ON {name} (change_counter)",
            f"CREATE OR REPLACE TRIGGER trg_{name}_change BEFORE INSERT OR UPDATE ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION cfg_track_change()",
        ]
    return statements


def create_schema(engine: sa.Engine) -> None:
    """Create the Configuration DB tables, sequences and triggers (idempotent)."""
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": CHANGE_LOCK_ID})
        for statement in _ddl():
            conn.execute(sa.text(statement))


def schema_exists(conn: sa.Connection) -> bool:
    return conn.execute(sa.text("SELECT to_regclass('cfg_person') IS NOT NULL")).scalar_one()


def change_marker(conn: sa.Connection) -> int:
    """The highest committed change counter (0 for an empty database): what the GCA sensor polls."""
    union = " UNION ALL ".join(f"SELECT max(change_counter) AS c FROM {t}" for t in OBJECT_TABLES.values())
    return int(conn.execute(sa.text(f"SELECT coalesce(max(c), 0) FROM ({union}) m")).scalar_one())
