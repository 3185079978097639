"""Run a long-lived child (`dagster dev`) so that stopping `gim` stops it and everything it started.

The child runs in its own session, so the terminal's signals reach only `gim`, which forwards them: SIGTERM,
SIGINT and SIGHUP (the terminal closed) all become one SIGTERM to the child, which `dagster dev` takes as
Ctrl-C and answers by shutting down its webserver, daemon and code servers. Whatever of the child's process
tree is still alive after ``grace_s`` (or after the child exited on its own) is terminated, then killed.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Mapping, Sequence
from contextlib import suppress
from types import FrameType

import psutil

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
POLL_S = 1.0


def supervise(argv: Sequence[str], env: Mapping[str, str], grace_s: float = 30.0) -> int:
    """Run ``argv`` until it exits or ``gim`` is signalled; return its exit code (128 + signal if stopped)."""
    child = subprocess.Popen(list(argv), env=dict(env), start_new_session=True)
    tree: dict[int, psutil.Process] = {}
    stopped: list[int] = []

    def forward(signo: int, _frame: FrameType | None) -> None:
        if not stopped:
            stopped.append(signo)
            _signal(child, signal.SIGTERM)

    previous = {signo: signal.signal(signo, forward) for signo in FORWARDED}
    try:
        code = _wait(child, tree, stopped, grace_s)
    finally:
        for signo, handler in previous.items():
            signal.signal(signo, handler)
        _end(tree)
    return 128 + stopped[0] if stopped else code


def _wait(
    child: subprocess.Popen[bytes], tree: dict[int, psutil.Process], stopped: list[int], grace_s: float
) -> int:
    """Wait for the child, noting its process tree every ``POLL_S`` (after it exits, its orphans cannot be
    found from it any more); once signalled, wait at most ``grace_s`` more."""
    waited = 0.0
    while True:
        _note_tree(child.pid, tree)
        try:
            return child.wait(POLL_S)
        except subprocess.TimeoutExpired:
            if stopped:
                waited += POLL_S
                if waited >= grace_s:
                    _signal(child, signal.SIGKILL)


def _note_tree(pid: int, tree: dict[int, psutil.Process]) -> None:
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            tree.setdefault(proc.pid, proc)
    except psutil.NoSuchProcess:
        pass


def _signal(child: subprocess.Popen[bytes], signo: int) -> None:
    with suppress(ProcessLookupError):
        child.send_signal(signo)


def _end(tree: dict[int, psutil.Process]) -> None:
    """Terminate, then kill, every process of the child's tree that is still alive (the same process: psutil
    checks its start time, so a reused pid is left alone)."""
    alive = [p for p in tree.values() if p.is_running()]
    for proc in alive:
        with suppress(psutil.NoSuchProcess):
            proc.terminate()
    _gone, left = psutil.wait_procs(alive, timeout=10)
    for proc in left:
        with suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(left, timeout=10)
