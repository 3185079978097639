"""PostgreSQL: one pooled SQLAlchemy engine per database, tenant databases created on demand."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from dagster import ConfigurableResource

from gim_dagster.core.infomart.schema import migrate
from gim_dagster.settings import load_settings


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


class PostgresResource(ConfigurableResource):
    """Engines for each tenant's Configuration Database and Info Mart, from the settings file."""

    settings_file: str

    def _url(self, tenant: str, which: str) -> str:
        settings = load_settings(self.settings_file)
        resolved = settings.tenant(tenant)
        url = resolved.configdb_dsn() if which == "config" else resolved.infomart_dsn()
        if settings.postgres.create_databases:
            ensure_database(url)
        return url

    def configdb_engine(self, tenant: str) -> sa.Engine:
        return engine_for(self._url(tenant, "config"), load_settings(self.settings_file).postgres.pool_size)

    def infomart_engine(self, tenant: str) -> sa.Engine:
        return engine_for(self._url(tenant, "infomart"), load_settings(self.settings_file).postgres.pool_size)

    def migrated_infomart(self, tenant: str) -> sa.Engine:
        """The tenant's Info Mart engine, upgraded first (cheap when current).

        ``migrate`` also creates partitions ahead, so it takes the tenant's period, and fills DATE_TIME in
        the tenant's time zone.
        """
        resolved = load_settings(self.settings_file).tenant(tenant)
        engine = self.infomart_engine(tenant)
        migrate(engine, time_zone=resolved.time_zone, partition_period=resolved.partition_period)
        return engine
