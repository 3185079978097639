"""S3 through dagster-aws: the S3 resource (optional endpoint URL for moto / MinIO, a private CA).

No IO manager: docs/design.md, "No IO manager"."""

from __future__ import annotations

from typing import Any

from dagster import EnvVar
from dagster_aws.s3 import S3Resource
from dagster_aws.s3.utils import construct_s3_client

from gim_dagster.settings import EnvRef, Settings, Value


def dagster_value(value: Value | None) -> str | EnvVar | None:
    """Settings values become Dagster config: an ``{env: X}`` reference stays a deferred ``EnvVar``."""
    return EnvVar(value.env) if isinstance(value, EnvRef) else value


class GimS3Resource(S3Resource):
    """dagster-aws's S3 resource and a CA file that verifies the endpoint (its ``verify`` is a bool)."""

    ca_bundle: str | None = None

    def get_client(self) -> Any:
        if self.ca_bundle is None:
            return super().get_client()
        return construct_s3_client(
            max_attempts=self.max_attempts,
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            use_unsigned_session=self.use_unsigned_session,
            profile_name=self.profile_name,
            use_ssl=self.use_ssl,
            verify=self.ca_bundle,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
        )


def s3_resource(settings: Settings) -> S3Resource:
    """The S3 resource; the CA file's path (not a secret) is resolved now, the credentials stay deferred."""
    s3 = settings.s3
    return GimS3Resource(
        ca_bundle=s3.verify(),
        endpoint_url=dagster_value(s3.endpoint_url),
        region_name=dagster_value(s3.region_name),
        aws_access_key_id=dagster_value(s3.access_key_id),
        aws_secret_access_key=dagster_value(s3.secret_access_key),
    )
