"""A small adapter over the service's S3 bucket."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from bulkimport.adapters.aws import client
from bulkimport.config import Storage, section
from bulkimport.errors import FileError

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchVersion"}
_CHANGED = {"412", "PreconditionFailed"}


@dataclass(frozen=True)
class ObjectVersion:
    """One version of an object: what a later read names to get exactly these bytes again."""

    size: int
    etag: str
    version_id: str | None  # None where the bucket keeps no versions (nor versioned this object)

    def pin(self) -> dict[str, str | None]:
        """The version as an import keeps it (`source`), for `head`, `open` and `read_range`."""
        return {"version_id": self.version_id, "etag": self.etag}


def pin_of(version_id: str | None, etag: str) -> dict[str, str | None]:
    """A pin from what an S3 event or a put says of an object ("null": written while unversioned)."""
    return {"version_id": None if version_id in (None, "", "null") else version_id, "etag": etag.strip('"')}


def _pinned(pin: dict | None) -> dict[str, str]:
    """The parameters that read a pinned version and nothing else: its VersionId, so an object
    written again later is not what is read; and If-Match on its ETag, so a bucket that kept no
    version fails the read (SOURCE_CHANGED) instead of returning other bytes."""
    if not pin:
        return {}
    found = {"IfMatch": f'"{pin["etag"]}"'}
    if pin.get("version_id"):
        found["VersionId"] = pin["version_id"]
    return found


def _changed(error: ClientError) -> FileError | None:
    """SOURCE_CHANGED for a pinned read whose version is gone or whose ETag no longer matches."""
    if error.response.get("Error", {}).get("Code") in _CHANGED | {"NoSuchVersion"}:
        return FileError("SOURCE_CHANGED")
    return None


class BlobStore:
    def __init__(self, bucket: str | None = None):
        self.bucket = bucket or section(Storage).bucket
        self.s3 = client("s3")

    def put_bytes(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> dict:
        """Write an object; returns the pin of the version written."""
        written = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return pin_of(written.get("VersionId"), written["ETag"])

    def put_json(self, key: str, value: Any) -> None:
        self.put_bytes(key, json.dumps(value, ensure_ascii=False).encode(), "application/json")

    def put_json_once(self, key: str, value: Any) -> bool:
        """Write `value` unless the object exists (an S3 conditional write): the first writer wins.
        False if it was there already."""
        body = json.dumps(value, ensure_ascii=False).encode()
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json", IfNoneMatch="*")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True

    def get_json(self, key: str) -> Any:
        return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def read_range(self, key: str, start: int, end: int, pin: dict | None = None) -> bytes:
        """Bytes [start, end) of an object (of its pinned version: SOURCE_CHANGED if it is gone)."""
        if end <= start:
            return b""
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}", **_pinned(pin))
        except ClientError as error:
            raise _changed(error) or error from None
        return response["Body"].read()

    def open(self, key: str, pin: dict | None = None) -> io.BufferedReader:
        """A buffered, line-iterable binary stream of an object (of its pinned version), read as it goes."""
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key, **_pinned(pin))["Body"]
        except ClientError as error:
            raise _changed(error) or error from None
        return io.BufferedReader(_RawStream(body), buffer_size=1024 * 1024)

    def head(self, key: str, pin: dict | None = None) -> ObjectVersion | None:
        """The object's current version (or its pinned one), or None when there is none; a pinned
        version whose ETag no longer matches (a bucket without versions) is SOURCE_CHANGED."""
        try:
            found = self.s3.head_object(Bucket=self.bucket, Key=key, **_pinned(pin))
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in _MISSING:
                return None
            if code in _CHANGED:
                raise FileError("SOURCE_CHANGED") from None
            raise
        version = pin_of(found.get("VersionId"), found["ETag"])["version_id"]
        return ObjectVersion(found["ContentLength"], found["ETag"].strip('"'), version)

    def list_objects(self, prefix: str) -> Iterator[dict]:
        """Every object under a prefix: {"key", "size", "etag"} (folders, keys ending in "/", skipped)."""
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                if not entry["Key"].endswith("/"):
                    yield {"key": entry["Key"], "size": entry["Size"], "etag": entry["ETag"].strip('"')}

    def read_lines(self, key: str) -> Iterator[str]:
        """The lines of a UTF-8 text object, or nothing when it does not exist."""
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as error:
            if error.response["Error"]["Code"] in {"404", "NoSuchKey"}:
                return
            raise
        for line in body.iter_lines():
            yield line.decode("utf-8")

    def upload(self, key: str, stream, content_type: str) -> None:
        """Upload a file object of any size (multipart when large), memory bounded."""
        self.s3.upload_fileobj(stream, self.bucket, key, ExtraArgs={"ContentType": content_type})

    @contextmanager
    def writer(self, key: str, content_type: str) -> Iterator[_PartWriter]:
        """Write an object of any size as a stream, holding one part in memory: a multipart upload
        (one put when it stays small), completed on leaving the block and aborted on an error."""
        out = _PartWriter(self.s3, self.bucket, key, content_type)
        try:
            yield out
        except BaseException:
            out.abort()
            raise
        out.complete()

    def presigned_get(self, key: str, download_name: str, expires_in: int = 3600) -> str:
        return self.s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{download_name}"',
            },
            ExpiresIn=expires_in,
        )

    def presigned_post(self, key: str, max_bytes: int, expires_in: int) -> dict:
        return self.s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )

    # ------------------------------------------------------------ multipart uploads by clients
    def start_multipart(self, key: str) -> str:
        """Open a multipart upload of `key` whose parts a client sends to presigned URLs; its id."""
        return self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]

    def presigned_part(self, key: str, upload_id: str, number: int, expires_in: int) -> str:
        return self.s3.generate_presigned_url(
            "upload_part",
            Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": number},
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )

    def list_parts(self, key: str, upload_id: str) -> list[dict] | None:
        """The parts S3 holds of an upload, by number: {"number", "size", "etag"}; None when the upload
        is no longer open (completed or aborted)."""
        parts: list[dict] = []
        try:
            pages = self.s3.get_paginator("list_parts").paginate(Bucket=self.bucket, Key=key, UploadId=upload_id)
            for page in pages:
                for part in page.get("Parts", []):
                    parts.append({"number": part["PartNumber"], "size": part["Size"], "etag": part["ETag"].strip('"')})
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchUpload":
                return None
            raise
        return parts

    def complete_multipart(
        self, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> tuple[dict[str, str | None] | None, str | None]:
        """Complete an upload from its (number, etag) parts: (the object's pin, None) when done, else
        (None, S3's refusal code: InvalidPart, InvalidPartOrder, EntityTooSmall, NoSuchUpload)."""
        try:
            done = self.s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": f'"{etag}"'} for n, etag in parts]},
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall", "NoSuchUpload"):
                return None, str(code)
            raise
        return pin_of(done.get("VersionId"), done["ETag"]), None

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Abort an upload and drop its parts (one already gone is fine)."""
        try:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "NoSuchUpload":
                raise


class _PartWriter(io.RawIOBase):
    """A write-only, unseekable raw file: text wrappers and zip writers (XLSX exports, which then
    write their entries with data descriptors) can write into it as into a file."""

    PART_BYTES = 8 * 1024 * 1024  # S3 wants at least 5 MB in every part but the last

    def __init__(self, s3, bucket: str, key: str, content_type: str):
        super().__init__()
        self.s3, self.bucket, self.key, self.content_type = s3, bucket, key, content_type
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict] = []
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.buffer += data
        self.written += len(data)
        if len(self.buffer) >= self.PART_BYTES:
            self._send_part()
        return len(data)

    def tell(self) -> int:
        return self.written

    def _send_part(self) -> None:
        if self.upload_id is None:
            self.upload_id = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )["UploadId"]
        number = len(self.parts) + 1
        response = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=bytes(self.buffer)
        )
        self.parts.append({"PartNumber": number, "ETag": response["ETag"]})
        self.buffer.clear()

    def complete(self) -> None:
        if self.upload_id is None:
            self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer), ContentType=self.content_type)
            return
        if self.buffer:
            self._send_part()
        self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": self.parts}
        )

    def abort(self) -> None:
        if self.upload_id is not None:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)


class _RawStream(io.RawIOBase):
    """Lets io.BufferedReader read a botocore StreamingBody."""

    def __init__(self, body):
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()
