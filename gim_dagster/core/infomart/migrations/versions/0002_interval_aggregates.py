# ruff: noqa: E501
"""Interval aggregates (RAA): AGT_I_AGENT_*, AGT_I_SESS_STATE_*, AGT_I_STATE_RSN_* with their AG2_* views,
and the aggregation high-water mark GIM_AGG_HWM. See docs/aggregates.md.

Frozen DDL: this file never changes once released; a schema change is a new revision.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DDL = r"""
CREATE TABLE agt_i_agent_subhr (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    offered INTEGER DEFAULT '0' NOT NULL,
    accepted INTEGER DEFAULT '0' NOT NULL,
    invite INTEGER DEFAULT '0' NOT NULL,
    invite_time INTEGER DEFAULT '0' NOT NULL,
    engage INTEGER DEFAULT '0' NOT NULL,
    engage_time INTEGER DEFAULT '0' NOT NULL,
    hold INTEGER DEFAULT '0' NOT NULL,
    hold_time INTEGER DEFAULT '0' NOT NULL,
    wrap INTEGER DEFAULT '0' NOT NULL,
    wrap_time INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_i_agent_subhr PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key)
);
CREATE TABLE agt_i_agent_hour (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    offered INTEGER DEFAULT '0' NOT NULL,
    accepted INTEGER DEFAULT '0' NOT NULL,
    invite INTEGER DEFAULT '0' NOT NULL,
    invite_time INTEGER DEFAULT '0' NOT NULL,
    engage INTEGER DEFAULT '0' NOT NULL,
    engage_time INTEGER DEFAULT '0' NOT NULL,
    hold INTEGER DEFAULT '0' NOT NULL,
    hold_time INTEGER DEFAULT '0' NOT NULL,
    wrap INTEGER DEFAULT '0' NOT NULL,
    wrap_time INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_i_agent_hour PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key)
);
CREATE TABLE agt_i_agent_day (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    offered INTEGER DEFAULT '0' NOT NULL,
    accepted INTEGER DEFAULT '0' NOT NULL,
    invite INTEGER DEFAULT '0' NOT NULL,
    invite_time INTEGER DEFAULT '0' NOT NULL,
    engage INTEGER DEFAULT '0' NOT NULL,
    engage_time INTEGER DEFAULT '0' NOT NULL,
    hold INTEGER DEFAULT '0' NOT NULL,
    hold_time INTEGER DEFAULT '0' NOT NULL,
    wrap INTEGER DEFAULT '0' NOT NULL,
    wrap_time INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_i_agent_day PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key)
);
CREATE TABLE agt_i_sess_state_subhr (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    active_time INTEGER DEFAULT '0' NOT NULL,
    ready INTEGER DEFAULT '0' NOT NULL,
    ready_time INTEGER DEFAULT '0' NOT NULL,
    not_ready INTEGER DEFAULT '0' NOT NULL,
    not_ready_time INTEGER DEFAULT '0' NOT NULL,
    busy INTEGER DEFAULT '0' NOT NULL,
    busy_time INTEGER DEFAULT '0' NOT NULL,
    wrap INTEGER DEFAULT '0' NOT NULL,
    wrap_time INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_i_sess_state_subhr PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key)
);
CREATE TABLE agt_i_sess_state_hour (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    active_time INTEGER DEFAULT '0' NOT NULL,
    ready INTEGER DEFAULT '0' NOT NULL,
    ready_time INTEGER DEFAULT '0' NOT NULL,
    not_ready INTEGER DEFAULT '0' NOT NULL,
    not_ready_time INTEGER DEFAULT '0' NOT NULL,
    busy INTEGER DEFAULT '0' NOT NULL,
    busy_time INTEGER DEFAULT '0' NOT NULL,
    wrap INTEGER DEFAULT '0' NOT NULL,
    wrap_time INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_i_sess_state_hour PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key)
);
CREATE TABLE agt_i_sess_state_day (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    active_time INTEGER DEFAULT '0' NOT NULL,
    ready INTEGER DEFAULT '0' NOT NULL,
    ready_time INTEGER DEFAULT '0' NOT NULL,
    not_ready INTEGER DEFAULT '0' NOT NULL,
    not_ready_time INTEGER DEFAULT '0' NOT NULL,
    busy INTEGER DEFAULT '0' NOT NULL,
    busy_time INTEGER DEFAULT '0' NOT NULL,
    wrap INTEGER DEFAULT '0' NOT NULL,
    wrap_time INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_i_sess_state_day PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key)
);
CREATE TABLE agt_i_state_rsn_subhr (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    resource_state_key INTEGER NOT NULL,
    resource_state_reason_key INTEGER NOT NULL,
    state_rsn INTEGER DEFAULT '0' NOT NULL,
    state_rsn_time INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_i_state_rsn_subhr PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key, resource_state_key, resource_state_reason_key)
);
CREATE TABLE agt_i_state_rsn_hour (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    resource_state_key INTEGER NOT NULL,
    resource_state_reason_key INTEGER NOT NULL,
    state_rsn INTEGER DEFAULT '0' NOT NULL,
    state_rsn_time INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_i_state_rsn_hour PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key, resource_state_key, resource_state_reason_key)
);
CREATE TABLE agt_i_state_rsn_day (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    resource_state_key INTEGER NOT NULL,
    resource_state_reason_key INTEGER NOT NULL,
    state_rsn INTEGER DEFAULT '0' NOT NULL,
    state_rsn_time INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_i_state_rsn_day PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key, resource_state_key, resource_state_reason_key)
);
CREATE TABLE gim_agg_hwm (
    aggregation VARCHAR(64) NOT NULL,
    hwm_audit_key BIGINT NOT NULL,
    intervals INTEGER,
    updated TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    CONSTRAINT pk_gim_agg_hwm PRIMARY KEY (aggregation)
);
CREATE VIEW ag2_i_agent_subhr AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, offered, accepted, invite, invite_time, engage, engage_time, hold, hold_time, wrap, wrap_time, create_audit_key, update_audit_key FROM agt_i_agent_subhr;
CREATE VIEW ag2_i_agent_hour AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, offered, accepted, invite, invite_time, engage, engage_time, hold, hold_time, wrap, wrap_time, create_audit_key, update_audit_key FROM agt_i_agent_hour;
CREATE VIEW ag2_i_agent_day AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, offered, accepted, invite, invite_time, engage, engage_time, hold, hold_time, wrap, wrap_time, create_audit_key, update_audit_key FROM agt_i_agent_day;
CREATE VIEW ag2_i_sess_state_subhr AS SELECT date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key, active_time, ready, ready_time, not_ready, not_ready_time, busy, busy_time, wrap, wrap_time, create_audit_key, update_audit_key FROM agt_i_sess_state_subhr;
CREATE VIEW ag2_i_sess_state_hour AS SELECT date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key, active_time, ready, ready_time, not_ready, not_ready_time, busy, busy_time, wrap, wrap_time, create_audit_key, update_audit_key FROM agt_i_sess_state_hour;
CREATE VIEW ag2_i_sess_state_day AS SELECT date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key, active_time, ready, ready_time, not_ready, not_ready_time, busy, busy_time, wrap, wrap_time, create_audit_key, update_audit_key FROM agt_i_sess_state_day;
CREATE VIEW ag2_i_state_rsn_subhr AS SELECT date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key, resource_state_key, resource_state_reason_key, state_rsn, state_rsn_time, create_audit_key, update_audit_key FROM agt_i_state_rsn_subhr;
CREATE VIEW ag2_i_state_rsn_hour AS SELECT date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key, resource_state_key, resource_state_reason_key, state_rsn, state_rsn_time, create_audit_key, update_audit_key FROM agt_i_state_rsn_hour;
CREATE VIEW ag2_i_state_rsn_day AS SELECT date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key, resource_state_key, resource_state_reason_key, state_rsn, state_rsn_time, create_audit_key, update_audit_key FROM agt_i_state_rsn_day;
INSERT INTO gim_schema_version (schema_version, description, applied)
    VALUES ('0002', 'interval aggregates (RAA AGT_I_*)', now() AT TIME ZONE 'UTC');
"""


def upgrade() -> None:
    op.execute(DDL)


def downgrade() -> None:
    raise NotImplementedError("schema 0002 is not downgraded: restore the database instead")
