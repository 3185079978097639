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

from gim_dagster.core.export.writer import Folder

TMP_PREFIX = ".tmp-"


class Destination(Protocol):
    def publish(self, folder: Folder) -> str:
        """Publish ``folder`` (complete on disk); return where it now is."""
        ...


@dataclass(frozen=True)
class LocalDestination:
    root: Path

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

    def publish(self, folder: Folder) -> str:
        base = f"{self.prefix.strip('/')}/{folder.name}"
        for file in folder.files:  # the metadata file last: readers key on it
            self.client.upload_file(str(file), self.bucket, f"{base}/{file.name}")
        return f"s3://{self.bucket}/{base}"
