"""Checks of option values, as option callbacks: they run while the command line is parsed, before the command
does anything, and a wrong value ends it with one line naming the option (or its environment variable) and
exit status 2, through the same ``fail`` as every other error of `gim`.

    hours: Annotated[float, typer.Option(callback=number(gt=0, le=744))] = 3.0
    target: Annotated[str, typer.Option(envvar="X", callback=text(check_endpoint_url))]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import typer

from gim_dagster.commands.output import fail

Callback = Callable[[typer.Context, typer.CallbackParam, Any], Any]


def option_name(ctx: typer.Context, param: typer.CallbackParam) -> str:
    """``--hours``, or ``environment variable X (--y)`` when the value came from the environment."""
    name = max(param.opts, key=len) if param.opts else str(param.name)
    source = ctx.get_parameter_source(param.name or "")
    if source is not None and source.name == "ENVIRONMENT" and param.envvar:
        envvar = param.envvar if isinstance(param.envvar, str) else param.envvar[0]
        return f"environment variable {envvar} ({name})"
    return name


def _bounds(gt: float | None, ge: float | None, le: float | None) -> str:
    if ge is not None and le is not None:
        return f"between {ge:g} and {le:g}"
    low = f"greater than {gt:g}" if gt is not None else f"at least {ge:g}" if ge is not None else ""
    high = f"at most {le:g}" if le is not None else ""
    return " and ".join(part for part in (low, high) if part) or "a finite number"


def number(*, gt: float | None = None, ge: float | None = None, le: float | None = None) -> Callback:
    """A finite number with ``value > gt``, ``value >= ge`` and ``value <= le`` (each bound optional)."""

    def check(ctx: typer.Context, param: typer.CallbackParam, value: float | None) -> float | None:
        if value is None or ctx.resilient_parsing:
            return value
        wrong = (
            not math.isfinite(value)
            or (gt is not None and value <= gt)
            or (ge is not None and value < ge)
            or (le is not None and value > le)
        )
        if wrong:
            got = value if isinstance(value, int) else f"{value:g}"
            raise fail(f"{option_name(ctx, param)} must be {_bounds(gt, ge, le)}, got {got}")
        return value

    return check


PORT = number(ge=1, le=65535)
AT_LEAST_ONE = number(ge=1)
NOT_NEGATIVE = number(ge=0)
PROBABILITY = number(ge=0, le=1)


def text(check: Callable[[str], str]) -> Callback:
    """A string that passes ``check`` (one of the settings file's checks, so both accept the same values)."""

    def callback(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
        if value is None or ctx.resilient_parsing:
            return value
        try:
            return check(value)
        except (ValueError, LookupError) as exc:
            raise fail(f"{option_name(ctx, param)}: {exc}") from None

    return callback
