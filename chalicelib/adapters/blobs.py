"""Where bytes live (raw emails, attachments): S3 in AWS, a folder on the local stack.

DynamoDB keeps only facts about them (name, type, size, key): an item is at most 400 KB.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class LocalBlobs:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        path = (self.directory / key).resolve()
        if self.directory.resolve() not in path.parents:
            raise ValueError("blob key escapes the blob folder")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def put_new(self, key: str, data: bytes, content_type: str) -> None:
        """Write once: FileExistsError rather than replace bytes someone already stored."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as file:
            file.write(data)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Blobs:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._put_object(key, data, content_type)

    def put_new(self, key: str, data: bytes, content_type: str) -> None:
        """Write once (`If-None-Match: *`): S3 refuses with 412 rather than replace an object."""
        self._put_object(key, data, content_type, IfNoneMatch="*")

    def _put_object(self, key: str, data: bytes, content_type: str, **conditions: str) -> None:
        """Every object encrypted at rest, whichever way it is written."""
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            ServerSideEncryption="AES256",
            **conditions,
        )

    def get(self, key: str) -> bytes:
        try:
            data: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(key) from None  # the port's answer, as on a disk
        return data

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)
