"""Publishing a written folder so that a reader never sees half of it.

* Local directory: the folder is written as ``<root>/.tmp-<name>-<random>/<name>`` (same file system) and
  renamed to ``<root>/<name>`` in one ``rename``: it appears complete or not at all. Names starting with
  ``.`` are never export folders, so readers skip unfinished work and leftovers of a crash.
* S3 has no rename: the objects are uploaded in the order zip, ``.zip.sha1``, then ``.extracted.xml``
  **last**. Readers (``gim import``, and anyone else: see docs/export.md) treat a folder as published only
  once its ``.extracted.xml`` exists.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gim_dagster.core.export.contract import is_folder_name
from gim_dagster.core.export.writer import Folder

TMP_PREFIX = ".tmp-"


class Destination(Protocol):
    @property
    def location(self) -> str:
        """Where folders go: a directory or ``s3://bucket/prefix``."""
        ...

    def publish(self, folder: Folder) -> str:
        """Publish ``folder`` (complete on disk); return where it now is."""
        ...

    def folders(self) -> list[str]:
        """The published export folders there, in name order."""
        ...


def destination_at(spec: str, s3_client: Any) -> Destination:
    """A destination named at run time: ``s3://bucket/prefix`` or a local directory."""
    if spec.startswith("s3://"):
        bucket, _, prefix = spec.removeprefix("s3://").partition("/")
        if not bucket or not prefix.strip("/"):
            raise ValueError(f"destination {spec!r}: use s3://bucket/prefix (a prefix is required)")
        return S3Destination(s3_client, bucket, prefix.strip("/"))
    if not spec.strip() or "://" in spec:
        raise ValueError(f"destination {spec!r}: use a local directory or s3://bucket/prefix")
    return LocalDestination(Path(spec))


def local_folders(root: Path) -> list[str]:
    """Published folders in a directory (those with their ``.extracted.xml``), in name order."""
    return sorted(
        p.name for p in root.iterdir() if is_folder_name(p.name) and (p / f"{p.name}.extracted.xml").exists()
    )


def s3_folders(client: Any, bucket: str, prefix: str) -> list[str]:
    """Published folders under an S3 prefix (those whose ``.extracted.xml`` exists), in name order."""
    base = f"{prefix.strip('/')}/".lstrip("/")
    names = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=base):
        for item in page.get("Contents", []):
            folder, _, file = item["Key"][len(base) :].partition("/")
            if file == f"{folder}.extracted.xml" and is_folder_name(folder):
                names.add(folder)
    return sorted(names)


@dataclass(frozen=True)
class LocalDestination:
    root: Path

    @property
    def location(self) -> str:
        return str(self.root)

    def folders(self) -> list[str]:
        return local_folders(self.root) if self.root.is_dir() else []

    def work_dir(self, name: str) -> Path:
        """Where to write a folder so that ``publish`` is a rename on the same file system."""
        path = self.root / f"{TMP_PREFIX}{name}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    def publish(self, folder: Folder) -> str:
        target = self.root / folder.name
        if folder.path.parent.parent != self.root:  # written elsewhere: copy next to the target first
            staging = self.work_dir(folder.name) / folder.name
            shutil.copytree(folder.path, staging)
        else:
            staging = folder.path
        for file in staging.iterdir():
            with file.open("rb") as fh:
                os.fsync(fh.fileno())
        if target.exists():  # a restarted stream or a repeated re-export writes the same name again
            aside = self.root / f"{TMP_PREFIX}replaced-{folder.name}-{uuid.uuid4().hex[:8]}"
            target.rename(aside)
            staging.rename(target)
            shutil.rmtree(aside)
        else:
            staging.rename(target)
        shutil.rmtree(staging.parent, ignore_errors=True)
        return str(target)


@dataclass(frozen=True)
class S3Destination:
    client: Any
    """A boto3 S3 client."""
    bucket: str
    prefix: str

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix.strip('/')}"

    def folders(self) -> list[str]:
        return s3_folders(self.client, self.bucket, self.prefix)

    def publish(self, folder: Folder) -> str:
        base = f"{self.prefix.strip('/')}/{folder.name}"
        for file in folder.files:  # the metadata file last: readers key on it
            self.client.upload_file(str(file), self.bucket, f"{base}/{file.name}")
        return f"s3://{self.bucket}/{base}"
