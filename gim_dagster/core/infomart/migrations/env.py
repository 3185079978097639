"""Alembic environment of the Info Mart: runs on the connection handed over by ``schema.migrate``.

Migrations hold frozen DDL (they do not import the live ``tables`` module), so no target metadata here.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
