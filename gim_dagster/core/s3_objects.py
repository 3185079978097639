"""What every S3 store of the core shares: telling "the object is not there" from any other error.

boto3's ``NoSuchKey`` exception class is generated per client (``client.exceptions.NoSuchKey``), and a HEAD
request reports a missing object as a bare 404 without that class; the error code says it either way.
"""

from __future__ import annotations

from typing import Any

MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def is_missing(exc: BaseException) -> bool:
    """Whether a boto3 error means the object (or key) does not exist."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code in MISSING_CODES


def get_body(client: Any, bucket: str, key: str) -> bytes | None:
    """The object's bytes, or None when it does not exist (any other error is raised)."""
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        if is_missing(exc):
            return None
        raise
