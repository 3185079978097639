"""S3 through dagster-aws: the S3 resource (optional endpoint URL for moto / MinIO) and the IO manager."""

from __future__ import annotations

from dagster import EnvVar
from dagster_aws.s3 import S3PickleIOManager, S3Resource

from gim_dagster.settings import EnvRef, Settings, Value


def dagster_value(value: Value | None) -> str | EnvVar | None:
    """Settings values become Dagster config: an ``{env: X}`` reference stays a deferred ``EnvVar``."""
    return EnvVar(value.env) if isinstance(value, EnvRef) else value


def s3_resource(settings: Settings) -> S3Resource:
    s3 = settings.s3
    return S3Resource(
        endpoint_url=dagster_value(s3.endpoint_url),
        region_name=dagster_value(s3.region_name),
        aws_access_key_id=dagster_value(s3.access_key_id),
        aws_secret_access_key=dagster_value(s3.secret_access_key),
    )


def s3_io_manager(settings: Settings, s3: S3Resource) -> S3PickleIOManager:
    """The default IO manager: small asset outputs (summaries, checkpoint pointers) pickled to S3.

    Bulk data (snapshots, checkpoints, exports) is written by the assets themselves in columnar or zipped form
    under tenant prefixes; the IO manager only carries what Dagster passes between assets.
    """
    return S3PickleIOManager(
        s3_resource=s3, s3_bucket=dagster_value(settings.s3.bucket), s3_prefix=settings.s3.prefix
    )
