"""The tenants' PostgreSQL databases, Dagster-free: one pooled engine per database, tenant databases created
on demand, the Info Mart migrated before use. ``TenantDatabases(settings)`` serves the CLI, the demo and the
benches with settings parsed once; the Dagster resource (``resources/postgres.py``) hands it out."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa

from gim_dagster.core.infomart.schema import migrate
from gim_dagster.settings import Settings


@cache
def engine_for(url: str, pool_size: int = 5) -> sa.Engine:
    """The process-wide pooled engine of one database URL."""
    return sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def ensure_database(url: str, database: str | None = None) -> str:
    """Create the database of ``url`` (or ``database`` on that server) if missing; return its URL."""
    target = sa.make_url(url)
    if database is not None:
        target = target.set(database=database)
    name = target.database
    if not name:
        raise ValueError(f"no database name in {target.render_as_string(hide_password=True)}")
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if not exists:
                quoted = conn.dialect.identifier_preparer.quote_identifier(name)
                try:
                    conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
                except sa.exc.ProgrammingError as exc:  # created concurrently by another process
                    if "already exists" not in str(exc):
                        raise
    finally:
        admin.dispose()
    return target.render_as_string(hide_password=False)


class TenantDatabases:
    """Engines for each tenant's Configuration Database and Info Mart, from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _url(self, tenant: str, which: str) -> str:
        resolved = self.settings.tenant(tenant)
        url = resolved.configdb_dsn() if which == "config" else resolved.infomart_dsn()
        if self.settings.postgres.create_databases:
            ensure_database(url)
        return url

    def configdb_engine(self, tenant: str) -> sa.Engine:
        return engine_for(self._url(tenant, "config"), self.settings.postgres.pool_size)

    def infomart_engine(self, tenant: str) -> sa.Engine:
        return engine_for(self._url(tenant, "infomart"), self.settings.postgres.pool_size)

    def migrated_infomart(self, tenant: str) -> sa.Engine:
        """The tenant's Info Mart engine, upgraded first (cheap when current).

        ``migrate`` also creates partitions ahead, so it takes the tenant's period, and fills DATE_TIME in
        the tenant's time zone.
        """
        resolved = self.settings.tenant(tenant)
        engine = self.infomart_engine(tenant)
        migrate(engine, time_zone=resolved.time_zone, partition_period=resolved.partition_period)
        return engine
