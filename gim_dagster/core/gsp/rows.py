"""Info Mart rows (columns of ``core/infomart/tables.py``) from GSP state objects.

Durations are whole seconds the Info Mart way: each end point floored to seconds, then subtracted.
"""

from __future__ import annotations

from typing import Any

from gim_dagster.core.gsp.keys import INTERVAL_S, KeyResolver, date_time_key
from gim_dagster.core.gsp.state import Acw, Interaction, Leg, Mediation
from gim_dagster.core.infomart import static_keys as sk

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


def _time(start_ms: int, end_ms: int | None) -> Row:
    start = start_ms // 1000
    end = None if end_ms is None else end_ms // 1000
    return {
        "start_ts": start,
        "end_ts": end,
        "start_date_time_key": date_time_key(start),
        "end_date_time_key": None if end is None else date_time_key(end),
        "tenant_key": sk.TENANT_KEY,
        "active_flag": int(end is None),
    }


def _clipped(start_ms: int, end_ms: int | None) -> Row:
    """Time columns plus TOTAL_DURATION and the parts in the first and last 15-minute interval."""
    row = _time(start_ms, end_ms)
    end = row["end_ts"]
    if end is None:
        return row
    start = row["start_ts"]
    first_end = row["start_date_time_key"] + INTERVAL_S
    row["total_duration"] = end - start
    row["lead_clip_duration"] = min(end, first_end) - start
    row["trail_clip_duration"] = end - max(start, row["end_date_time_key"]) if end > first_end else 0
    return row


def interaction_row(ixn: Interaction) -> Row:
    return {
        "interaction_id": ixn.fact_id,
        **_time(ixn.start_ms, ixn.end_ms),
        "media_type_key": MEDIA_KEY[ixn.media],
        "interaction_type_key": sk.INTERACTION_TYPE_KEY[ixn.itype],
        "media_server_root_ixn_guid": ixn.ixn_id,
        "media_server_ixn_guid": ixn.ixn_id,
        "source_address": ixn.source,
        "target_address": ixn.target,
        "subject": ixn.subject,
        "status": 0,
    }


def _leg_td(ixn: Interaction, leg: Leg) -> int:
    if leg.result is None:
        return sk.TD_UNKNOWN.key
    if leg.result == "timeout":
        return sk.TD_CLOSED_BY_TIMEOUT.key
    result = "conferenced" if leg.conferenced and leg.result == "completed" else leg.result
    return _LEG_TD.get((leg.role, result), sk.TD_UNKNOWN).key


def leg_row(ixn: Interaction, leg: Leg, acw: Acw | None, resolver: KeyResolver) -> Row:
    resource_key = resolver.agent(leg.agent_id)
    counts, secs = leg.counts, leg.secs
    row: Row = {
        "interaction_resource_id": leg.irf_id,
        **_time(leg.start_ms, leg.end_ms),
        "interaction_id": ixn.fact_id,
        "media_type_key": MEDIA_KEY[ixn.media],
        "interaction_type_key": sk.INTERACTION_TYPE_KEY[ixn.itype],
        "resource_key": resource_key,
        "place_key": resolver.place(leg.place),
        "technical_descriptor_key": _leg_td(ixn, leg),
        "resource_group_combination_key": resolver.group_combination(resource_key),
        "mediation_segment_id": leg.mediation_id,
        "mediation_resource_key": resolver.queue(leg.mediation_queue) if leg.mediation_queue else None,
        "received_from_ixn_resource_id": leg.received_from,
        "prev_interaction_resource_id": leg.prev,
        "media_server_ixn_guid": ixn.ixn_id,
        "irf_anchor": int(leg.order == 1),
        "after_call_work_count": acw.count if acw else 0,
        "after_call_work_duration": acw.secs if acw else 0,
    }
    for kind in ("ring", "dial", "talk", "hold"):
        row[f"{kind}_count"] = counts.get(kind, 0)
        row[f"{kind}_duration"] = secs.get(kind, 0)
    if leg.role == "consult":
        for kind in ("ring", "talk", "hold"):
            row[f"cons_rcv_{kind}_count"] = counts.get(kind, 0)
            row[f"cons_rcv_{kind}_duration"] = secs.get(kind, 0)
    if counts.get("cons_dial"):
        row["cons_init_dial_count"] = counts["cons_dial"]
    return row


def mediation_row(ixn: Interaction, med: Mediation, resolver: KeyResolver) -> Row:
    row: Row = {
        "mediation_segment_id": med.msf_id,
        **_time(med.start_ms, med.end_ms),
        "interaction_id": ixn.fact_id,
        "media_type_key": MEDIA_KEY[ixn.media],
        "interaction_type_key": sk.INTERACTION_TYPE_KEY[ixn.itype],
        "resource_key": resolver.queue(med.queue),
        "technical_descriptor_key": _MEDIATION_TD.get(med.outcome, sk.TD_UNKNOWN).key,
        "target_ixn_resource_id": med.target_irf,
    }
    if med.end_ms is not None:
        row["mediation_duration"] = med.end_ms // 1000 - med.start_ms // 1000
    return row


def sm_row(
    id_column: str,
    fact_key: int,
    start_ms: int,
    end_ms: int | None,
    media: str,
    resource_key: int,
    **extra: Any,
) -> Row:
    """A row of one of the SM_* tables (sessions, states, reasons, not-ready per media)."""
    return {
        id_column: fact_key,
        **_clipped(start_ms, end_ms),
        "media_type_key": MEDIA_KEY[media],
        "resource_key": resource_key,
        **extra,
    }
