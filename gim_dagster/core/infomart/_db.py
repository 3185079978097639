"""Connection plumbing shared by the Info Mart modules: accept an engine, a URL or a connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

EngineLike = sa.Engine | sa.Connection
"""What the public functions accept: an engine (they open and commit their own transaction) or a
connection (they join its transaction if one is open, so the caller decides when to commit)."""


@contextmanager
def transaction(target: EngineLike) -> Iterator[sa.Connection]:
    """A connection inside a transaction that commits when the block ends, unless the caller owns it."""
    if isinstance(target, sa.Engine):
        with target.begin() as conn:
            yield conn
    elif target.in_transaction():
        yield target
    else:
        with target.begin():
            yield target


@contextmanager
def engine_for(url_or_engine: str | sa.URL | sa.Engine) -> Iterator[sa.Engine]:
    """The given engine, or a short-lived one for a URL (disposed afterwards)."""
    if isinstance(url_or_engine, sa.Engine):
        yield url_or_engine
        return
    engine = sa.create_engine(url_or_engine)
    try:
        yield engine
    finally:
        engine.dispose()
