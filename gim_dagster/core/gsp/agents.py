"""The agent state machine: login sessions and state intervals per agent and media.

Each state event (ready, not ready, busy, after-call work) closes the open state interval and opens the next;
logout closes both the state and the session. Closed intervals are final and become rows at once; open ones
are emitted at the end of the micro-batch. After-call work for a call is added to that call's
INTERACTION_RESOURCE_FACT through ``GspState.acw`` (the agent and the call arrive on different topics).
"""

from __future__ import annotations

from typing import Any

from gim_dagster.core.facts.static_keys import RESOURCE_STATE_KEY
from gim_dagster.core.gsp.context import Context
from gim_dagster.core.gsp.keys import fact_id, irf_id
from gim_dagster.core.gsp.rows import Row, sm_row
from gim_dagster.core.gsp.state import Acw, AgentState

_STATE = {"ready": "READY", "not_ready": "NOTREADY", "busy": "BUSY", "after_call_work": "ACW"}
_WITH_INTERACTION = frozenset({"busy", "after_call_work"})


class AgentMachine:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.tenant = ctx.tenant
        self.agents = ctx.state.agents

    def apply(self, ev: Any) -> None:
        key = (ev.agent_id, ev.media)
        agent = self.agents.get(key)
        if agent is None:
            agent = self.agents[key] = AgentState()
        ts, event_type, session_id = ev.ts, ev.event_type, ev.session_id  # each field read once
        if agent.session_id != session_id or agent.session_key is None:
            self._close_session(key, agent, ts)
            agent.session_id, agent.session_start_ms, agent.place = session_id, ts, ev.place
            agent.session_key = fact_id(self.tenant, "session", session_id)
        state = _STATE.get(event_type)
        if state is not None:
            self._close_state(key, agent, ts, ev)
            agent.state, agent.state_event_id, agent.state_start_ms = state, ev.event_id, ts
            agent.reason = ev.reason_code if event_type == "not_ready" else None
            agent.interaction_id = ev.interaction_id if event_type in _WITH_INTERACTION else None
        if event_type == "logout":
            self._close_session(key, agent, ts)
            del self.agents[key]
            self.ctx.dirty_agents.discard(key)
        else:
            self.ctx.dirty_agents.add(key)

    def open_rows(self, key: tuple[str, str]) -> list[tuple[str, Row]]:
        """Rows of the agent's open session and state (active, no end yet)."""
        agent = self.agents.get(key)
        if agent is None:
            return []
        rows = [self._session_row(key, agent, None)]
        if agent.state is not None:
            rows += self._state_rows(key, agent, None)
        return rows

    def _close_session(self, key: tuple[str, str], agent: AgentState, ts: int) -> None:
        if agent.session_key is None:
            return
        self._close_state(key, agent, ts, None)
        self.ctx.rows.append(self._session_row(key, agent, ts))
        agent.session_key = None

    def _close_state(self, key: tuple[str, str], agent: AgentState, ts: int, nxt: Any) -> None:
        if agent.state is None:
            return
        self.ctx.rows += self._state_rows(key, agent, ts)
        ixn = agent.interaction_id
        if ixn is not None and key[1] == "voice":
            acw = self._acw(ixn, key[0])
            acw.last_ms = ts
            if agent.state == "ACW":
                acw.count += 1
                acw.secs += ts // 1000 - agent.state_start_ms // 1000
            continues = nxt is not None and nxt.event_type == "after_call_work" and nxt.interaction_id == ixn
            acw.done = not continues
            self.ctx.dirty_interactions.add(ixn)
        agent.state = None

    def _acw(self, interaction_id: str, agent_id: str) -> Acw:
        key = irf_id(self.tenant, interaction_id, agent_id)
        acw = self.ctx.state.acw.get(key)
        if acw is None:
            acw = self.ctx.state.acw[key] = Acw(interaction_id=interaction_id)
        return acw

    def _resolve(self, agent_id: str, at_ms: int) -> tuple[int, int]:
        """RESOURCE_KEY and RESOURCE_GROUP_COMBINATION_KEY of the agent when a fact starts."""
        resolver, at_s = self.ctx.resolver, at_ms // 1000
        return resolver.agent(agent_id, at_s), resolver.group_combination(agent_id, at_s)

    def _session_row(self, key: tuple[str, str], agent: AgentState, end_ms: int | None) -> tuple[str, Row]:
        assert agent.session_key is not None
        resource_key, combination = self._resolve(key[0], agent.session_start_ms)
        row = sm_row(
            "sm_res_session_fact_key",
            agent.session_key,
            agent.session_start_ms,
            end_ms,
            key[1],
            resource_key,
            {"resource_group_combination_key": combination},
        )
        return "sm_res_session_fact", row

    def _state_rows(
        self, key: tuple[str, str], agent: AgentState, end_ms: int | None
    ) -> list[tuple[str, Row]]:
        assert agent.state is not None
        resource_key, combination = self._resolve(key[0], agent.state_start_ms)
        state_key, session_key = RESOURCE_STATE_KEY[agent.state], agent.session_key
        tenant, event_id, start, media = self.tenant, agent.state_event_id, agent.state_start_ms, key[1]
        state_row = sm_row(
            "sm_res_state_fact_key",
            fact_id(tenant, "state", event_id),
            start,
            end_ms,
            media,
            resource_key,
            {
                "resource_state_key": state_key,
                "resource_group_combination_key": combination,
                "sm_res_session_fact_key": session_key,
            },
        )
        if agent.state != "NOTREADY":
            return [("sm_res_state_fact", state_row)]
        reason_row = sm_row(
            "sm_res_state_reason_fact_key",
            fact_id(tenant, "reason", event_id),
            start,
            end_ms,
            media,
            resource_key,
            {
                "resource_state_key": state_key,
                "resource_state_reason_key": self.ctx.resolver.reason(agent.reason, start // 1000),
                "resource_group_combination_key": combination,
                "sm_res_session_fact_key": session_key,
            },
        )
        nrr_row = sm_row(
            "sm_media_nrr_fact_key",
            fact_id(tenant, "nrr", event_id),
            start,
            end_ms,
            media,
            resource_key,
            {"resource_group_combination_key": combination, "sm_res_session_fact_key": session_key},
        )
        return [
            ("sm_res_state_fact", state_row),
            ("sm_res_state_reason_fact", reason_row),
            ("sm_media_nrr_fact", nrr_row),
        ]
