"""The metrics process: two HTTP endpoints (GSP, GIM) and a background refresh every ``interval_s``.

A refresh (1) tails the Dagster instance into counters and histograms, (2) recomputes each tenant's live
gauges, GSP (Kafka + S3 checkpoint) and GIM (Info Mart + Kafka) separately. Any part that fails is logged,
counted in ``gim_metrics_refresh_errors_total{tenant,source}`` and its live gauges are withdrawn; the other
parts and tenants are refreshed and served as usual.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from confluent_kafka import Consumer
from dagster import DagsterInstance
from prometheus_client import start_http_server

from gim_dagster.core.gsp import CheckpointStore
from gim_dagster.kafka_clients import KafkaClients
from gim_dagster.metrics.events import EventRecorder
from gim_dagster.metrics.families import GimMetrics, GspMetrics, Reading
from gim_dagster.metrics.kafka_lag import lag_consumer_config
from gim_dagster.metrics.live import CONNECT_ARGS, gim_readings, gsp_readings
from gim_dagster.metrics.tail import InstanceTail
from gim_dagster.settings import Settings
from gim_dagster.tenant_storage import TenantStorage

log = logging.getLogger(__name__)

T = TypeVar("T")


class MetricsService:
    """Both endpoints' metrics for the tenants of ``settings``, from ``instance`` and the live systems."""

    def __init__(self, settings: Settings, instance: DagsterInstance, interval_s: float = 15.0) -> None:
        self.settings, self.interval_s = settings, interval_s
        self.gsp, self.gim = GspMetrics(), GimMetrics()
        self.tail = InstanceTail(instance, EventRecorder(self.gsp, self.gim))
        self._engines: dict[str, sa.Engine] = {}
        self._s3: TenantStorage | None = None
        self._failing: dict[tuple[str, str], str] = {}
        self._stop = threading.Event()
        self._servers: list[Any] = []
        self._thread: threading.Thread | None = None

    # ---- one refresh ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._guarded("", "dagster", [self.gsp, self.gim], self.tail.poll)
        consumer = self._guarded("", "kafka", [self.gsp, self.gim], self._consumer)
        if consumer is None:  # no Kafka client at all (bad settings): every live gauge is unknown
            for tenant in self.settings.tenant_names:
                self.gsp.live.clear(tenant, "gsp")
                self.gim.live.clear(tenant, "gim")
            return
        try:
            for tenant in self.settings.tenant_names:
                self._live(self.gsp, tenant, "gsp", lambda t=tenant: self._gsp(t, consumer))
                self._live(self.gim, tenant, "gim", lambda t=tenant: self._gim(t, consumer))
        finally:
            consumer.close()

    def _gsp(self, tenant: str, consumer: Consumer) -> list[Reading]:
        has_gca = self._storage().snapshots(tenant).read_marker() is not None
        return gsp_readings(tenant, consumer, self._checkpoints(tenant), time.time(), has_gca)

    def _gim(self, tenant: str, consumer: Consumer) -> list[Reading]:
        return gim_readings(tenant, self._engine(tenant), consumer, time.time())

    def _live(
        self, metrics: GspMetrics | GimMetrics, tenant: str, source: str, read: Callable[[], list[Reading]]
    ) -> None:
        readings = self._guarded(tenant, source, [metrics], read)
        if readings is None:
            metrics.live.clear(tenant, source)
        else:
            metrics.live.replace(tenant, source, readings)

    def _guarded(
        self, tenant: str, source: str, metrics: list[GspMetrics | GimMetrics], work: Callable[[], T]
    ) -> T | None:
        """Run ``work``; on any error log one line, count it and return None (the process keeps serving)."""
        key = (tenant, source)
        try:
            result = work()
        except Exception as exc:  # any failure of one source must not stop the others
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if self._failing.get(key) != message:  # log when it starts failing or fails differently
                log.warning("metrics refresh failed (tenant %r, source %s): %s", tenant, source, message)
            self._failing[key] = message
            log.debug("refresh failure detail", exc_info=True)
            for target in metrics:
                target.refresh_errors.labels(tenant, source).inc()
            return None
        if self._failing.pop(key, None) is not None:
            log.info("metrics refresh recovered (tenant %r, source %s)", tenant, source)
        return result

    # ---- clients -----------------------------------------------------------------------------------------
    def _consumer(self) -> Consumer:
        return KafkaClients.of(self.settings.kafka).consumer(**lag_consumer_config())

    def _storage(self) -> TenantStorage:
        if self._s3 is None:
            self._s3 = TenantStorage.of(self.settings)
        return self._s3

    def _checkpoints(self, tenant: str) -> CheckpointStore:
        return self._storage().checkpoints(tenant)

    def _engine(self, tenant: str) -> sa.Engine:
        """A small pool per Info Mart with a connect timeout, so a database that is down fails fast."""
        if tenant not in self._engines:
            self._engines[tenant] = sa.create_engine(
                self.settings.tenant(tenant).infomart_dsn(),
                pool_size=1,
                max_overflow=1,
                pool_pre_ping=True,
                connect_args=CONNECT_ARGS,
            )
        return self._engines[tenant]

    # ---- serving -----------------------------------------------------------------------------------------
    def start(self, host: str, gsp_port: int, gim_port: int) -> tuple[int, int]:
        """Serve both endpoints and start refreshing; returns the bound ports (0 picks a free one)."""
        for port, metrics in ((gsp_port, self.gsp), (gim_port, self.gim)):
            server, _thread = start_http_server(port, addr=host, registry=metrics.registry)
            self._servers.append(server)
        self._thread = threading.Thread(target=self._loop, name="gim-metrics-refresh", daemon=True)
        self._thread.start()
        bound = [server.server_port for server in self._servers]
        log.info("serving GSP metrics on %s:%d and GIM metrics on %s:%d", host, bound[0], host, bound[1])
        return bound[0], bound[1]

    def _loop(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            self.refresh()
            log.debug("refresh took %.2fs", time.monotonic() - began)
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=60)
        for engine in self._engines.values():
            engine.dispose()
