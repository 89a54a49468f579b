"""Files of 5 MiB to 5 GiB uploaded in parts (an S3 multipart upload), which resume after an
interruption: the client asks for presigned URLs of the parts it still has to send, PUTs them, reads
which parts S3 holds (with their sizes and ETags) and completes the upload, which starts the import
the same way a landed POST upload does (service.on_upload_landed).

The import keeps the upload as its `multipart` (store.MultipartUpload): the S3 upload id and the plan,
and when it was completed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bulkimport.adapters.s3 import BlobStore
from bulkimport.config import Uploads, section
from bulkimport.errors import Conflict, InvalidInput, TooLarge
from bulkimport.ids import now_iso
from bulkimport.imports import store
from bulkimport.imports.models import CompleteUpload, HeldPart, ImportCreate, MultipartTicket, PartUrl, UploadState
from bulkimport.imports.store import ImportRecord, MultipartUpload

MiB = 1024 * 1024
# S3 refuses to complete an upload with a part under 5 MiB but the last, and takes at most 10,000.
MIN_PART_BYTES = 5 * MiB
MAX_PARTS = 10_000
# Part URLs asked for in one call.
MAX_NUMBERS = 100


def wanted(request: ImportCreate) -> bool:
    """Whether the file comes in parts, after checking the size against the method; the default is
    one POST up to the POST limit (100 MB) and parts above it."""
    cfg = section(Uploads)
    method = request.upload_method
    size = request.file_size
    if method is None:
        method = "multipart" if size is not None and size > cfg.upload_max_bytes else "post"
    if method == "post":
        if size is not None and size > cfg.upload_max_bytes:
            raise TooLarge("UPLOAD_TOO_LARGE_FOR_POST", size=size, max_bytes=cfg.upload_max_bytes)
        return False
    if size is None:
        raise InvalidInput("FILE_SIZE_REQUIRED")
    if size < MIN_PART_BYTES:
        raise InvalidInput("FILE_TOO_SMALL_FOR_MULTIPART", size=size, min_bytes=MIN_PART_BYTES)
    if size > cfg.multipart_max_bytes:
        raise TooLarge("FILE_TOO_LARGE", size=size, max_bytes=cfg.multipart_max_bytes)
    return True


def plan_parts(file_size: int) -> tuple[int, int]:
    """(part size, part count): whole MiB parts of at least 5 MiB, at most 10,000 of them."""
    per_part = -(-file_size // MAX_PARTS)
    part_size = max(MIN_PART_BYTES, -(-per_part // MiB) * MiB)
    return part_size, -(-file_size // part_size)


def upload_deadline() -> datetime:
    return datetime.now(UTC) + timedelta(days=section(Uploads).multipart_upload_days)


def open_upload(key: str, file_size: int, expires_at: str) -> MultipartUpload:
    """Open the multipart upload of an import's file."""
    part_size, part_count = plan_parts(file_size)
    upload_id = BlobStore().start_multipart(key)
    return MultipartUpload(
        upload_id=upload_id, part_size=part_size, part_count=part_count, file_size=file_size, expires_at=expires_at
    )


def ticket(upload: MultipartUpload) -> MultipartTicket:
    return MultipartTicket(part_size=upload.part_size, part_count=upload.part_count, expires_at=upload.expires_at)


def _open(tenant: str, import_id: str) -> tuple[ImportRecord, MultipartUpload]:
    """The import and its multipart upload, still open to parts: else a clear refusal."""
    item = store.load(tenant, import_id)
    upload = item.multipart
    if upload is None:
        raise Conflict("NOT_MULTIPART", import_id=import_id)
    if item.status not in ("waiting_upload", "scheduled") or upload.completed_at:
        raise Conflict("UPLOAD_CLOSED", import_id=import_id, state=item.status)
    if datetime.now(UTC) >= _when(upload.expires_at):
        raise Conflict("UPLOAD_EXPIRED", expired_at=upload.expires_at)
    return item, upload


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _check_number(number: int, upload: MultipartUpload) -> None:
    if not 1 <= number <= upload.part_count:
        raise InvalidInput("PART_NUMBER_OUT_OF_RANGE", number=number, part_count=upload.part_count)


def part_urls(tenant: str, import_id: str, numbers: list[int]) -> list[PartUrl]:
    """Presigned PUT URLs of some parts (at most 100 a call), each valid for the upload URL lifetime
    (1 hour), never past the upload's own expiry."""
    item, upload = _open(tenant, import_id)
    if not numbers:
        raise InvalidInput("PART_NUMBERS_REQUIRED")
    if len(numbers) > MAX_NUMBERS:
        raise InvalidInput("TOO_MANY_PART_NUMBERS", count=len(numbers), max_count=MAX_NUMBERS)
    for number in numbers:
        _check_number(number, upload)
    left = int((_when(upload.expires_at) - datetime.now(UTC)).total_seconds())
    expires_in = max(1, min(section(Uploads).upload_url_ttl_seconds, left))
    blobs = BlobStore()
    return [
        PartUrl(number=n, url=blobs.presigned_part(item.upload_key, upload.upload_id, n, expires_in))
        for n in dict.fromkeys(numbers)
    ]


def upload_state(tenant: str, import_id: str) -> UploadState:
    """The upload's plan and the parts S3 holds, for a client to resume: it sends only the others."""
    item, upload = _open(tenant, import_id)
    held = BlobStore().list_parts(item.upload_key, upload.upload_id)
    if held is None:  # aborted under us (a cancel, the lifecycle rule)
        raise Conflict("UPLOAD_CLOSED", import_id=import_id, state=store.load(tenant, import_id).status)
    return UploadState(**ticket(upload).model_dump(), parts=[HeldPart(**p) for p in held])


def expected_size(upload: MultipartUpload, number: int) -> int:
    """The size part `number` has: part_size, the last one the rest of the file."""
    if number < upload.part_count:
        return upload.part_size
    return upload.file_size - (upload.part_count - 1) * upload.part_size


def complete(tenant: str, import_id: str, request: CompleteUpload) -> tuple[ImportRecord, dict]:
    """Complete the upload from every part's number and ETag (as each PUT answered them, or as GET
    .../upload lists them); the file is then whole, and its import starts. Returns the item.

    Every part must be there with the planned size and the given ETag: a file with a part missing
    or sent twice differently is refused before S3 joins it, and nothing is imported. Returns the
    import and the version of the file S3 made (adapters.s3 pin), the one it reads."""
    item, upload = _open(tenant, import_id)
    numbers = [part.number for part in request.parts]
    for number in numbers:
        _check_number(number, upload)
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("DUPLICATE_PART_NUMBER", number=next(n for n in numbers if numbers.count(n) > 1))
    missing = sorted(set(range(1, upload.part_count + 1)) - set(numbers))
    if missing:
        raise InvalidInput("PARTS_MISSING", numbers=_listed(missing), part_count=upload.part_count)
    blobs = BlobStore()
    held = blobs.list_parts(item.upload_key, upload.upload_id)
    if held is None:
        raise Conflict("UPLOAD_CLOSED", import_id=import_id, state=store.load(tenant, import_id).status)
    by_number = {part["number"]: part for part in held}
    not_sent = [n for n in sorted(numbers) if n not in by_number]
    if not_sent:
        raise InvalidInput("PARTS_NOT_UPLOADED", numbers=_listed(not_sent))
    given = {part.number: part.etag.strip().strip('"').lower() for part in request.parts}
    for number in sorted(numbers):
        part = by_number[number]
        if part["etag"].lower() != given[number]:
            raise InvalidInput("PART_ETAG_MISMATCH", number=number, etag=given[number], held=part["etag"])
        expected = expected_size(upload, number)
        if part["size"] != expected:
            raise InvalidInput("PART_SIZE_WRONG", number=number, size=part["size"], expected=expected)
    ordered = [(n, given[n]) for n in sorted(numbers)]
    pin, refused = blobs.complete_multipart(item.upload_key, upload.upload_id, ordered)
    if refused == "NoSuchUpload":
        raise Conflict("UPLOAD_CLOSED", import_id=import_id, state=store.load(tenant, import_id).status)
    if refused:  # checked above: S3 and this check disagree only if a part changed in between
        raise InvalidInput("PARTS_REFUSED", reason=refused)
    assert pin is not None  # completed
    completed = upload.model_copy(update={"completed_at": now_iso()})
    done = store.update(tenant, import_id, {"multipart": completed.model_dump()})
    return done or item, pin


def _listed(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:20])
    return shown + (f" (+{len(numbers) - 20})" if len(numbers) > 20 else "")


def abort(item: ImportRecord) -> None:
    """Abort the import's open upload (cancel, expiry): S3 drops its parts."""
    upload = item.multipart
    if upload and not upload.completed_at:
        BlobStore().abort_multipart(item.upload_key, upload.upload_id)
