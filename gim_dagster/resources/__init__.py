"""Dagster resources: thin wrappers that hand the core its connections."""

from gim_dagster.resources.kafka import KafkaResource
from gim_dagster.resources.postgres import PostgresResource
from gim_dagster.resources.s3 import dagster_value, s3_resource
from gim_dagster.settings import load_settings

__all__ = ["KafkaResource", "PostgresResource", "build_resources", "s3_resource"]


def build_resources(settings_file: str) -> dict[str, object]:
    """All resources of the code location, from the settings file (secrets stay deferred ``EnvVar``s)."""
    settings = load_settings(settings_file)
    kafka = settings.kafka
    return {
        "postgres": PostgresResource(settings_file=settings_file),
        "kafka": KafkaResource(
            bootstrap_servers=dagster_value(kafka.bootstrap_servers),
            client_config=kafka.client,
            sasl_username=dagster_value(kafka.sasl_username),
            sasl_password=dagster_value(kafka.sasl_password),
            topic_partitions=kafka.topic_partitions,
            replication_factor=kafka.replication_factor,
        ),
        "s3": s3_resource(settings),
    }
