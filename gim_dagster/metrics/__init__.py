"""Prometheus metrics of gim-dagster: a GSP endpoint (9249) and a GIM endpoint (8249), see docs/metrics.md.

``MetricsService`` serves both from one process (``gim metrics serve``); ``events`` turns materialization
metadata into counters, ``live`` computes lag and export gauges from Kafka, S3 and the Info Mart.
"""

from gim_dagster.metrics.events import EventRecorder
from gim_dagster.metrics.families import GimMetrics, GspMetrics
from gim_dagster.metrics.server import MetricsService

__all__ = ["EventRecorder", "GimMetrics", "GspMetrics", "MetricsService"]
