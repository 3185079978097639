# ruff: noqa: E501
"""Queue aggregates (RAA AGT_QUEUE_*, AGT_QUEUE_ABN_*, AGT_QUEUE_ACC_AGENT_*), the MONTH level of every
aggregate, TIME_RANGE (the buckets of the abandon and accept tables), the AG2_* views of the new tables and the
group rollup views AG2_*_GRP_*. See docs/aggregates.md.

Frozen DDL: this file never changes once released; a schema change is a new revision.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DDL = r"""
CREATE TABLE agt_i_agent_month (
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
    CONSTRAINT pk_agt_i_agent_month PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key)
);
CREATE TABLE agt_i_sess_state_month (
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
    CONSTRAINT pk_agt_i_sess_state_month PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key)
);
CREATE TABLE agt_i_state_rsn_month (
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
    CONSTRAINT pk_agt_i_state_rsn_month PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key, resource_state_key, resource_state_reason_key)
);
CREATE TABLE agt_queue_subhr (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    entered INTEGER DEFAULT '0' NOT NULL,
    abandoned INTEGER DEFAULT '0' NOT NULL,
    abandoned_time INTEGER DEFAULT '0' NOT NULL,
    abandoned_short INTEGER DEFAULT '0' NOT NULL,
    abandoned_standard INTEGER DEFAULT '0' NOT NULL,
    abandoned_thr INTEGER DEFAULT '0' NOT NULL,
    abandoned_invite INTEGER DEFAULT '0' NOT NULL,
    distributed INTEGER DEFAULT '0' NOT NULL,
    distributed_time INTEGER DEFAULT '0' NOT NULL,
    redirected INTEGER DEFAULT '0' NOT NULL,
    routed_other INTEGER DEFAULT '0' NOT NULL,
    cleared INTEGER DEFAULT '0' NOT NULL,
    accepted INTEGER DEFAULT '0' NOT NULL,
    accepted_time INTEGER DEFAULT '0' NOT NULL,
    accepted_time_max INTEGER DEFAULT '0' NOT NULL,
    accepted_thr INTEGER DEFAULT '0' NOT NULL,
    accepted_agent INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_time INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_thr INTEGER DEFAULT '0' NOT NULL,
    transfer_init_agent INTEGER DEFAULT '0' NOT NULL,
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
    CONSTRAINT pk_agt_queue_subhr PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key)
);
CREATE TABLE agt_queue_hour (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    entered INTEGER DEFAULT '0' NOT NULL,
    abandoned INTEGER DEFAULT '0' NOT NULL,
    abandoned_time INTEGER DEFAULT '0' NOT NULL,
    abandoned_short INTEGER DEFAULT '0' NOT NULL,
    abandoned_standard INTEGER DEFAULT '0' NOT NULL,
    abandoned_thr INTEGER DEFAULT '0' NOT NULL,
    abandoned_invite INTEGER DEFAULT '0' NOT NULL,
    distributed INTEGER DEFAULT '0' NOT NULL,
    distributed_time INTEGER DEFAULT '0' NOT NULL,
    redirected INTEGER DEFAULT '0' NOT NULL,
    routed_other INTEGER DEFAULT '0' NOT NULL,
    cleared INTEGER DEFAULT '0' NOT NULL,
    accepted INTEGER DEFAULT '0' NOT NULL,
    accepted_time INTEGER DEFAULT '0' NOT NULL,
    accepted_time_max INTEGER DEFAULT '0' NOT NULL,
    accepted_thr INTEGER DEFAULT '0' NOT NULL,
    accepted_agent INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_time INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_thr INTEGER DEFAULT '0' NOT NULL,
    transfer_init_agent INTEGER DEFAULT '0' NOT NULL,
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
    CONSTRAINT pk_agt_queue_hour PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key)
);
CREATE TABLE agt_queue_day (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    entered INTEGER DEFAULT '0' NOT NULL,
    abandoned INTEGER DEFAULT '0' NOT NULL,
    abandoned_time INTEGER DEFAULT '0' NOT NULL,
    abandoned_short INTEGER DEFAULT '0' NOT NULL,
    abandoned_standard INTEGER DEFAULT '0' NOT NULL,
    abandoned_thr INTEGER DEFAULT '0' NOT NULL,
    abandoned_invite INTEGER DEFAULT '0' NOT NULL,
    distributed INTEGER DEFAULT '0' NOT NULL,
    distributed_time INTEGER DEFAULT '0' NOT NULL,
    redirected INTEGER DEFAULT '0' NOT NULL,
    routed_other INTEGER DEFAULT '0' NOT NULL,
    cleared INTEGER DEFAULT '0' NOT NULL,
    accepted INTEGER DEFAULT '0' NOT NULL,
    accepted_time INTEGER DEFAULT '0' NOT NULL,
    accepted_time_max INTEGER DEFAULT '0' NOT NULL,
    accepted_thr INTEGER DEFAULT '0' NOT NULL,
    accepted_agent INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_time INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_thr INTEGER DEFAULT '0' NOT NULL,
    transfer_init_agent INTEGER DEFAULT '0' NOT NULL,
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
    CONSTRAINT pk_agt_queue_day PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key)
);
CREATE TABLE agt_queue_month (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    entered INTEGER DEFAULT '0' NOT NULL,
    abandoned INTEGER DEFAULT '0' NOT NULL,
    abandoned_time INTEGER DEFAULT '0' NOT NULL,
    abandoned_short INTEGER DEFAULT '0' NOT NULL,
    abandoned_standard INTEGER DEFAULT '0' NOT NULL,
    abandoned_thr INTEGER DEFAULT '0' NOT NULL,
    abandoned_invite INTEGER DEFAULT '0' NOT NULL,
    distributed INTEGER DEFAULT '0' NOT NULL,
    distributed_time INTEGER DEFAULT '0' NOT NULL,
    redirected INTEGER DEFAULT '0' NOT NULL,
    routed_other INTEGER DEFAULT '0' NOT NULL,
    cleared INTEGER DEFAULT '0' NOT NULL,
    accepted INTEGER DEFAULT '0' NOT NULL,
    accepted_time INTEGER DEFAULT '0' NOT NULL,
    accepted_time_max INTEGER DEFAULT '0' NOT NULL,
    accepted_thr INTEGER DEFAULT '0' NOT NULL,
    accepted_agent INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_time INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_thr INTEGER DEFAULT '0' NOT NULL,
    transfer_init_agent INTEGER DEFAULT '0' NOT NULL,
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
    CONSTRAINT pk_agt_queue_month PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key)
);
CREATE TABLE agt_queue_abn_subhr (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    time_range_key INTEGER NOT NULL,
    abandoned INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_1 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_2 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_3 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_4 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_5 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_6 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_7 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_8 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_9 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_10 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_11 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_12 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_13 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_14 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_15 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_16 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_17 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_18 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_19 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_20 INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_queue_abn_subhr PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key)
);
CREATE TABLE agt_queue_abn_hour (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    time_range_key INTEGER NOT NULL,
    abandoned INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_1 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_2 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_3 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_4 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_5 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_6 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_7 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_8 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_9 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_10 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_11 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_12 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_13 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_14 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_15 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_16 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_17 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_18 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_19 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_20 INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_queue_abn_hour PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key)
);
CREATE TABLE agt_queue_abn_day (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    time_range_key INTEGER NOT NULL,
    abandoned INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_1 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_2 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_3 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_4 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_5 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_6 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_7 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_8 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_9 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_10 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_11 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_12 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_13 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_14 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_15 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_16 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_17 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_18 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_19 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_20 INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_queue_abn_day PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key)
);
CREATE TABLE agt_queue_abn_month (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    time_range_key INTEGER NOT NULL,
    abandoned INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_1 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_2 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_3 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_4 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_5 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_6 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_7 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_8 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_9 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_10 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_11 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_12 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_13 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_14 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_15 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_16 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_17 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_18 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_19 INTEGER DEFAULT '0' NOT NULL,
    abandoned_sti_20 INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_queue_abn_month PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key)
);
CREATE TABLE agt_queue_acc_agent_subhr (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    time_range_key INTEGER NOT NULL,
    accepted_agent INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_1 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_2 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_3 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_4 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_5 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_6 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_7 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_8 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_9 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_10 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_11 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_12 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_13 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_14 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_15 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_16 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_17 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_18 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_19 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_20 INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_queue_acc_agent_subhr PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key)
);
CREATE TABLE agt_queue_acc_agent_hour (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    time_range_key INTEGER NOT NULL,
    accepted_agent INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_1 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_2 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_3 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_4 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_5 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_6 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_7 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_8 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_9 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_10 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_11 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_12 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_13 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_14 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_15 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_16 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_17 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_18 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_19 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_20 INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_queue_acc_agent_hour PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key)
);
CREATE TABLE agt_queue_acc_agent_day (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    time_range_key INTEGER NOT NULL,
    accepted_agent INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_1 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_2 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_3 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_4 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_5 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_6 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_7 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_8 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_9 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_10 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_11 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_12 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_13 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_14 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_15 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_16 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_17 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_18 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_19 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_20 INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_queue_acc_agent_day PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key)
);
CREATE TABLE agt_queue_acc_agent_month (
    date_time_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER NOT NULL,
    time_range_key INTEGER NOT NULL,
    accepted_agent INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_1 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_2 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_3 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_4 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_5 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_6 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_7 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_8 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_9 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_10 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_11 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_12 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_13 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_14 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_15 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_16 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_17 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_18 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_19 INTEGER DEFAULT '0' NOT NULL,
    accepted_agent_sti_20 INTEGER DEFAULT '0' NOT NULL,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_agt_queue_acc_agent_month PRIMARY KEY (date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key)
);
CREATE TABLE time_range (
    time_range_key INTEGER NOT NULL,
    time_range_name VARCHAR(64) NOT NULL,
    bucket_num SMALLINT NOT NULL,
    range_start INTEGER NOT NULL,
    range_end INTEGER,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_time_range PRIMARY KEY (time_range_key, bucket_num)
);
CREATE VIEW ag2_i_agent_month AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, offered, accepted, invite, invite_time, engage, engage_time, hold, hold_time, wrap, wrap_time, create_audit_key, update_audit_key FROM agt_i_agent_month;
CREATE VIEW ag2_i_sess_state_month AS SELECT date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key, active_time, ready, ready_time, not_ready, not_ready_time, busy, busy_time, wrap, wrap_time, create_audit_key, update_audit_key FROM agt_i_sess_state_month;
CREATE VIEW ag2_i_state_rsn_month AS SELECT date_time_key, tenant_key, media_type_key, resource_key, resource_group_combination_key, resource_state_key, resource_state_reason_key, state_rsn, state_rsn_time, create_audit_key, update_audit_key FROM agt_i_state_rsn_month;
CREATE VIEW ag2_queue_subhr AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, entered, abandoned, abandoned_time, abandoned_short, abandoned_standard, abandoned_thr, abandoned_invite, distributed, distributed_time, redirected, routed_other, cleared, accepted, accepted_time, accepted_time_max, accepted_thr, accepted_agent, accepted_agent_time, accepted_agent_thr, transfer_init_agent, invite, invite_time, engage, engage_time, hold, hold_time, wrap, wrap_time, create_audit_key, update_audit_key FROM agt_queue_subhr;
CREATE VIEW ag2_queue_hour AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, entered, abandoned, abandoned_time, abandoned_short, abandoned_standard, abandoned_thr, abandoned_invite, distributed, distributed_time, redirected, routed_other, cleared, accepted, accepted_time, accepted_time_max, accepted_thr, accepted_agent, accepted_agent_time, accepted_agent_thr, transfer_init_agent, invite, invite_time, engage, engage_time, hold, hold_time, wrap, wrap_time, create_audit_key, update_audit_key FROM agt_queue_hour;
CREATE VIEW ag2_queue_day AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, entered, abandoned, abandoned_time, abandoned_short, abandoned_standard, abandoned_thr, abandoned_invite, distributed, distributed_time, redirected, routed_other, cleared, accepted, accepted_time, accepted_time_max, accepted_thr, accepted_agent, accepted_agent_time, accepted_agent_thr, transfer_init_agent, invite, invite_time, engage, engage_time, hold, hold_time, wrap, wrap_time, create_audit_key, update_audit_key FROM agt_queue_day;
CREATE VIEW ag2_queue_month AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, entered, abandoned, abandoned_time, abandoned_short, abandoned_standard, abandoned_thr, abandoned_invite, distributed, distributed_time, redirected, routed_other, cleared, accepted, accepted_time, accepted_time_max, accepted_thr, accepted_agent, accepted_agent_time, accepted_agent_thr, transfer_init_agent, invite, invite_time, engage, engage_time, hold, hold_time, wrap, wrap_time, create_audit_key, update_audit_key FROM agt_queue_month;
CREATE VIEW ag2_queue_abn_subhr AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key, abandoned, abandoned_sti_1, abandoned_sti_2, abandoned_sti_3, abandoned_sti_4, abandoned_sti_5, abandoned_sti_6, abandoned_sti_7, abandoned_sti_8, abandoned_sti_9, abandoned_sti_10, abandoned_sti_11, abandoned_sti_12, abandoned_sti_13, abandoned_sti_14, abandoned_sti_15, abandoned_sti_16, abandoned_sti_17, abandoned_sti_18, abandoned_sti_19, abandoned_sti_20, create_audit_key, update_audit_key FROM agt_queue_abn_subhr;
CREATE VIEW ag2_queue_abn_hour AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key, abandoned, abandoned_sti_1, abandoned_sti_2, abandoned_sti_3, abandoned_sti_4, abandoned_sti_5, abandoned_sti_6, abandoned_sti_7, abandoned_sti_8, abandoned_sti_9, abandoned_sti_10, abandoned_sti_11, abandoned_sti_12, abandoned_sti_13, abandoned_sti_14, abandoned_sti_15, abandoned_sti_16, abandoned_sti_17, abandoned_sti_18, abandoned_sti_19, abandoned_sti_20, create_audit_key, update_audit_key FROM agt_queue_abn_hour;
CREATE VIEW ag2_queue_abn_day AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key, abandoned, abandoned_sti_1, abandoned_sti_2, abandoned_sti_3, abandoned_sti_4, abandoned_sti_5, abandoned_sti_6, abandoned_sti_7, abandoned_sti_8, abandoned_sti_9, abandoned_sti_10, abandoned_sti_11, abandoned_sti_12, abandoned_sti_13, abandoned_sti_14, abandoned_sti_15, abandoned_sti_16, abandoned_sti_17, abandoned_sti_18, abandoned_sti_19, abandoned_sti_20, create_audit_key, update_audit_key FROM agt_queue_abn_day;
CREATE VIEW ag2_queue_abn_month AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key, abandoned, abandoned_sti_1, abandoned_sti_2, abandoned_sti_3, abandoned_sti_4, abandoned_sti_5, abandoned_sti_6, abandoned_sti_7, abandoned_sti_8, abandoned_sti_9, abandoned_sti_10, abandoned_sti_11, abandoned_sti_12, abandoned_sti_13, abandoned_sti_14, abandoned_sti_15, abandoned_sti_16, abandoned_sti_17, abandoned_sti_18, abandoned_sti_19, abandoned_sti_20, create_audit_key, update_audit_key FROM agt_queue_abn_month;
CREATE VIEW ag2_queue_acc_agent_subhr AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key, accepted_agent, accepted_agent_sti_1, accepted_agent_sti_2, accepted_agent_sti_3, accepted_agent_sti_4, accepted_agent_sti_5, accepted_agent_sti_6, accepted_agent_sti_7, accepted_agent_sti_8, accepted_agent_sti_9, accepted_agent_sti_10, accepted_agent_sti_11, accepted_agent_sti_12, accepted_agent_sti_13, accepted_agent_sti_14, accepted_agent_sti_15, accepted_agent_sti_16, accepted_agent_sti_17, accepted_agent_sti_18, accepted_agent_sti_19, accepted_agent_sti_20, create_audit_key, update_audit_key FROM agt_queue_acc_agent_subhr;
CREATE VIEW ag2_queue_acc_agent_hour AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key, accepted_agent, accepted_agent_sti_1, accepted_agent_sti_2, accepted_agent_sti_3, accepted_agent_sti_4, accepted_agent_sti_5, accepted_agent_sti_6, accepted_agent_sti_7, accepted_agent_sti_8, accepted_agent_sti_9, accepted_agent_sti_10, accepted_agent_sti_11, accepted_agent_sti_12, accepted_agent_sti_13, accepted_agent_sti_14, accepted_agent_sti_15, accepted_agent_sti_16, accepted_agent_sti_17, accepted_agent_sti_18, accepted_agent_sti_19, accepted_agent_sti_20, create_audit_key, update_audit_key FROM agt_queue_acc_agent_hour;
CREATE VIEW ag2_queue_acc_agent_day AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key, accepted_agent, accepted_agent_sti_1, accepted_agent_sti_2, accepted_agent_sti_3, accepted_agent_sti_4, accepted_agent_sti_5, accepted_agent_sti_6, accepted_agent_sti_7, accepted_agent_sti_8, accepted_agent_sti_9, accepted_agent_sti_10, accepted_agent_sti_11, accepted_agent_sti_12, accepted_agent_sti_13, accepted_agent_sti_14, accepted_agent_sti_15, accepted_agent_sti_16, accepted_agent_sti_17, accepted_agent_sti_18, accepted_agent_sti_19, accepted_agent_sti_20, create_audit_key, update_audit_key FROM agt_queue_acc_agent_day;
CREATE VIEW ag2_queue_acc_agent_month AS SELECT date_time_key, tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, time_range_key, accepted_agent, accepted_agent_sti_1, accepted_agent_sti_2, accepted_agent_sti_3, accepted_agent_sti_4, accepted_agent_sti_5, accepted_agent_sti_6, accepted_agent_sti_7, accepted_agent_sti_8, accepted_agent_sti_9, accepted_agent_sti_10, accepted_agent_sti_11, accepted_agent_sti_12, accepted_agent_sti_13, accepted_agent_sti_14, accepted_agent_sti_15, accepted_agent_sti_16, accepted_agent_sti_17, accepted_agent_sti_18, accepted_agent_sti_19, accepted_agent_sti_20, create_audit_key, update_audit_key FROM agt_queue_acc_agent_month;
CREATE VIEW ag2_i_agent_grp_subhr AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key, sum(a.offered) AS offered, sum(a.accepted) AS accepted, sum(a.invite) AS invite, sum(a.invite_time) AS invite_time, sum(a.engage) AS engage, sum(a.engage_time) AS engage_time, sum(a.hold) AS hold, sum(a.hold_time) AS hold_time, sum(a.wrap) AS wrap, sum(a.wrap_time) AS wrap_time, max(a.update_audit_key) AS update_audit_key FROM agt_i_agent_subhr a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key;
CREATE VIEW ag2_i_agent_grp_hour AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key, sum(a.offered) AS offered, sum(a.accepted) AS accepted, sum(a.invite) AS invite, sum(a.invite_time) AS invite_time, sum(a.engage) AS engage, sum(a.engage_time) AS engage_time, sum(a.hold) AS hold, sum(a.hold_time) AS hold_time, sum(a.wrap) AS wrap, sum(a.wrap_time) AS wrap_time, max(a.update_audit_key) AS update_audit_key FROM agt_i_agent_hour a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key;
CREATE VIEW ag2_i_agent_grp_day AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key, sum(a.offered) AS offered, sum(a.accepted) AS accepted, sum(a.invite) AS invite, sum(a.invite_time) AS invite_time, sum(a.engage) AS engage, sum(a.engage_time) AS engage_time, sum(a.hold) AS hold, sum(a.hold_time) AS hold_time, sum(a.wrap) AS wrap, sum(a.wrap_time) AS wrap_time, max(a.update_audit_key) AS update_audit_key FROM agt_i_agent_day a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key;
CREATE VIEW ag2_i_agent_grp_month AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key, sum(a.offered) AS offered, sum(a.accepted) AS accepted, sum(a.invite) AS invite, sum(a.invite_time) AS invite_time, sum(a.engage) AS engage, sum(a.engage_time) AS engage_time, sum(a.hold) AS hold, sum(a.hold_time) AS hold_time, sum(a.wrap) AS wrap, sum(a.wrap_time) AS wrap_time, max(a.update_audit_key) AS update_audit_key FROM agt_i_agent_month a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key;
CREATE VIEW ag2_i_sess_state_grp_subhr AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, c.group_key, sum(a.active_time) AS active_time, sum(a.ready) AS ready, sum(a.ready_time) AS ready_time, sum(a.not_ready) AS not_ready, sum(a.not_ready_time) AS not_ready_time, sum(a.busy) AS busy, sum(a.busy_time) AS busy_time, sum(a.wrap) AS wrap, sum(a.wrap_time) AS wrap_time, max(a.update_audit_key) AS update_audit_key FROM agt_i_sess_state_subhr a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, c.group_key;
CREATE VIEW ag2_i_sess_state_grp_hour AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, c.group_key, sum(a.active_time) AS active_time, sum(a.ready) AS ready, sum(a.ready_time) AS ready_time, sum(a.not_ready) AS not_ready, sum(a.not_ready_time) AS not_ready_time, sum(a.busy) AS busy, sum(a.busy_time) AS busy_time, sum(a.wrap) AS wrap, sum(a.wrap_time) AS wrap_time, max(a.update_audit_key) AS update_audit_key FROM agt_i_sess_state_hour a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, c.group_key;
CREATE VIEW ag2_i_sess_state_grp_day AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, c.group_key, sum(a.active_time) AS active_time, sum(a.ready) AS ready, sum(a.ready_time) AS ready_time, sum(a.not_ready) AS not_ready, sum(a.not_ready_time) AS not_ready_time, sum(a.busy) AS busy, sum(a.busy_time) AS busy_time, sum(a.wrap) AS wrap, sum(a.wrap_time) AS wrap_time, max(a.update_audit_key) AS update_audit_key FROM agt_i_sess_state_day a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, c.group_key;
CREATE VIEW ag2_i_sess_state_grp_month AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, c.group_key, sum(a.active_time) AS active_time, sum(a.ready) AS ready, sum(a.ready_time) AS ready_time, sum(a.not_ready) AS not_ready, sum(a.not_ready_time) AS not_ready_time, sum(a.busy) AS busy, sum(a.busy_time) AS busy_time, sum(a.wrap) AS wrap, sum(a.wrap_time) AS wrap_time, max(a.update_audit_key) AS update_audit_key FROM agt_i_sess_state_month a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, c.group_key;
CREATE VIEW ag2_i_state_rsn_grp_subhr AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, a.resource_state_key, a.resource_state_reason_key, c.group_key, sum(a.state_rsn) AS state_rsn, sum(a.state_rsn_time) AS state_rsn_time, max(a.update_audit_key) AS update_audit_key FROM agt_i_state_rsn_subhr a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, a.resource_state_key, a.resource_state_reason_key, c.group_key;
CREATE VIEW ag2_i_state_rsn_grp_hour AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, a.resource_state_key, a.resource_state_reason_key, c.group_key, sum(a.state_rsn) AS state_rsn, sum(a.state_rsn_time) AS state_rsn_time, max(a.update_audit_key) AS update_audit_key FROM agt_i_state_rsn_hour a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, a.resource_state_key, a.resource_state_reason_key, c.group_key;
CREATE VIEW ag2_i_state_rsn_grp_day AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, a.resource_state_key, a.resource_state_reason_key, c.group_key, sum(a.state_rsn) AS state_rsn, sum(a.state_rsn_time) AS state_rsn_time, max(a.update_audit_key) AS update_audit_key FROM agt_i_state_rsn_day a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, a.resource_state_key, a.resource_state_reason_key, c.group_key;
CREATE VIEW ag2_i_state_rsn_grp_month AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, a.resource_state_key, a.resource_state_reason_key, c.group_key, sum(a.state_rsn) AS state_rsn, sum(a.state_rsn_time) AS state_rsn_time, max(a.update_audit_key) AS update_audit_key FROM agt_i_state_rsn_month a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, a.resource_state_key, a.resource_state_reason_key, c.group_key;
CREATE VIEW ag2_queue_grp_subhr AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key, sum(a.entered) AS entered, sum(a.abandoned) AS abandoned, sum(a.abandoned_time) AS abandoned_time, sum(a.abandoned_short) AS abandoned_short, sum(a.abandoned_standard) AS abandoned_standard, sum(a.abandoned_thr) AS abandoned_thr, sum(a.abandoned_invite) AS abandoned_invite, sum(a.distributed) AS distributed, sum(a.distributed_time) AS distributed_time, sum(a.redirected) AS redirected, sum(a.routed_other) AS routed_other, sum(a.cleared) AS cleared, sum(a.accepted) AS accepted, sum(a.accepted_time) AS accepted_time, max(a.accepted_time_max) AS accepted_time_max, sum(a.accepted_thr) AS accepted_thr, sum(a.accepted_agent) AS accepted_agent, sum(a.accepted_agent_time) AS accepted_agent_time, sum(a.accepted_agent_thr) AS accepted_agent_thr, sum(a.transfer_init_agent) AS transfer_init_agent, sum(a.invite) AS invite, sum(a.invite_time) AS invite_time, sum(a.engage) AS engage, sum(a.engage_time) AS engage_time, sum(a.hold) AS hold, sum(a.hold_time) AS hold_time, sum(a.wrap) AS wrap, sum(a.wrap_time) AS wrap_time, max(a.update_audit_key) AS update_audit_key FROM agt_queue_subhr a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key;
CREATE VIEW ag2_queue_grp_hour AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key, sum(a.entered) AS entered, sum(a.abandoned) AS abandoned, sum(a.abandoned_time) AS abandoned_time, sum(a.abandoned_short) AS abandoned_short, sum(a.abandoned_standard) AS abandoned_standard, sum(a.abandoned_thr) AS abandoned_thr, sum(a.abandoned_invite) AS abandoned_invite, sum(a.distributed) AS distributed, sum(a.distributed_time) AS distributed_time, sum(a.redirected) AS redirected, sum(a.routed_other) AS routed_other, sum(a.cleared) AS cleared, sum(a.accepted) AS accepted, sum(a.accepted_time) AS accepted_time, max(a.accepted_time_max) AS accepted_time_max, sum(a.accepted_thr) AS accepted_thr, sum(a.accepted_agent) AS accepted_agent, sum(a.accepted_agent_time) AS accepted_agent_time, sum(a.accepted_agent_thr) AS accepted_agent_thr, sum(a.transfer_init_agent) AS transfer_init_agent, sum(a.invite) AS invite, sum(a.invite_time) AS invite_time, sum(a.engage) AS engage, sum(a.engage_time) AS engage_time, sum(a.hold) AS hold, sum(a.hold_time) AS hold_time, sum(a.wrap) AS wrap, sum(a.wrap_time) AS wrap_time, max(a.update_audit_key) AS update_audit_key FROM agt_queue_hour a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key;
CREATE VIEW ag2_queue_grp_day AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key, sum(a.entered) AS entered, sum(a.abandoned) AS abandoned, sum(a.abandoned_time) AS abandoned_time, sum(a.abandoned_short) AS abandoned_short, sum(a.abandoned_standard) AS abandoned_standard, sum(a.abandoned_thr) AS abandoned_thr, sum(a.abandoned_invite) AS abandoned_invite, sum(a.distributed) AS distributed, sum(a.distributed_time) AS distributed_time, sum(a.redirected) AS redirected, sum(a.routed_other) AS routed_other, sum(a.cleared) AS cleared, sum(a.accepted) AS accepted, sum(a.accepted_time) AS accepted_time, max(a.accepted_time_max) AS accepted_time_max, sum(a.accepted_thr) AS accepted_thr, sum(a.accepted_agent) AS accepted_agent, sum(a.accepted_agent_time) AS accepted_agent_time, sum(a.accepted_agent_thr) AS accepted_agent_thr, sum(a.transfer_init_agent) AS transfer_init_agent, sum(a.invite) AS invite, sum(a.invite_time) AS invite_time, sum(a.engage) AS engage, sum(a.engage_time) AS engage_time, sum(a.hold) AS hold, sum(a.hold_time) AS hold_time, sum(a.wrap) AS wrap, sum(a.wrap_time) AS wrap_time, max(a.update_audit_key) AS update_audit_key FROM agt_queue_day a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key;
CREATE VIEW ag2_queue_grp_month AS SELECT a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key, sum(a.entered) AS entered, sum(a.abandoned) AS abandoned, sum(a.abandoned_time) AS abandoned_time, sum(a.abandoned_short) AS abandoned_short, sum(a.abandoned_standard) AS abandoned_standard, sum(a.abandoned_thr) AS abandoned_thr, sum(a.abandoned_invite) AS abandoned_invite, sum(a.distributed) AS distributed, sum(a.distributed_time) AS distributed_time, sum(a.redirected) AS redirected, sum(a.routed_other) AS routed_other, sum(a.cleared) AS cleared, sum(a.accepted) AS accepted, sum(a.accepted_time) AS accepted_time, max(a.accepted_time_max) AS accepted_time_max, sum(a.accepted_thr) AS accepted_thr, sum(a.accepted_agent) AS accepted_agent, sum(a.accepted_agent_time) AS accepted_agent_time, sum(a.accepted_agent_thr) AS accepted_agent_thr, sum(a.transfer_init_agent) AS transfer_init_agent, sum(a.invite) AS invite, sum(a.invite_time) AS invite_time, sum(a.engage) AS engage, sum(a.engage_time) AS engage_time, sum(a.hold) AS hold, sum(a.hold_time) AS hold_time, sum(a.wrap) AS wrap, sum(a.wrap_time) AS wrap_time, max(a.update_audit_key) AS update_audit_key FROM agt_queue_month a JOIN resource_group_combination c ON c.resource_group_combination_key = a.resource_group_combination_key GROUP BY a.date_time_key, a.tenant_key, a.media_type_key, a.interaction_type_key, c.group_key;
INSERT INTO gim_schema_version (schema_version, description, applied)
    VALUES ('0003', 'queue aggregates (RAA AGT_QUEUE_*), MONTH level, group rollup views', now() AT TIME ZONE 'UTC');
"""


def upgrade() -> None:
    op.execute(DDL)


def downgrade() -> None:
    raise NotImplementedError("schema 0003 is not downgraded: restore the database instead")
