"""Where a tenant's objects live: ``<bucket>/<s3.prefix>/<the tenant's prefix>`` for its GCA snapshots, GSP
checkpoints and export folders. The one place that puts bucket, prefix and tenant prefix together; the assets,
the CLI, the demo and the metrics process take their stores from here, with the client they already have
(a Dagster resource's, or ``settings.s3.client()`` outside Dagster)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gim_dagster.core.export.publish import S3Destination
from gim_dagster.core.gca.store import SnapshotStore
from gim_dagster.core.gsp import CheckpointStore
from gim_dagster.core.naming import TenantNames
from gim_dagster.settings import Settings, resolve


@dataclass(frozen=True)
class TenantStorage:
    client: Any
    """A boto3 S3 client."""
    bucket: str
    prefix: str
    """``s3.prefix`` of the settings: the root of every tenant's objects."""

    @classmethod
    def of(cls, settings: Settings, client: Any | None = None) -> TenantStorage:
        """The settings' bucket and prefix; ``client`` defaults to one made from the settings."""
        client = settings.s3.client() if client is None else client
        return cls(client, str(resolve(settings.s3.bucket)), settings.s3.prefix)

    def snapshots(self, tenant: str) -> SnapshotStore:
        return SnapshotStore(self.client, self.bucket, self._under(TenantNames(tenant).gca_snapshot_prefix))

    def checkpoints(self, tenant: str) -> CheckpointStore:
        return CheckpointStore(
            self.client, self.bucket, self._under(TenantNames(tenant).gsp_checkpoint_prefix)
        )

    def exports(self, tenant: str) -> S3Destination:
        return S3Destination(self.client, self.bucket, self._under(TenantNames(tenant).export_prefix))

    def _under(self, tenant_prefix: str) -> str:
        return f"{self.prefix}/{tenant_prefix}"
