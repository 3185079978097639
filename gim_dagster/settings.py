"""The tenant settings file (contract): one YAML file lists the tenants and the shared services.

Any string value may instead be ``{env: NAME}``: it is read from the environment variable ``NAME`` when it is
used, so secrets never sit in the file. A wrong file raises ``SettingsError`` with a one-line message that
names the field and the line, e.g. ``gim.yaml:12: tenants[1].name: invalid tenant name 'Acme'…``.

Typed string values (database URLs, the broker list, the S3 endpoint, …) are checked the same way whether
they are written in the file or come from the environment: a set variable is checked when the file is loaded
(``gim.yaml:17: postgres.server_url: environment variable GIM_PG_SERVER_URL: not a database URL …``), and
again when it is read. An unset variable is an error only when its value is used.

This module and ``resources/`` are the only places that read ``os.environ``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gim_dagster.core.infomart.aggregates import DEFAULT_TIME_RANGE_BOUNDS, Thresholds
from gim_dagster.core.infomart.partitions import Period
from gim_dagster.core.naming import TenantNames, check_tenant_name

SETTINGS_ENV = "GIM_SETTINGS"
CUSTOM_TABLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DEFAULT_SETTINGS_FILE = "gim.yaml"


class SettingsError(ValueError):
    """The settings file is missing, unreadable or invalid; the message is one line for the user."""


class EnvRef(BaseModel):
    """A value taken from an environment variable when used: ``{env: NAME}`` in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    env: str

    def resolve(self) -> str:
        value = os.environ.get(self.env)
        if value is None:
            raise SettingsError(f"environment variable {self.env} is not set (named in the settings file)")
        return value


Value = str | EnvRef


def resolve(value: Value | None) -> str | None:
    """The literal value, or the environment variable's value for an ``EnvRef``."""
    return value.resolve() if isinstance(value, EnvRef) else value


# ---- checks of typed string values: the same for a literal in the file and a value from the environment ---
# Each takes the text and returns it, or raises ValueError with a short reason (never echoing a secret).

Check = Callable[[str], str]
DSN_EXAMPLE = "postgresql+psycopg://user:password@host:5432/database"
BROKER_RE = re.compile(r"(?:[A-Za-z_]+://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(?P<port>[0-9]+))?")


def check_database_url(value: str) -> str:
    """A SQLAlchemy URL of a PostgreSQL database (messages never show the value: it may hold a password)."""
    import sqlalchemy as sa

    try:
        url = sa.make_url(value)
    except (sa.exc.ArgumentError, ValueError):
        raise ValueError(f"not a database URL (expected {DSN_EXAMPLE})") from None
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL (expected {DSN_EXAMPLE})")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ValueError(f"port {url.port} is out of range 1-65535")
    try:
        url.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise ValueError(f"unknown PostgreSQL driver {url.drivername!r} (use postgresql+psycopg)") from None
    return value


def check_server_url(value: str) -> str:
    """``postgres.server_url``: a database URL, or empty for "not set" (an error only once a DSN needs it)."""
    return value if value == "" else check_database_url(value)


def check_bootstrap_servers(value: str) -> str:
    """A Kafka broker list: ``host[:port]`` entries, comma-separated, each optionally ``PROTOCOL://``."""
    entries = [entry.strip() for entry in value.split(",")]
    if not any(entries):
        raise ValueError("no brokers (expected host:port[,host:port…])")
    for entry in entries:
        match = BROKER_RE.fullmatch(entry)
        if match is None:
            raise ValueError(f"{entry!r} is not a broker address (expected host:port[,host:port…])")
        if match["port"] is not None and not 1 <= int(match["port"]) <= 65535:
            raise ValueError(f"broker {entry!r}: port out of range 1-65535")
    return value


def check_endpoint_url(value: str) -> str:
    """An http(s) URL with a host, e.g. ``http://127.0.0.1:9000`` (moto, MinIO)."""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 -- raises ValueError when out of range or not a number
    except ValueError:
        raise ValueError(f"{value!r} has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", value):
        raise ValueError(f"{value!r} is not an http(s) URL (expected e.g. http://127.0.0.1:9000)")
    return value


def check_ca_file(value: str) -> str:
    """A readable PEM file of one or more CA certificates (what verifies a server's certificate)."""
    try:
        text = Path(value).read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise ValueError(f"cannot read CA file {value}: {exc.strerror}") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError(f"{value} holds no PEM certificate")
    return value


def check_encoding(value: str) -> str:
    """A text encoding Python knows (``utf-8``, ``cp1252``, …)."""
    import codecs

    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(f"unknown encoding {value!r}") from None
    return value


def check_name(value: str) -> str:
    """A non-empty name without blanks or slashes (S3 bucket, region)."""
    if not value or re.search(r"[\s/]", value):
        raise ValueError(f"{value!r} is not a valid name (non-empty, no spaces or '/')")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # Field name -> check of its string value (literal here; from the environment in ``check_environment``).
    value_checks: ClassVar[dict[str, Check]] = {}

    @field_validator("*")
    @classmethod
    def _check_literal(cls, value: Any, info: ValidationInfo) -> Any:
        check = cls.value_checks.get(info.field_name or "")
        return check(value) if check is not None and isinstance(value, str) else value


class KafkaSettings(_Strict):
    value_checks: ClassVar[dict[str, Check]] = {"bootstrap_servers": check_bootstrap_servers}
    bootstrap_servers: Value = EnvRef(env="GIM_KAFKA_BOOTSTRAP_SERVERS")
    topic_partitions: Annotated[int, Field(ge=1, le=1024)] = 1
    replication_factor: Annotated[int, Field(ge=1, le=16)] = 1
    # Non-secret librdkafka properties (security.protocol, sasl.mechanism, ssl.ca.location, …).
    client: dict[str, str] = {}
    # SASL credentials, typically {env: NAME}.
    sasl_username: Value | None = None
    sasl_password: Value | None = None


class S3Settings(_Strict):
    value_checks: ClassVar[dict[str, Check]] = {
        "bucket": check_name,
        "endpoint_url": check_endpoint_url,
        "region_name": check_name,
        "ca_bundle": check_ca_file,
    }
    bucket: Value = EnvRef(env="GIM_S3_BUCKET")
    prefix: str = "gim"
    endpoint_url: Value | None = EnvRef(env="GIM_S3_ENDPOINT_URL")
    region_name: Value = "us-east-1"
    access_key_id: Value | None = EnvRef(env="AWS_ACCESS_KEY_ID")
    secret_access_key: Value | None = EnvRef(env="AWS_SECRET_ACCESS_KEY")
    # The CA file that verifies the endpoint's certificate (a private CA: the secure stack's); null or unset
    # variable: the system's CAs. Verification is never off.
    ca_bundle: Value | None = EnvRef(env="GIM_S3_CA_BUNDLE")

    def verify(self) -> str | None:
        """boto3's ``verify``: the CA file, or None for the system's CAs (an unset variable means not set)."""
        if isinstance(self.ca_bundle, EnvRef):
            if self.ca_bundle.env not in os.environ:
                return None
            return resolve_checked(self.ca_bundle, check_ca_file, "s3.ca_bundle")
        return self.ca_bundle

    def client(self, config: Any = None) -> Any:
        """A boto3 S3 client with these settings (for code outside Dagster; assets use the S3 resource);
        ``config``: a ``botocore.config.Config`` (timeouts, retries)."""
        import boto3

        return boto3.client(
            "s3",
            config=config,
            endpoint_url=resolve(self.endpoint_url),
            region_name=resolve(self.region_name),
            aws_access_key_id=resolve(self.access_key_id),
            aws_secret_access_key=resolve(self.secret_access_key),
            verify=self.verify(),
        )


class PostgresSettings(_Strict):
    """Where tenant databases live when a tenant names no DSN of its own (the local stack's case)."""

    value_checks: ClassVar[dict[str, Check]] = {"server_url": check_server_url}
    server_url: Value | None = EnvRef(env="GIM_PG_SERVER_URL")
    create_databases: bool = True
    pool_size: Annotated[int, Field(ge=1, le=100)] = 5


class ExportSettings(_Strict):
    cron: str = "0 * * * *"
    encoding: str = "utf-8"
    destinations: list[Literal["s3", "local"]] = ["s3"]
    local_dir: str | None = None
    use_views: bool = False
    # Where the stream starts (never exported, or run config `restart: start`): from the first transaction
    # carrying data of this UTC day (YYYY-MM-DD) or later; None: from the beginning.
    start_date: str | None = None
    # Custom user-data tables of the Info Mart to export too (each with a primary key and the two audit keys).
    custom_tables: list[str] = []

    @field_validator("custom_tables")
    @classmethod
    def _plain_identifiers(cls, value: list[str]) -> list[str]:
        for name in value:
            if not CUSTOM_TABLE_RE.fullmatch(name):
                raise ValueError(f"custom table {name!r}: use a lower-case unquoted identifier (a-z, 0-9, _)")
        return value

    @field_validator("start_date")
    @classmethod
    def _a_date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"start_date {value!r}: use YYYY-MM-DD") from None
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        return check_encoding(value)

    @model_validator(mode="after")
    def _local_needs_dir(self) -> ExportSettings:
        if "local" in self.destinations and not self.local_dir:
            raise ValueError("destination 'local' needs local_dir")
        return self


Seconds = Annotated[int, Field(ge=1, le=86_400)]


class AggregateSettings(_Strict):
    """The queue thresholds of the aggregates (docs/aggregates.md, "Thresholds")."""

    # Accepted or abandoned within this many seconds of entering the queue: *_THR (the service level).
    service_level_seconds: Seconds = 20
    # Per queue (its name, as RESOURCE_NAME has it): a service level that overrides service_level_seconds.
    queue_service_level_seconds: dict[str, Seconds] = {}
    # Abandoned before this: ABANDONED_SHORT; at or after it: ABANDONED_STANDARD.
    short_abandon_seconds: Seconds = 10
    # Upper bounds of the first 19 of the 20 buckets of AGT_QUEUE_ABN_* / AGT_QUEUE_ACC_AGENT_*.
    abandon_time_ranges: list[Seconds] = list(DEFAULT_TIME_RANGE_BOUNDS)
    accept_time_ranges: list[Seconds] = list(DEFAULT_TIME_RANGE_BOUNDS)

    @model_validator(mode="after")
    def _valid_thresholds(self) -> AggregateSettings:
        self.thresholds()  # raises ValueError naming the list that is wrong
        return self

    def thresholds(self) -> Thresholds:
        return Thresholds(
            service_level_seconds=self.service_level_seconds,
            short_abandon_seconds=self.short_abandon_seconds,
            queue_service_level_seconds=dict(self.queue_service_level_seconds),
            abandon_bounds=tuple(self.abandon_time_ranges),
            accept_bounds=tuple(self.accept_time_ranges),
        )


class ReportSettings(_Strict):
    """The standard reports (docs/reports.md): what they compare against and where the asset writes them."""

    # The service level the queue summary draws as its target line, in percent.
    service_level_target_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    # The infomart_reports asset writes <local_dir>/<tenant>/; null: <state dir>/reports.
    local_dir: str | None = None
    # The asset's reports cover this many local days, up to and including the day it runs.
    days: Annotated[int, Field(ge=1, le=366)] = 7


def _divides_a_day(value: int | None) -> int | None:
    """Load spans must tile the UTC day, so that no audit key carries data of two days (re-export by day)."""
    if value is not None and 1440 % value:
        raise ValueError(f"load_span_minutes {value} must divide a day (1440 minutes): 15, 30, 60, 120, …")
    return value


SpanMinutes = Annotated[int, Field(ge=1, le=1440), AfterValidator(_divides_a_day)]


class TenantDefaults(_Strict):
    retention_days: Annotated[int, Field(ge=1, le=36500)] = 400
    partition_period: Period = Period.DAY
    load_span_minutes: SpanMinutes = 60
    time_zone: str = "UTC"
    export: ExportSettings = ExportSettings()
    aggregates: AggregateSettings = AggregateSettings()
    reports: ReportSettings = ReportSettings()

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class TenantSettings(_Strict):
    value_checks: ClassVar[dict[str, Check]] = {
        "configdb_dsn": check_database_url,
        "infomart_dsn": check_database_url,
    }
    name: str
    configdb_dsn: Value | None = None
    infomart_dsn: Value | None = None
    retention_days: Annotated[int, Field(ge=1, le=36500)] | None = None
    partition_period: Period | None = None
    load_span_minutes: SpanMinutes | None = None
    time_zone: str | None = None
    export: ExportSettings | None = None
    aggregates: AggregateSettings | None = None
    reports: ReportSettings | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return check_tenant_name(value)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else TenantDefaults._known_zone(value)

    @property
    def names(self) -> TenantNames:
        return TenantNames(self.name)


Stage = Literal["gca", "gsp", "load", "aggregates", "export", "maintenance", "reports"]
"""The stages whose runs the sensors and schedules request (the ``gim/stage`` run tag)."""

CPU_RE = re.compile(r"^(\d+(?:\.\d{1,3})?|\d+m)$")
MEMORY_RE = re.compile(r"^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
MEMORY_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
MEMORY_UNITS |= {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def cpu_cores(value: str) -> float:
    """A Kubernetes CPU quantity (``2``, ``0.5``, ``250m``) in cores."""
    if not CPU_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a CPU quantity (e.g. 2, 0.5, 250m)")
    return int(value[:-1]) / 1000 if value.endswith("m") else float(value)


def memory_bytes(value: str) -> int:
    """A Kubernetes memory quantity (``512Mi``, ``2Gi``, ``1G``, bytes) in bytes."""
    match = MEMORY_RE.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a memory quantity (e.g. 512Mi, 2Gi)")
    return int(match[1]) * MEMORY_UNITS[match[2] or ""]


def check_cpu(value: str) -> str:
    cpu_cores(value)
    return value


def check_memory(value: str) -> str:
    memory_bytes(value)
    return value


class PodResources(_Strict):
    value_checks: ClassVar[dict[str, Check]] = {"cpu": check_cpu, "memory": check_memory}
    cpu: str | None = None
    memory: str | None = None

    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def _numbers_as_quantities(cls, value: Any) -> Any:
        """YAML reads ``cpu: 2`` as a number; Kubernetes quantities are strings."""
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    def quantities(self) -> dict[str, str]:
        return {name: value for name, value in (("cpu", self.cpu), ("memory", self.memory)) if value}


class RunPod(_Strict):
    """The pod of one run of a stage under the K8sRunLauncher (the run's ``dagster-k8s/config`` tag)."""

    requests: PodResources = PodResources()
    limits: PodResources = PodResources()
    node_selector: dict[str, str] = {}

    @model_validator(mode="after")
    def _limits_not_below_requests(self) -> RunPod:
        for name, amount in (("cpu", cpu_cores), ("memory", memory_bytes)):
            request, limit = getattr(self.requests, name), getattr(self.limits, name)
            if request and limit and amount(limit) < amount(request):
                raise ValueError(f"limits.{name} {limit} is below requests.{name} {request}")
        return self

    def k8s_config(self) -> dict[str, Any]:
        """The value of the ``dagster-k8s/config`` tag, in dagster-k8s's terms. Merged shallowly: these
        resources replace the run launcher's default ``resources`` as a whole (a deep merge would keep the
        default's limits under larger requests, a pod Kubernetes refuses); the launcher's env, volumes and
        security context stay."""
        resources = {"requests": self.requests.quantities(), "limits": self.limits.quantities()}
        config: dict[str, Any] = {"container_config": {"resources": resources}, "merge_behavior": "SHALLOW"}
        if self.node_selector:
            config["pod_spec_config"] = {"node_selector": dict(self.node_selector)}
        return config


def _pod(cpu: str, memory: str, memory_limit: str) -> RunPod:
    """No CPU limit by default: a run is short and bursty, and a CPU limit only throttles it."""
    return RunPod(requests=PodResources(cpu=cpu, memory=memory), limits=PodResources(memory=memory_limit))


class RunPods(_Strict):
    """Per stage; a stage given in the file replaces that stage's default as a whole."""

    gca: RunPod = _pod("250m", "512Mi", "1Gi")
    gsp: RunPod = _pod("1", "2Gi", "4Gi")  # the batch and the checkpointed state are in memory
    load: RunPod = _pod("500m", "1Gi", "2Gi")
    aggregates: RunPod = _pod("250m", "512Mi", "1Gi")
    export: RunPod = _pod("500m", "1Gi", "2Gi")
    maintenance: RunPod = _pod("250m", "512Mi", "1Gi")
    reports: RunPod = _pod("250m", "512Mi", "1Gi")  # queries and matplotlib

    def for_stage(self, stage: Stage) -> RunPod:
        pod: RunPod = getattr(self, stage)
        return pod


class DagsterSettings(_Strict):
    gsp_batch_max_records: Annotated[int, Field(ge=100)] = 200_000
    # GSP holds each event back this long (event time) for late, out-of-order events of its partition; a
    # later one is dead-lettered. It bounds freshness from below (docs/operations.md, "Freshness").
    gsp_allowed_lateness_seconds: Annotated[int, Field(ge=1, le=3600)] = 15
    # A raw partition silent this long has every held-back event applied (the sensor asks for that run).
    gsp_idle_flush_seconds: Annotated[int, Field(ge=0, le=86_400)] = 600
    # The Dagster daemon evaluates sensors every 5 s at most, so lower values act as 5.
    sensor_interval_seconds: Annotated[int, Field(ge=1)] = 5
    maintenance_cron: str = "30 2 * * *"
    gca_reconcile_cron: str = "15 */6 * * *"
    reports_cron: str = "45 3 * * *"
    # Requests, limits and node selector of each stage's run pods on Kubernetes (docs/settings.md).
    run_pods: RunPods = RunPods()


class MetricsSettings(_Strict):
    gsp_port: Annotated[int, Field(ge=1, le=65535)] = 9249
    gim_port: Annotated[int, Field(ge=1, le=65535)] = 8249


class Settings(_Strict):
    kafka: KafkaSettings = KafkaSettings()
    s3: S3Settings = S3Settings()
    postgres: PostgresSettings = PostgresSettings()
    dagster: DagsterSettings = DagsterSettings()
    metrics: MetricsSettings = MetricsSettings()
    defaults: TenantDefaults = TenantDefaults()
    tenants: list[TenantSettings] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_tenants(self) -> Settings:
        seen: set[str] = set()
        for tenant in self.tenants:
            if tenant.name in seen:
                raise ValueError(f"tenant {tenant.name!r} is listed twice")
            seen.add(tenant.name)
        return self

    @property
    def tenant_names(self) -> list[str]:
        return [t.name for t in self.tenants]

    def tenant(self, name: str) -> ResolvedTenant:
        for tenant in self.tenants:
            if tenant.name == name:
                return ResolvedTenant(tenant, self)
        raise SettingsError(
            f"unknown tenant {name!r}; the settings file lists: {', '.join(self.tenant_names)}"
        )


class ResolvedTenant:
    """A tenant with the defaults applied and its DSNs resolved (reads the environment when called)."""

    def __init__(self, tenant: TenantSettings, settings: Settings) -> None:
        self.settings = tenant
        self.name = tenant.name
        self.names = tenant.names
        defaults = settings.defaults
        self.retention_days = tenant.retention_days or defaults.retention_days
        self.partition_period = tenant.partition_period or defaults.partition_period
        self.load_span_minutes = tenant.load_span_minutes or defaults.load_span_minutes
        self.time_zone = tenant.time_zone or defaults.time_zone
        self.export = tenant.export or defaults.export
        self.aggregates = tenant.aggregates or defaults.aggregates
        self.reports = tenant.reports or defaults.reports
        self._postgres = settings.postgres

    def configdb_dsn(self) -> str:
        return self._dsn(self.settings.configdb_dsn, self.names.configdb_name, "configdb_dsn")

    def infomart_dsn(self) -> str:
        return self._dsn(self.settings.infomart_dsn, self.names.infomart_name, "infomart_dsn")

    def _dsn(self, explicit: Value | None, database: str, field: str) -> str:
        if explicit is not None:
            return resolve_checked(explicit, check_database_url, f"tenant {self.name!r} {field}")
        server = resolve_checked(self._postgres.server_url, check_server_url, "postgres.server_url")
        if not server:
            raise SettingsError(f"tenant {self.name!r} names no DSN and postgres.server_url is not set")
        import sqlalchemy as sa

        return sa.make_url(server).set(database=database).render_as_string(hide_password=False)


def resolve_checked(value: Value | None, check: Check, field: str) -> str:
    """``resolve`` a value whose check passed when the file was loaded, checking it again if it is read from
    the environment now (the variable may have changed since)."""
    if not isinstance(value, EnvRef):
        return value or ""
    text = value.resolve()
    try:
        return check(text)
    except ValueError as exc:
        raise SettingsError(f"{field}: environment variable {value.env}: {exc}") from None


def _env_refs(model: BaseModel, loc: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], EnvRef, Check]]:
    """Every checked ``{env: NAME}`` value of the settings (also the defaults), with its location."""
    checks = model.value_checks if isinstance(model, _Strict) else {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            where = (*loc, name) if index is None else (*loc, name, index)
            if isinstance(item, EnvRef):
                if name in checks:
                    yield where, item, checks[name]
            elif isinstance(item, BaseModel):
                yield from _env_refs(item, where)


def check_environment(settings: Settings, source: str, lines: dict[tuple[Any, ...], int]) -> None:
    """Check every value the settings read from a set environment variable as if it were in the file."""
    for loc, ref, check in _env_refs(settings, ()):
        value = os.environ.get(ref.env)
        if value is None:
            continue  # unset: an error naming it when the value is used
        try:
            check(value)
        except ValueError as exc:
            where = (
                f"{source}:{lines[loc]}: {_field_name(loc)}"
                if loc in lines
                else f"{source}: {_field_name(loc)} (default)"
            )
            raise SettingsError(f"{where}: environment variable {ref.env}: {exc}") from None


# ---- loading with line numbers ----------------------------------------------------------------------------


def _to_python(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> Any:
    """Build plain Python data from a YAML node tree, remembering the line of every path."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _to_python(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def _line_of(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int:
    # pydantic adds union-branch names (e.g. 'str', 'EnvRef') to locations; walk back to a known path.
    path = tuple(loc)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def _field_name(loc: tuple[Any, ...]) -> str:
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part in ("str", "EnvRef") or "[" in str(part):
            continue
        else:
            name += f".{part}" if name else str(part)
    return name or "(top level)"


def parse_settings(text: str, source: str = "<settings>", *, environment: bool = True) -> Settings:
    """Parse and validate settings text; raise ``SettingsError`` naming the field and line.

    With ``environment``, values from environment variables that are set are checked too.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SettingsError(f"{source}:{line}: not valid YAML: {problem}") from None
    if node is None:
        raise SettingsError(f"{source}:1: the settings file is empty; it must list at least one tenant")
    lines: dict[tuple[Any, ...], int] = {}
    data = _to_python(node, (), lines)
    if not isinstance(data, dict):
        raise SettingsError(f"{source}:1: the settings file must be a mapping with a 'tenants' list")
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SettingsError(f"{source}:{_line_of(loc, lines)}: {_field_name(loc)}: {message}{more}") from None
    if environment:
        check_environment(settings, source, lines)
    return settings


def settings_path(explicit: str | Path | None = None) -> Path:
    """The settings file: the explicit path, else ``$GIM_SETTINGS``, else ``./gim.yaml``."""
    return Path(explicit or os.environ.get(SETTINGS_ENV) or DEFAULT_SETTINGS_FILE)


def load_settings(path: str | Path | None = None) -> Settings:
    file = settings_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {file}: {exc.strerror}") from None
    return parse_settings(text, str(file))


# ---- the local state directory and the stack's environment file --------------------------------------------

STATE_DIR_ENV = "GIM_STATE_DIR"


def state_dir() -> Path:
    """Where the local stack keeps its data, pids, logs and env file: ``$GIM_STATE_DIR`` or ``./.gim``."""
    return Path(os.environ.get(STATE_DIR_ENV) or ".gim").resolve()


def apply_stack_env(env_file: Path) -> dict[str, str]:
    """Export the stack's connection settings into this process (variables already set win)."""
    if not env_file.exists():
        return {}
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    for key, value in values.items():
        os.environ.setdefault(key, value)
    return values
