"""Who and what the simulated contact centre has: agents, queues, routing points, not-ready reasons.

Plain dataclasses so that the Configuration DB loader (another module) can build one from configuration
objects; ``Roster.synthetic`` builds one for tests and benchmarks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

Media = Literal["voice", "chat", "email"]


@dataclass(frozen=True)
class Agent:
    employee_id: str  # the agent id carried by events
    dbid: int  # configuration DBID of the Person object
    user_name: str
    first_name: str
    last_name: str
    login_code: str
    place: str
    dn: str
    groups: tuple[str, ...] = ()
    skills: tuple[tuple[str, int], ...] = ()  # (skill name, level)

    @property
    def skill_names(self) -> frozenset[str]:
        return frozenset(name for name, _level in self.skills)


@dataclass(frozen=True)
class Queue:
    """An ACD queue (voice) or interaction queue (chat, email), served by agents having ``skill``."""

    name: str
    dbid: int
    dn: str
    media: Media
    skill: str
    virtual_queue: str | None = None


@dataclass(frozen=True)
class RoutingPoint:
    """An inbound number; calls arriving on it are queued on ``queue`` (a voice queue name)."""

    dn: str
    dbid: int
    queue: str
    weight: float = 1.0  # share of inbound calls arriving here


@dataclass
class Roster:
    agents: list[Agent]
    queues: list[Queue]
    routing_points: list[RoutingPoint]
    not_ready_reasons: list[str] = field(default_factory=lambda: ["Break"])

    def __post_init__(self) -> None:
        names = {q.name for q in self.queues}
        unknown = [rp.dn for rp in self.routing_points if rp.queue not in names]
        if unknown:
            raise ValueError(f"routing points {unknown} name queues that are not in the roster")
        if not self.not_ready_reasons:
            raise ValueError("the roster needs at least one not-ready reason code")

    def queues_for(self, media: Media) -> list[Queue]:
        return [q for q in self.queues if q.media == media]

    def media_of(self, agent: Agent) -> list[Media]:
        """The media an agent logs in to: those of the queues whose skill it has."""
        skills = agent.skill_names
        served = {q.media for q in self.queues if q.skill in skills}
        return [m for m in ("voice", "chat", "email") if m in served]

    @classmethod
    def synthetic(cls, n_agents: int, seed: int = 0, digital_share: float = 0.2) -> Roster:
        """A small centre: three voice queues (sales, support, billing), one chat and one email queue.

        About ``digital_share`` of the agents handle chat and email, the rest voice with one to three voice
        skills; with two or more agents there is at least one of each.
        """
        if n_agents < 1:
            raise ValueError("a roster needs at least one agent")
        rng = random.Random(f"roster-{seed}")
        voice_queues = [
            Queue("Sales", 501, "8001", "voice", "sales", "VQ_Sales"),
            Queue("Support", 502, "8002", "voice", "support", "VQ_Support"),
            Queue("Billing", 503, "8003", "voice", "billing", "VQ_Billing"),
        ]
        queues = [
            *voice_queues,
            Queue("Chat", 504, "8101", "chat", "chat", "VQ_Chat"),
            Queue("Email", 505, "8201", "email", "email", "VQ_Email"),
        ]
        routing_points = [
            RoutingPoint("7001", 601, "Sales", 0.5),
            RoutingPoint("7002", 602, "Support", 0.35),
            RoutingPoint("7003", 603, "Billing", 0.15),
        ]
        n_digital = round(n_agents * digital_share)
        if n_agents >= 2:
            n_digital = min(max(n_digital, 1), n_agents - 1)
        agents = [_synthetic_agent(i, i >= n_agents - n_digital, voice_queues, rng) for i in range(n_agents)]
        reasons = ["Break", "Lunch", "Meeting", "Training", "Coaching"]
        return cls(agents=agents, queues=queues, routing_points=routing_points, not_ready_reasons=reasons)


_FIRST = ["Ada", "Ben", "Chloe", "Dev", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira", "Liam"]
_LAST = ["Novak", "Okafor", "Park", "Quinn", "Rossi", "Silva", "Tanaka", "Ulrich", "Varga", "Weber"]


def _synthetic_agent(i: int, digital: bool, voice_queues: list[Queue], rng: random.Random) -> Agent:
    if digital:
        skills: tuple[tuple[str, int], ...] = (("chat", rng.randint(1, 10)), ("email", rng.randint(1, 10)))
        groups: tuple[str, ...] = ("Digital Team",)
    else:
        chosen = rng.sample(voice_queues, rng.randint(1, len(voice_queues)))
        skills = tuple((q.skill, rng.randint(1, 10)) for q in sorted(chosen, key=lambda q: q.dbid))
        groups = (f"Voice Team {'AB'[i % 2]}",)
    dn = str(1001 + i)
    return Agent(
        employee_id=f"E{i + 1:05d}",
        dbid=1000 + i,
        user_name=f"agent{i + 1:03d}",
        first_name=_FIRST[i % len(_FIRST)],
        last_name=_LAST[(i // len(_FIRST)) % len(_LAST)],
        login_code=f"L{dn}",
        place=f"Place_{dn}",
        dn=dn,
        groups=groups,
        skills=skills,
    )
