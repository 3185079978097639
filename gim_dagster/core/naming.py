"""Names derived from a tenant: Kafka topics, S3 prefixes, database names.

One place for every name that crosses a process boundary, so that the simulator, GCA, GSP, the loader and
the export agree without sharing anything else. Tenant names are validated by ``settings`` (lower-case
letters, digits, ``-`` and ``_``) before they get here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TENANT_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def check_tenant_name(name: str) -> str:
    """Return ``name`` if it is a valid tenant name, else raise ``ValueError`` saying why."""
    if not TENANT_NAME_RE.fullmatch(name):
        raise ValueError(
            f"invalid tenant name {name!r}: use 1-40 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class TenantNames:
    """Every externally visible name of one tenant."""

    tenant: str

    def __post_init__(self) -> None:
        check_tenant_name(self.tenant)

    # Kafka topics (contract: design.md section 1)
    @property
    def voice_topic(self) -> str:
        return f"{self.tenant}.voice.events"

    @property
    def digital_topic(self) -> str:
        return f"{self.tenant}.digital.events"

    @property
    def agent_topic(self) -> str:
        return f"{self.tenant}.agent.events"

    @property
    def raw_topics(self) -> tuple[str, str, str]:
        return (self.voice_topic, self.digital_topic, self.agent_topic)

    @property
    def config_topic(self) -> str:
        return f"{self.tenant}.gca.config"

    @property
    def facts_topic(self) -> str:
        return f"{self.tenant}.gsp.facts"

    @property
    def deadletter_topic(self) -> str:
        return f"{self.tenant}.gsp.deadletter"

    # S3 prefixes, relative to the configured bucket prefix
    @property
    def s3_prefix(self) -> str:
        return f"tenants/{self.tenant}"

    @property
    def gca_snapshot_prefix(self) -> str:
        return f"{self.s3_prefix}/gca/snapshots"

    @property
    def gsp_checkpoint_prefix(self) -> str:
        return f"{self.s3_prefix}/gsp/checkpoints"

    @property
    def export_prefix(self) -> str:
        return f"{self.s3_prefix}/exports"

    # Databases on the local stack (a real deployment gives full DSNs in the settings file).
    # Names keep the tenant verbatim (quoted where created) so 'a-b' and 'a_b' never collide.
    @property
    def configdb_name(self) -> str:
        return f"gim_config_{self.tenant}"

    @property
    def infomart_name(self) -> str:
        return f"gim_infomart_{self.tenant}"
