"""Info Mart rows (columns of ``core/infomart/tables.py``) from GSP state objects.

Durations are whole seconds the Info Mart way: each end point floored to seconds, then subtracted.

Each row is one dict display listing its columns in order (the order of the encoded record): building it in
one go costs about two thirds of assembling it from parts.
"""

from __future__ import annotations

from typing import Any

from gim_dagster.core.facts import static_keys as sk
from gim_dagster.core.gsp.keys import INTERVAL_S, KeyResolver
from gim_dagster.core.gsp.state import Acw, Interaction, Leg, Mediation

Row = dict[str, Any]
MEDIA_KEY = {"voice": sk.MEDIA_VOICE.key, "chat": sk.MEDIA_CHAT.key, "email": sk.MEDIA_EMAIL.key}

_LEG_TD: dict[tuple[str, str | None], sk.TechnicalDescriptor] = {
    ("received", "completed"): sk.TD_COMPLETED,
    ("received", "transferred"): sk.TD_TRANSFERRED,
    ("received", "conferenced"): sk.TD_CONFERENCED,
    ("received", "abandoned"): sk.TD_ABANDONED_WHILE_RINGING,
    ("received", "rejected"): sk.TD_REJECTED,
    ("received", "redirected"): sk.TD_REDIRECTED,
    ("initiated", "completed"): sk.TD_INITIATED_COMPLETED,
    ("initiated", "no_answer"): sk.TD_INITIATED_ABANDONED,
    ("initiated", "transferred"): sk.TD_INITIATED_TRANSFERRED,
    ("initiated", "conferenced"): sk.TD_INITIATED_COMPLETED,
    ("consult", "completed"): sk.TD_CONSULT_RECEIVED,
    ("consult", "transferred"): sk.TD_TRANSFERRED,
    ("consult", "conferenced"): sk.TD_IN_CONFERENCE,
    ("consult", "abandoned"): sk.TD_ABANDONED_WHILE_RINGING,
}
_MEDIATION_TD: dict[str | None, sk.TechnicalDescriptor] = {
    "routed": sk.TD_DIVERTED,
    "abandoned_ringing": sk.TD_DIVERTED_ABANDONED_WHILE_RINGING,
    "abandoned": sk.TD_ABANDONED_WHILE_QUEUED,
    "stopped": sk.TD_CLEARED,
    "timeout": sk.TD_CLOSED_BY_TIMEOUT,
}


def _times(start_ms: int, end_ms: int | None) -> tuple[int, int | None, int, int | None, int]:
    """The time columns every fact has: start_ts, end_ts, start/end_date_time_key and active_flag.

    The keys are ``date_time_key`` inlined (this runs for every row).
    """
    start = start_ms // 1000
    if end_ms is None:
        return start, None, start - start % INTERVAL_S, None, 1
    end = end_ms // 1000
    return start, end, start - start % INTERVAL_S, end - end % INTERVAL_S, 0


def interaction_row(ixn: Interaction) -> Row:
    start, end, start_key, end_key, active = _times(ixn.start_ms, ixn.end_ms)
    return {
        "interaction_id": ixn.fact_id,
        "start_ts": start,
        "end_ts": end,
        "start_date_time_key": start_key,
        "end_date_time_key": end_key,
        "tenant_key": sk.TENANT_KEY,
        "active_flag": active,
        "media_type_key": MEDIA_KEY[ixn.media],
        "interaction_type_key": sk.INTERACTION_TYPE_KEY[ixn.itype],
        "media_server_root_ixn_guid": ixn.ixn_id,
        "media_server_ixn_guid": ixn.ixn_id,
        "source_address": ixn.source,
        "target_address": ixn.target,
        "subject": ixn.subject,
        "status": 0,
    }


def interaction_rows(ixn: Interaction, acw: dict[int, Acw], resolver: KeyResolver) -> list[tuple[str, Row]]:
    """Every fact row of one interaction: the interaction, its stays in queues, its agents' parts."""
    rows: list[tuple[str, Row]] = [("interaction_fact", interaction_row(ixn))]
    rows += [("mediation_segment_fact", mediation_row(ixn, med, resolver)) for med in ixn.mediations]
    rows += [
        ("interaction_resource_fact", leg_row(ixn, leg, acw.get(leg.irf_id), resolver))
        for leg in ixn.legs.values()
    ]
    return rows


def _leg_td(ixn: Interaction, leg: Leg) -> int:
    if leg.result is None:
        return sk.TD_UNKNOWN.key
    if leg.result == "timeout":
        return sk.TD_CLOSED_BY_TIMEOUT.key
    result = "conferenced" if leg.conferenced and leg.result == "completed" else leg.result
    return _LEG_TD.get((leg.role, result), sk.TD_UNKNOWN).key


def leg_row(ixn: Interaction, leg: Leg, acw: Acw | None, resolver: KeyResolver) -> Row:
    at_s = leg.start_ms // 1000  # configuration keys as they were when the leg started
    resource_key = resolver.agent(leg.agent_id, at_s)
    counts, secs = leg.counts, leg.secs
    acw_count, acw_secs = (acw.count, acw.secs) if acw else (0, 0)
    ring, talk, hold = secs.get("ring", 0), secs.get("talk", 0), secs.get("hold", 0)
    consult = leg.role == "consult"
    consult_only = consult and not counts.get("handover")  # never had the customer: all is consultation
    start, end, start_key, end_key, active = _times(leg.start_ms, leg.end_ms)
    row: Row = {
        "interaction_resource_id": leg.irf_id,
        "start_ts": start,
        "end_ts": end,
        "start_date_time_key": start_key,
        "end_date_time_key": end_key,
        "tenant_key": sk.TENANT_KEY,
        "active_flag": active,
        "interaction_id": ixn.fact_id,
        "media_type_key": MEDIA_KEY[ixn.media],
        "interaction_type_key": sk.INTERACTION_TYPE_KEY[ixn.itype],
        "resource_key": resource_key,
        "place_key": resolver.place(leg.place, at_s),
        "technical_descriptor_key": _leg_td(ixn, leg),
        "resource_group_combination_key": resolver.group_combination(leg.agent_id, at_s),
        "mediation_segment_id": leg.mediation_id,
        "mediation_resource_key": resolver.queue(leg.mediation_queue, at_s) if leg.mediation_queue else None,
        "received_from_ixn_resource_id": leg.received_from,
        "prev_interaction_resource_id": leg.prev,
        "media_server_ixn_guid": ixn.ixn_id,
        "irf_anchor": int(leg.order == 1),
        "after_call_work_count": acw_count,
        "after_call_work_duration": acw_secs,
        "ring_count": counts.get("ring", 0),
        "ring_duration": ring,
        "dial_count": counts.get("dial", 0),
        "dial_duration": secs.get("dial", 0),
        "talk_count": counts.get("talk", 0),
        "talk_duration": talk,
        "hold_count": counts.get("hold", 0),
        "hold_duration": hold,
        # The customer's side: all but the consultation's part (docs/gsp.md, "Customer-side durations").
        "customer_ring_duration": 0 if consult else ring,
        "customer_dial_duration": secs.get("dial", 0),
        "customer_talk_duration": 0 if consult_only else talk - secs.get("cons_rcv_talk", 0),
        "customer_hold_duration": 0 if consult_only else hold - secs.get("cons_rcv_hold", 0),
        "customer_acw_duration": 0 if consult_only else acw_secs,
    }
    if consult:  # the consulted agent's ring is all consultation
        row["cons_rcv_ring_count"] = counts.get("ring", 0)
        row["cons_rcv_ring_duration"] = ring
        row["cons_rcv_talk_count"] = counts.get("cons_rcv_talk", 0)
        row["cons_rcv_talk_duration"] = secs.get("cons_rcv_talk", 0)
        row["cons_rcv_hold_count"] = counts.get("cons_rcv_hold", 0)
        row["cons_rcv_hold_duration"] = secs.get("cons_rcv_hold", 0)
        row["cons_rcv_acw_count"] = acw_count if consult_only else 0
        row["cons_rcv_acw_duration"] = acw_secs if consult_only else 0
    if counts.get("cons_dial"):  # the initiator holds the customer, not the consultation: no CONS_INIT hold
        row["cons_init_dial_count"] = counts["cons_dial"]
        row["cons_init_dial_duration"] = secs.get("cons_dial", 0)
        row["cons_init_talk_count"] = counts.get("cons_talk", 0)
        row["cons_init_talk_duration"] = secs.get("cons_talk", 0)
        row["cons_init_hold_count"] = 0
        row["cons_init_hold_duration"] = 0
    return row


def mediation_row(ixn: Interaction, med: Mediation, resolver: KeyResolver) -> Row:
    start, end, start_key, end_key, active = _times(med.start_ms, med.end_ms)
    row: Row = {
        "mediation_segment_id": med.msf_id,
        "start_ts": start,
        "end_ts": end,
        "start_date_time_key": start_key,
        "end_date_time_key": end_key,
        "tenant_key": sk.TENANT_KEY,
        "active_flag": active,
        "interaction_id": ixn.fact_id,
        "media_type_key": MEDIA_KEY[ixn.media],
        "interaction_type_key": sk.INTERACTION_TYPE_KEY[ixn.itype],
        "resource_key": resolver.queue(med.queue, med.start_ms // 1000),
        # The groups the queue was in when the interaction entered it: configuration has agent and place
        # groups only (no DN groups), so a queue is in none.
        "resource_group_combination_key": sk.NO_GROUP_COMBINATION_KEY,
        "technical_descriptor_key": _MEDIATION_TD.get(med.outcome, sk.TD_UNKNOWN).key,
        "target_ixn_resource_id": med.target_irf,
    }
    if end is not None:
        row["mediation_duration"] = end - start
    return row


def sm_row(
    id_column: str,
    fact_key: int,
    start_ms: int,
    end_ms: int | None,
    media: str,
    resource_key: int,
    extra: Row,
) -> Row:
    """A row of one of the SM_* tables (sessions, states, reasons, not-ready per media); ``extra`` ends it.

    An ended row also has TOTAL_DURATION and the parts in its first and last 15-minute interval.
    """
    start, end, start_key, end_key, active = _times(start_ms, end_ms)
    if end is None:
        row: Row = {
            id_column: fact_key,
            "start_ts": start,
            "end_ts": None,
            "start_date_time_key": start_key,
            "end_date_time_key": None,
            "tenant_key": sk.TENANT_KEY,
            "active_flag": active,
            "media_type_key": MEDIA_KEY[media],
            "resource_key": resource_key,
        }
    else:
        assert end_key is not None
        first_end = start_key + INTERVAL_S
        row = {
            id_column: fact_key,
            "start_ts": start,
            "end_ts": end,
            "start_date_time_key": start_key,
            "end_date_time_key": end_key,
            "tenant_key": sk.TENANT_KEY,
            "active_flag": active,
            "total_duration": end - start,
            "lead_clip_duration": (end if end < first_end else first_end) - start,  # min/max cost more
            "trail_clip_duration": end - (end_key if end_key > start else start) if end > first_end else 0,
            "media_type_key": MEDIA_KEY[media],
            "resource_key": resource_key,
        }
    row.update(extra)
    return row
