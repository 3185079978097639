"""PostgreSQL: the Dagster resource over ``TenantDatabases`` (gim_dagster/databases.py)."""

from __future__ import annotations

import sqlalchemy as sa
from dagster import ConfigurableResource

from gim_dagster.databases import TenantDatabases
from gim_dagster.settings import load_settings


class PostgresResource(ConfigurableResource):
    """Engines for each tenant's Configuration Database and Info Mart, from the settings file."""

    settings_file: str

    def databases(self) -> TenantDatabases:
        """The databases of the settings file as it is now (one parse per call)."""
        return TenantDatabases(load_settings(self.settings_file))

    def configdb_engine(self, tenant: str) -> sa.Engine:
        return self.databases().configdb_engine(tenant)

    def infomart_engine(self, tenant: str) -> sa.Engine:
        return self.databases().infomart_engine(tenant)

    def migrated_infomart(self, tenant: str) -> sa.Engine:
        return self.databases().migrated_infomart(tenant)
