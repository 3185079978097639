# ruff: noqa: E501
"""Initial Info Mart schema: facts (partitioned), dimensions, control tables, seeded static dimensions.

Frozen DDL: this file never changes once released; a schema change is a new revision.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

DDL = r"""
CREATE SEQUENCE ctl_audit_log_audit_key_seq START WITH 2;
CREATE TABLE interaction_fact (
    interaction_id BIGINT NOT NULL,
    start_date_time_key INTEGER NOT NULL,
    end_date_time_key INTEGER,
    tenant_key INTEGER NOT NULL,
    start_ts INTEGER,
    end_ts INTEGER,
    media_type_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    media_server_root_ixn_guid VARCHAR(50),
    media_server_ixn_guid VARCHAR(50),
    source_address VARCHAR(255),
    target_address VARCHAR(255),
    subject VARCHAR(1024),
    status SMALLINT DEFAULT '0' NOT NULL,
    active_flag SMALLINT,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_interaction_fact PRIMARY KEY (interaction_id, start_date_time_key)
) PARTITION BY RANGE (start_date_time_key);
CREATE INDEX ix_interaction_fact_update_audit_key ON interaction_fact (update_audit_key);
CREATE TABLE interaction_fact_default PARTITION OF interaction_fact DEFAULT;
CREATE TABLE interaction_resource_fact (
    interaction_resource_id BIGINT NOT NULL,
    start_date_time_key INTEGER NOT NULL,
    end_date_time_key INTEGER,
    tenant_key INTEGER NOT NULL,
    start_ts INTEGER,
    end_ts INTEGER,
    interaction_id BIGINT NOT NULL,
    media_type_key INTEGER NOT NULL,
    interaction_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    place_key INTEGER,
    technical_descriptor_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER,
    mediation_segment_id BIGINT,
    mediation_resource_key INTEGER,
    received_from_ixn_resource_id BIGINT,
    prev_interaction_resource_id BIGINT,
    media_server_ixn_guid VARCHAR(50),
    ring_count INTEGER,
    ring_duration INTEGER,
    dial_count INTEGER,
    dial_duration INTEGER,
    talk_count INTEGER,
    talk_duration INTEGER,
    hold_count INTEGER,
    hold_duration INTEGER,
    after_call_work_count INTEGER,
    after_call_work_duration INTEGER,
    customer_ring_duration INTEGER,
    customer_dial_duration INTEGER,
    customer_talk_duration INTEGER,
    customer_hold_duration INTEGER,
    customer_acw_duration INTEGER,
    cons_init_dial_count INTEGER,
    cons_init_dial_duration INTEGER,
    cons_init_talk_count INTEGER,
    cons_init_talk_duration INTEGER,
    cons_init_hold_count INTEGER,
    cons_init_hold_duration INTEGER,
    cons_rcv_ring_count INTEGER,
    cons_rcv_ring_duration INTEGER,
    cons_rcv_talk_count INTEGER,
    cons_rcv_talk_duration INTEGER,
    cons_rcv_hold_count INTEGER,
    cons_rcv_hold_duration INTEGER,
    cons_rcv_acw_count INTEGER,
    cons_rcv_acw_duration INTEGER,
    irf_anchor SMALLINT,
    active_flag SMALLINT,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_interaction_resource_fact PRIMARY KEY (interaction_resource_id, start_date_time_key)
) PARTITION BY RANGE (start_date_time_key);
CREATE INDEX ix_interaction_resource_fact_update_audit_key ON interaction_resource_fact (update_audit_key);
CREATE TABLE interaction_resource_fact_default PARTITION OF interaction_resource_fact DEFAULT;
CREATE TABLE mediation_segment_fact (
    mediation_segment_id BIGINT NOT NULL,
    start_date_time_key INTEGER NOT NULL,
    end_date_time_key INTEGER,
    tenant_key INTEGER NOT NULL,
    start_ts INTEGER,
    end_ts INTEGER,
    interaction_id BIGINT NOT NULL,
    media_type_key INTEGER NOT NULL,
    interaction_type_key INTEGER,
    resource_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER,
    technical_descriptor_key INTEGER NOT NULL,
    target_ixn_resource_id BIGINT,
    mediation_duration INTEGER,
    active_flag SMALLINT,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_mediation_segment_fact PRIMARY KEY (mediation_segment_id, start_date_time_key)
) PARTITION BY RANGE (start_date_time_key);
CREATE INDEX ix_mediation_segment_fact_update_audit_key ON mediation_segment_fact (update_audit_key);
CREATE TABLE mediation_segment_fact_default PARTITION OF mediation_segment_fact DEFAULT;
CREATE TABLE sm_res_session_fact (
    sm_res_session_fact_key BIGINT NOT NULL,
    start_date_time_key INTEGER NOT NULL,
    end_date_time_key INTEGER,
    tenant_key INTEGER NOT NULL,
    start_ts INTEGER,
    end_ts INTEGER,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER,
    total_duration INTEGER,
    lead_clip_duration INTEGER,
    trail_clip_duration INTEGER,
    active_flag SMALLINT,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_sm_res_session_fact PRIMARY KEY (sm_res_session_fact_key, start_date_time_key)
) PARTITION BY RANGE (start_date_time_key);
CREATE INDEX ix_sm_res_session_fact_update_audit_key ON sm_res_session_fact (update_audit_key);
CREATE TABLE sm_res_session_fact_default PARTITION OF sm_res_session_fact DEFAULT;
CREATE TABLE sm_res_state_fact (
    sm_res_state_fact_key BIGINT NOT NULL,
    start_date_time_key INTEGER NOT NULL,
    end_date_time_key INTEGER,
    tenant_key INTEGER NOT NULL,
    start_ts INTEGER,
    end_ts INTEGER,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER,
    sm_res_session_fact_key BIGINT,
    resource_state_key INTEGER NOT NULL,
    total_duration INTEGER,
    lead_clip_duration INTEGER,
    trail_clip_duration INTEGER,
    active_flag SMALLINT,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_sm_res_state_fact PRIMARY KEY (sm_res_state_fact_key, start_date_time_key)
) PARTITION BY RANGE (start_date_time_key);
CREATE INDEX ix_sm_res_state_fact_update_audit_key ON sm_res_state_fact (update_audit_key);
CREATE TABLE sm_res_state_fact_default PARTITION OF sm_res_state_fact DEFAULT;
CREATE TABLE sm_res_state_reason_fact (
    sm_res_state_reason_fact_key BIGINT NOT NULL,
    start_date_time_key INTEGER NOT NULL,
    end_date_time_key INTEGER,
    tenant_key INTEGER NOT NULL,
    start_ts INTEGER,
    end_ts INTEGER,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER,
    sm_res_session_fact_key BIGINT,
    resource_state_key INTEGER NOT NULL,
    resource_state_reason_key INTEGER NOT NULL,
    total_duration INTEGER,
    lead_clip_duration INTEGER,
    trail_clip_duration INTEGER,
    active_flag SMALLINT,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_sm_res_state_reason_fact PRIMARY KEY (sm_res_state_reason_fact_key, start_date_time_key)
) PARTITION BY RANGE (start_date_time_key);
CREATE INDEX ix_sm_res_state_reason_fact_update_audit_key ON sm_res_state_reason_fact (update_audit_key);
CREATE TABLE sm_res_state_reason_fact_default PARTITION OF sm_res_state_reason_fact DEFAULT;
CREATE TABLE sm_media_nrr_fact (
    sm_media_nrr_fact_key BIGINT NOT NULL,
    start_date_time_key INTEGER NOT NULL,
    end_date_time_key INTEGER,
    tenant_key INTEGER NOT NULL,
    start_ts INTEGER,
    end_ts INTEGER,
    media_type_key INTEGER NOT NULL,
    resource_key INTEGER NOT NULL,
    resource_group_combination_key INTEGER,
    sm_res_session_fact_key BIGINT,
    total_duration INTEGER,
    lead_clip_duration INTEGER,
    trail_clip_duration INTEGER,
    active_flag SMALLINT,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_sm_media_nrr_fact PRIMARY KEY (sm_media_nrr_fact_key, start_date_time_key)
) PARTITION BY RANGE (start_date_time_key);
CREATE INDEX ix_sm_media_nrr_fact_update_audit_key ON sm_media_nrr_fact (update_audit_key);
CREATE TABLE sm_media_nrr_fact_default PARTITION OF sm_media_nrr_fact DEFAULT;
CREATE TABLE resource_group_fact_ (
    resource_key INTEGER NOT NULL,
    group_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    start_date_time_key INTEGER,
    end_date_time_key INTEGER,
    start_ts INTEGER NOT NULL,
    end_ts INTEGER,
    active_flag SMALLINT,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_resource_group_fact_ PRIMARY KEY (resource_key, group_key, start_ts)
);
CREATE INDEX ix_resource_group_fact__update_audit_key ON resource_group_fact_ (update_audit_key);
CREATE TABLE resource_skill_fact_ (
    resource_key INTEGER NOT NULL,
    skill_key INTEGER NOT NULL,
    tenant_key INTEGER NOT NULL,
    skill_level INTEGER,
    start_date_time_key INTEGER,
    end_date_time_key INTEGER,
    start_ts INTEGER NOT NULL,
    end_ts INTEGER,
    active_flag SMALLINT,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_resource_skill_fact_ PRIMARY KEY (resource_key, skill_key, start_ts)
);
CREATE INDEX ix_resource_skill_fact__update_audit_key ON resource_skill_fact_ (update_audit_key);
CREATE TABLE tenant (
    tenant_key SERIAL NOT NULL,
    tenant_name VARCHAR(255),
    tenant_cfg_dbid INTEGER,
    start_ts INTEGER,
    end_ts INTEGER,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_tenant PRIMARY KEY (tenant_key)
);
CREATE TABLE date_time (
    date_time_key SERIAL NOT NULL,
    date_time_30min_key INTEGER,
    date_time_hour_key INTEGER,
    date_time_day_key INTEGER,
    date_time_week_key INTEGER,
    date_time_month_key INTEGER,
    date_time_quarter_key INTEGER,
    date_time_year_key INTEGER,
    date_time_tz VARCHAR(64),
    date_time_tz_offset INTEGER,
    cal_date DATE,
    cal_year_num SMALLINT,
    cal_quarter_num_in_year SMALLINT,
    cal_month_num_in_year SMALLINT,
    cal_week_num_in_year SMALLINT,
    cal_day_num_in_week SMALLINT,
    cal_day_num_in_month SMALLINT,
    cal_day_num_in_year SMALLINT,
    cal_day_name VARCHAR(16),
    cal_month_name VARCHAR(16),
    cal_hour_24_num_in_day SMALLINT,
    cal_minute_num_in_hour SMALLINT,
    label_yyyy VARCHAR(4),
    label_yyyy_mm VARCHAR(7),
    label_yyyy_mm_dd VARCHAR(10),
    label_hh24 VARCHAR(2),
    label_15_min VARCHAR(11),
    label_30_min VARCHAR(11),
    label_60_min VARCHAR(11),
    utc_date DATE,
    utc_year_num SMALLINT,
    utc_month_num_in_year SMALLINT,
    utc_day_num_in_month SMALLINT,
    utc_hour_24_num_in_day SMALLINT,
    utc_minute_num_in_hour SMALLINT,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_date_time PRIMARY KEY (date_time_key)
);
CREATE TABLE media_type (
    media_type_key SERIAL NOT NULL,
    media_name VARCHAR(64),
    media_name_code VARCHAR(64),
    is_online SMALLINT,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_media_type PRIMARY KEY (media_type_key)
);
CREATE TABLE interaction_type (
    interaction_type_key SERIAL NOT NULL,
    interaction_type VARCHAR(64),
    interaction_type_code VARCHAR(64),
    interaction_subtype VARCHAR(64),
    interaction_subtype_code VARCHAR(64),
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_interaction_type PRIMARY KEY (interaction_type_key)
);
CREATE TABLE technical_descriptor (
    technical_descriptor_key SERIAL NOT NULL,
    resource_role VARCHAR(64),
    resource_role_code VARCHAR(64),
    role_reason VARCHAR(64),
    role_reason_code VARCHAR(64),
    technical_result VARCHAR(64),
    technical_result_code VARCHAR(64),
    result_reason VARCHAR(64),
    result_reason_code VARCHAR(64),
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_technical_descriptor PRIMARY KEY (technical_descriptor_key)
);
CREATE TABLE resource_state (
    resource_state_key SERIAL NOT NULL,
    state_name VARCHAR(64),
    state_name_code VARCHAR(64),
    state_type VARCHAR(64),
    state_type_code VARCHAR(64),
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_resource_state PRIMARY KEY (resource_state_key)
);
CREATE TABLE resource_state_reason (
    resource_state_reason_key SERIAL NOT NULL,
    tenant_key INTEGER,
    reason_type VARCHAR(64),
    reason_type_code VARCHAR(64),
    hardware_reason VARCHAR(255),
    software_reason_key VARCHAR(255),
    software_reason_value VARCHAR(255),
    workmode VARCHAR(64),
    workmode_code VARCHAR(64),
    start_ts INTEGER,
    end_ts INTEGER,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_resource_state_reason PRIMARY KEY (resource_state_reason_key)
);
CREATE TABLE resource_ (
    resource_key SERIAL NOT NULL,
    tenant_key INTEGER,
    resource_type VARCHAR(64),
    resource_type_code VARCHAR(64),
    resource_subtype VARCHAR(64),
    resource_name VARCHAR(255),
    resource_cfg_dbid INTEGER,
    resource_cfg_type_id INTEGER,
    agent_first_name VARCHAR(64),
    agent_last_name VARCHAR(64),
    employee_id VARCHAR(255),
    switch_name VARCHAR(255),
    start_ts INTEGER,
    end_ts INTEGER,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_resource_ PRIMARY KEY (resource_key)
);
CREATE TABLE group_ (
    group_key SERIAL NOT NULL,
    tenant_key INTEGER,
    group_name VARCHAR(255),
    group_cfg_dbid INTEGER,
    group_cfg_type_id INTEGER,
    group_type VARCHAR(64),
    group_type_code VARCHAR(64),
    start_ts INTEGER,
    end_ts INTEGER,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_group_ PRIMARY KEY (group_key)
);
CREATE TABLE place (
    place_key SERIAL NOT NULL,
    tenant_key INTEGER,
    place_name VARCHAR(255),
    place_cfg_dbid INTEGER,
    start_ts INTEGER,
    end_ts INTEGER,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_place PRIMARY KEY (place_key)
);
CREATE TABLE skill (
    skill_key SERIAL NOT NULL,
    tenant_key INTEGER,
    skill_name VARCHAR(255),
    skill_cfg_dbid INTEGER,
    start_ts INTEGER,
    end_ts INTEGER,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_skill PRIMARY KEY (skill_key)
);
CREATE TABLE resource_group_combination (
    resource_group_combination_key INTEGER NOT NULL,
    group_key INTEGER NOT NULL,
    tenant_key INTEGER,
    create_audit_key BIGINT NOT NULL,
    update_audit_key BIGINT NOT NULL,
    CONSTRAINT pk_resource_group_combination PRIMARY KEY (resource_group_combination_key, group_key)
);
CREATE TABLE ctl_audit_log (
    audit_key BIGSERIAL NOT NULL,
    job_id VARCHAR(64) NOT NULL,
    job_name VARCHAR(64),
    created TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    inserted TIMESTAMP WITHOUT TIME ZONE,
    processing_status_key INTEGER DEFAULT '0' NOT NULL,
    min_start_date_time_key INTEGER,
    max_start_date_time_key INTEGER,
    max_chunk_ts INTEGER,
    row_count INTEGER,
    created_ts INTEGER NOT NULL,
    CONSTRAINT pk_ctl_audit_log PRIMARY KEY (audit_key)
);
CREATE TABLE ctl_etl_history (
    job_id VARCHAR(64) NOT NULL,
    job_name VARCHAR(64) NOT NULL,
    job_version VARCHAR(64),
    start_time TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    end_time TIMESTAMP WITHOUT TIME ZONE,
    status VARCHAR(32) NOT NULL,
    details TEXT,
    CONSTRAINT pk_ctl_etl_history PRIMARY KEY (job_id)
);
CREATE TABLE gim_kafka_offsets (
    topic VARCHAR(255) NOT NULL,
    partition INTEGER NOT NULL,
    next_offset BIGINT NOT NULL,
    updated TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    CONSTRAINT pk_gim_kafka_offsets PRIMARY KEY (topic, partition)
);
CREATE TABLE gim_export_hwm (
    stream VARCHAR(64) NOT NULL,
    hwm_audit_key BIGINT NOT NULL,
    hwm_created_ts INTEGER,
    max_data_ts INTEGER,
    export_name VARCHAR(255),
    updated TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    CONSTRAINT pk_gim_export_hwm PRIMARY KEY (stream)
);
CREATE TABLE gim_schema_version (
    schema_version VARCHAR(32) NOT NULL,
    description VARCHAR(255),
    applied TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    CONSTRAINT pk_gim_schema_version PRIMARY KEY (schema_version)
);
"""

SEED = r"""
INSERT INTO ctl_audit_log (audit_key, job_id, job_name, created, inserted, processing_status_key, row_count, created_ts)
VALUES (1, 'schema-0001', 'migrate', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', 0, 0,
        extract(epoch FROM now())::integer);
INSERT INTO media_type (media_type_key, media_name, media_name_code, is_online, create_audit_key, update_audit_key) VALUES
    (1, 'Voice', 'VOICE', 1, 1, 1),
    (2, 'Chat', 'CHAT', 1, 1, 1),
    (3, 'E-mail', 'EMAIL', 0, 1, 1);
INSERT INTO interaction_type (interaction_type_key, interaction_type, interaction_type_code, interaction_subtype,
    interaction_subtype_code, create_audit_key, update_audit_key) VALUES
    (1, 'INBOUND', 'INBOUND', 'INBOUNDNEW', 'INBOUNDNEW', 1, 1),
    (2, 'OUTBOUND', 'OUTBOUND', 'OUTBOUNDNEW', 'OUTBOUNDNEW', 1, 1),
    (3, 'INTERNAL', 'INTERNAL', 'INTERNALNEW', 'INTERNALNEW', 1, 1),
    (4, 'INTERNAL', 'INTERNAL', 'CONSULT', 'CONSULT', 1, 1);
INSERT INTO technical_descriptor (technical_descriptor_key, resource_role, resource_role_code, role_reason,
    role_reason_code, technical_result, technical_result_code, result_reason, result_reason_code, create_audit_key,
    update_audit_key) VALUES
    (-1, 'UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN',
     'UNKNOWN', 'UNKNOWN', 'UNKNOWN', 1, 1),
    (1, 'RECEIVED', 'RECEIVED', 'UNKNOWN', 'UNKNOWN', 'COMPLETED',
     'COMPLETED', 'ANSWEREDBYAGENT', 'ANSWEREDBYAGENT', 1, 1),
    (2, 'RECEIVED', 'RECEIVED', 'UNKNOWN', 'UNKNOWN', 'TRANSFERRED',
     'TRANSFERRED', 'ANSWEREDBYAGENT', 'ANSWEREDBYAGENT', 1, 1),
    (3, 'RECEIVED', 'RECEIVED', 'UNKNOWN', 'UNKNOWN', 'CONFERENCED',
     'CONFERENCED', 'ANSWEREDBYAGENT', 'ANSWEREDBYAGENT', 1, 1),
    (4, 'RECEIVED', 'RECEIVED', 'UNKNOWN', 'UNKNOWN', 'REDIRECTED',
     'REDIRECTED', 'NOANSWER', 'NOANSWER', 1, 1),
    (5, 'RECEIVED', 'RECEIVED', 'UNKNOWN', 'UNKNOWN', 'ABANDONED',
     'ABANDONED', 'ABANDONEDWHILERINGING', 'ABANDONEDWHILERINGING', 1, 1),
    (6, 'RECEIVED', 'RECEIVED', 'UNKNOWN', 'UNKNOWN', 'REDIRECTED',
     'REDIRECTED', 'REJECTED', 'REJECTED', 1, 1),
    (7, 'INITIATED', 'INITIATED', 'UNKNOWN', 'UNKNOWN', 'COMPLETED',
     'COMPLETED', 'UNKNOWN', 'UNKNOWN', 1, 1),
    (8, 'INITIATED', 'INITIATED', 'UNKNOWN', 'UNKNOWN', 'ABANDONED',
     'ABANDONED', 'NOANSWER', 'NOANSWER', 1, 1),
    (9, 'INITIATED', 'INITIATED', 'UNKNOWN', 'UNKNOWN', 'TRANSFERRED',
     'TRANSFERRED', 'UNKNOWN', 'UNKNOWN', 1, 1),
    (10, 'INCONFERENCE', 'INCONFERENCE', 'CONFERENCEJOINED', 'CONFERENCEJOINED', 'COMPLETED',
     'COMPLETED', 'UNKNOWN', 'UNKNOWN', 1, 1),
    (11, 'RECEIVEDCONSULT', 'RECEIVEDCONSULT', 'UNKNOWN', 'UNKNOWN', 'COMPLETED',
     'COMPLETED', 'UNKNOWN', 'UNKNOWN', 1, 1),
    (12, 'INITIATEDCONSULT', 'INITIATEDCONSULT', 'UNKNOWN', 'UNKNOWN', 'COMPLETED',
     'COMPLETED', 'UNKNOWN', 'UNKNOWN', 1, 1),
    (13, 'ROUTEDTO', 'ROUTEDTO', 'UNKNOWN', 'UNKNOWN', 'DIVERTED',
     'DIVERTED', 'ANSWEREDBYAGENT', 'ANSWEREDBYAGENT', 1, 1),
    (14, 'ROUTEDTO', 'ROUTEDTO', 'UNKNOWN', 'UNKNOWN', 'DIVERTED',
     'DIVERTED', 'ABANDONEDWHILERINGING', 'ABANDONEDWHILERINGING', 1, 1),
    (15, 'ROUTEDTO', 'ROUTEDTO', 'UNKNOWN', 'UNKNOWN', 'ABANDONED',
     'ABANDONED', 'ABANDONEDWHILEQUEUED', 'ABANDONEDWHILEQUEUED', 1, 1),
    (16, 'ROUTEDTO', 'ROUTEDTO', 'UNKNOWN', 'UNKNOWN', 'CLEARED',
     'CLEARED', 'UNKNOWN', 'UNKNOWN', 1, 1),
    (17, 'UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'CLEARED',
     'CLEARED', 'STUCK', 'STUCK', 1, 1);
INSERT INTO resource_state (resource_state_key, state_name, state_name_code, state_type, state_type_code,
    create_audit_key, update_audit_key) VALUES
    (1, 'Ready', 'READY', 'Unknown', 'UNKNOWN', 1, 1),
    (2, 'Not Ready', 'NOTREADY', 'Unknown', 'UNKNOWN', 1, 1),
    (3, 'Busy', 'BUSY', 'Unknown', 'UNKNOWN', 1, 1),
    (4, 'After Call Work', 'ACW', 'Unknown', 'UNKNOWN', 1, 1),
    (5, 'Logged Out', 'LOGGED_OUT', 'Unknown', 'UNKNOWN', 1, 1);
INSERT INTO resource_ (resource_key, tenant_key, resource_type, resource_type_code, resource_name, create_audit_key,
    update_audit_key) VALUES (-1, 1, 'Unknown', 'UNKNOWN', 'Unknown', 1, 1);
INSERT INTO place (place_key, tenant_key, place_name, create_audit_key, update_audit_key) VALUES (-1, 1, 'Unknown', 1, 1);
INSERT INTO group_ (group_key, tenant_key, group_name, group_type, group_type_code, create_audit_key, update_audit_key)
    VALUES (-1, 1, 'No group', 'Unknown', 'UNKNOWN', 1, 1);
INSERT INTO skill (skill_key, tenant_key, skill_name, create_audit_key, update_audit_key) VALUES (-1, 1, 'Unknown', 1, 1);
INSERT INTO resource_state_reason (resource_state_reason_key, tenant_key, reason_type, reason_type_code, create_audit_key,
    update_audit_key) VALUES (-1, 1, 'Unknown', 'UNKNOWN', 1, 1);
INSERT INTO resource_group_combination (resource_group_combination_key, group_key, tenant_key, create_audit_key,
    update_audit_key) VALUES (-1, -1, 1, 1, 1);
INSERT INTO gim_schema_version (schema_version, description, applied)
    VALUES ('0001', 'initial Info Mart schema', now() AT TIME ZONE 'UTC');
"""


def upgrade() -> None:
    op.execute(DDL)
    op.execute(SEED)


def downgrade() -> None:
    raise NotImplementedError("the initial schema is not downgraded: drop the database instead")
