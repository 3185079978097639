"""Traffic simulator with a ground-truth ledger (pure Python, no Dagster).

``simulate(roster, params)`` returns the records to produce, in delivery order, and the ledger of what truly
happened. See docs/events.md for the event contract and the ledger tables.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass

from gim_dagster.core.events.parse import gc_paused
from gim_dagster.core.sim.delivery import Record, deliver, serialise
from gim_dagster.core.sim.engine import Simulator
from gim_dagster.core.sim.ledger import Ledger, build_tables
from gim_dagster.core.sim.params import TrafficParams
from gim_dagster.core.sim.roster import Agent, Queue, Roster, RoutingPoint

__all__ = [
    "Agent",
    "Ledger",
    "Queue",
    "Record",
    "Roster",
    "RoutingPoint",
    "Simulation",
    "TrafficParams",
    "simulate",
]


@dataclass
class Simulation:
    records: list[Record]  # in delivery order, faults included
    ledger: Ledger
    run_id: str


def simulate(
    roster: Roster, params: TrafficParams, progress: Callable[[float], None] | None = None
) -> Simulation:
    """Simulate ``params.hours`` of traffic; ``progress`` is called with the simulated fraction done."""
    sim = Simulator(roster, params)
    with gc_paused():  # many small acyclic objects: collections would only cost time
        events = sim.run(progress)
        clean = serialise(events, params.tenant, sim.run_id)
        records, faults = deliver(clean, params, sim.run_id)
        tables = build_tables(sim.interactions, sim.states, sim.sessions, faults)
    run = {
        "run_id": sim.run_id,
        "params": {**asdict(params), "start": params.start.isoformat()},
        "agents": len(roster.agents),
        "events": dict(Counter(ev.kind for ev in clean)),
        "records": len(records),
        "faults": dict(Counter(str(f["kind"]) for f in faults)),
        "interactions": dict(Counter(i.media for i in sim.interactions)),
    }
    return Simulation(records, Ledger(tables, run), sim.run_id)
