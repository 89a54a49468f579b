"""Imports, as the API and the triggers see them: creating one, starting it when its file lands (an
upload, a file dropped under drop/, a scheduled time), reading it, cancelling and restarting it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from bulkimport.access.keys import Principal
from bulkimport.adapters import keys, scheduler
from bulkimport.adapters.dynamo import Attr
from bulkimport.adapters.s3 import BlobStore
from bulkimport.adapters.sfn import execution_running
from bulkimport.config import Uploads, section
from bulkimport.errors import Conflict, FileError, InvalidInput, NotFound, UnsupportedMediaType
from bulkimport.i18n.messages import render
from bulkimport.ids import new_id, now_iso
from bulkimport.imports import multipart, revert, store
from bulkimport.imports.models import (
    ACTIVE_STATUSES,
    REVERT_STATUSES,
    TERMINAL_STATUSES,
    CompleteUpload,
    Import,
    ImportCreate,
    ImportCreated,
    UploadTicket,
)
from bulkimport.imports.revert import REVERT_RUN
from bulkimport.imports.steps import IMPORT_RUN
from bulkimport.imports.store import ImportRecord
from bulkimport.ingest.formats import check_upload
from bulkimport.paging import Page, offset_page
from bulkimport.recipes.models import Recipe
from bulkimport.recipes.service import count_task, get_recipe
from bulkimport.runs import lifecycle
from bulkimport.runs.counting import live_amount
from bulkimport.schema.tables import get_table

# ---------------------------------------------------------------- reading


# Statuses whose progress is 100%: every row was done (a revert's own progress aside).
_ALL_ROWS_DONE = frozenset({"completed", "completed_with_errors"}) | REVERT_STATUSES


def to_import(item: ImportRecord, language: str = "en", with_recipe: bool = False) -> Import:
    total = item.total_count
    processed = item.processed_count
    if item.status == "reverting":  # the chunks reverted so far
        progress = min(99, len(item.counted(revert.REVERT_PASS)) * 100 // max(1, item.revert_chunk_count or 1))
    elif item.status in _ALL_ROWS_DONE:
        progress = 100
    elif total:
        # The rows of running chunks count towards progress; processed_count only once counted.
        counted = item.counted(item.pass_)
        seen = processed + live_amount(item.live_notes(), counted, store.counted_attribute(item.pass_))
        progress = min(99, seen * 100 // total)
    else:
        progress = 0
    error = (
        {"code": item.error.code, "message": render(item.error.code, item.error.params, language)}
        if item.error
        else None
    )
    data = item.model_dump(include=set(Import.model_fields))
    outcomes = {
        "created": item.created_count,
        "updated": item.updated_count,
        "unchanged": item.unchanged_count,
        "failed": item.fail_count,
    }
    sheets = item.reader.sheets if item.reader else None
    data.update(
        progress=progress,
        error=error,
        current_row_index=processed,
        current_sheet_index=store.current_sheet_index(sheets, item.counted(item.pass_)),
        outcomes=outcomes,
        revert=_revert_of(item),
    )
    data["recipe_version"] = item.recipe_snapshot.get("version", 1)
    if with_recipe:
        data["recipe"] = item.recipe_snapshot
    return Import.model_validate(data)


def _revert_of(item: ImportRecord) -> dict | None:
    if not item.revert_started_at:
        return None
    return {
        "deleted": item.revert_deleted,
        "restored": item.revert_restored,
        "skipped": item.revert_skipped_list or [],
        "skipped_count": item.revert_skipped,
        "started_at": item.revert_started_at,
        "ended_at": item.revert_ended_at,
    }


def get_import(tenant: str, import_id: str, language: str = "en") -> Import:
    return to_import(store.load(tenant, import_id), language, with_recipe=True)


def list_imports(
    tenant: str, status: str | None, recipe_id: str | None, per_page: int, cursor: str | None, language: str
) -> Page:
    if not status and not recipe_id:
        items, next_cursor = store.query(tenant, per_page, cursor)
        total = store.count(tenant)
        return Page.of([to_import(i, language).model_dump(mode="json") for i in items], per_page, next_cursor, total)
    # Filtered lists walk the tenant's imports newest first; the cursor is an offset into the match.
    matching = [
        i
        for i in store.query_all(tenant)
        if (not status or i.status == status) and (not recipe_id or i.recipe_id == recipe_id)
    ]
    return offset_page(matching, per_page, cursor, lambda i: to_import(i, language).model_dump(mode="json"))


# ---------------------------------------------------------------- creating


def create_import(
    principal: Principal,
    request: ImportCreate,
    file_body: bytes | None = None,
    created_by: str | None = None,
    source_key: str | None = None,
) -> tuple[ImportCreated, bool]:
    """Create an import (or return the one its transaction_id already made). Returns (import, created).

    The file comes in the call (file_body), is already in the bucket (source_key: a dropped file),
    or is uploaded later to the returned presigned POST.
    """
    tenant = principal.tenant
    scheduled_at = _scheduled_time(request.scheduled_at) if request.scheduled_at else None
    recipe = get_recipe(tenant, request.recipe_id)
    if file_body is not None:
        check_direct_upload(file_body, recipe)
    in_parts = file_body is None and source_key is None and multipart.wanted(request)
    table = get_table(tenant, recipe.table)

    import_id = new_id()
    if request.transaction_id:
        import_id, existing = store.claim_transaction(tenant, request.transaction_id, import_id)
        if existing:
            return ImportCreated(**to_import(existing).model_dump()), False

    item = store.new_record(
        tenant,
        import_id,
        request,
        recipe=recipe,
        table=table,
        parent=get_table(tenant, table.parent) if table.parent else None,
        scheduled_at=scheduled_at,
        created_by=created_by or principal.actor,
        upload_key=source_key or keys.upload_key(tenant, import_id),
    )
    if not scheduled_at and source_key is None:
        # Indexed before the import exists: a crash in between leaves an entry the sweeper drops.
        upload_window = timedelta(seconds=section(Uploads).upload_url_ttl_seconds)
        deadline = multipart.upload_deadline() if in_parts else datetime.now(UTC) + upload_window
        store.await_upload(tenant, import_id, _iso(deadline))
    if in_parts:
        assert request.file_size is not None  # multipart.wanted checked it
        item.multipart = multipart.open_upload(item.upload_key, request.file_size, _iso(multipart.upload_deadline()))
    store.create(item)
    count_task(tenant, recipe.id)
    if scheduled_at:
        scheduler.one_time(
            _schedule_name(import_id), scheduled_at, {"kind": "import", "tenant": tenant, "import_id": import_id}
        )

    if file_body is not None:
        source = BlobStore().put_bytes(item.upload_key, file_body)
        store.update(tenant, import_id, {"source": source})
        if not scheduled_at:
            item = _start_with_file(tenant, import_id, item, len(file_body))
        return ImportCreated(**to_import(item).model_dump()), True
    if source_key is not None:
        return ImportCreated(**to_import(item).model_dump()), True
    if item.multipart:
        return ImportCreated(**to_import(item).model_dump(), upload=multipart.ticket(item.multipart)), True
    return ImportCreated(**to_import(item).model_dump(), upload=_upload_ticket(item.upload_key)), True


def _start_with_file(tenant: str, import_id: str, item: ImportRecord, size: int) -> ImportRecord:
    """Start an import whose file came in the request, and return it as it is now: `queued` (in line
    for its table) or later, never `waiting_upload`. The bucket's event for the file may start it
    first; starting twice is harmless (lifecycle.start), and the status moves only forward."""
    store.update(
        tenant,
        import_id,
        {"status": "queued", "file": item.file_with(size=size)},
        when_status=("waiting_upload",),
    )
    lifecycle.start(IMPORT_RUN, tenant, import_id, turn=1)
    return store.get(tenant, import_id) or item


def _upload_ticket(key: str) -> UploadTicket:
    """A presigned POST for the file, bounded by the largest upload."""
    cfg = section(Uploads)
    post = BlobStore().presigned_post(key, cfg.upload_max_bytes, cfg.upload_url_ttl_seconds)
    expires = datetime.now(UTC) + timedelta(seconds=cfg.upload_url_ttl_seconds)
    return UploadTicket(
        url=post["url"], fields=post["fields"], max_bytes=cfg.upload_max_bytes, expires_at=_iso(expires)
    )


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_direct_upload(body: bytes, recipe: Recipe) -> None:
    """A file sent with the request is refused at once when it is clearly not one we can read."""
    try:
        check_upload(body, recipe.options.encoding)
    except FileError as error:
        kind = UnsupportedMediaType if error.code == "UNSUPPORTED_FILE_TYPE" else InvalidInput
        raise kind(error.code, **error.params) from None


def _scheduled_time(value: str) -> datetime:
    """scheduled_at as an aware UTC time in the future (a time without an offset is UTC)."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("INVALID_SCHEDULED_AT", value=value) from None
    when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    if when <= datetime.now(UTC):
        raise InvalidInput("INVALID_SCHEDULED_AT", value=value)
    return when.replace(microsecond=0)


def _schedule_name(import_id: str) -> str:
    return f"import-{import_id}"


def run_scheduled_import(tenant: str, import_id: str) -> str:
    """At its scheduled time: start the import if its file is there, else fail it clearly."""
    item = store.get(tenant, import_id)
    if not item or item.status != "scheduled":
        return "skipped"  # cancelled, or a repeated delivery of the schedule
    if BlobStore().head(item.upload_key, item.source) is None:
        stamp = now_iso()
        store.update(
            tenant,
            import_id,
            {
                "status": "failed",
                "error": {"code": "FILE_NOT_UPLOADED", "params": {}},
                "executed_end_at": stamp,
                "updated_at": stamp,
            },
            when_status=("scheduled",),
        )
        multipart.abort(item)  # parts sent but never completed go
        return "failed"
    lifecycle.start(IMPORT_RUN, tenant, import_id, turn=1)
    return "started"


def cancel_import(tenant: str, import_id: str, language: str = "en") -> Import:
    """Cancel an import. One not started yet just ends; a running one stops starting chunks, the chunks
    under way finish (and are counted), and its execution settles it and frees the table."""
    item = store.load(tenant, import_id)
    if item.status == "reverting":
        return _cancel_revert(tenant, import_id, language)
    if item.status in TERMINAL_STATUSES:
        raise Conflict("IMPORT_FINISHED", import_id=import_id, state=item.status)
    stamp = now_iso()
    cancelled = store.update(
        tenant,
        import_id,
        {"status": "cancelled", "executed_end_at": stamp, "updated_at": stamp},
        when_status=ACTIVE_STATUSES,
    )
    if cancelled is None:
        item = store.load(tenant, import_id)
        raise Conflict("IMPORT_FINISHED", import_id=import_id, state=item.status)
    if item.status == "scheduled":
        scheduler.delete_schedule(_schedule_name(import_id))
    multipart.abort(cancelled)
    return to_import(cancelled, language)


def _cancel_revert(tenant: str, import_id: str, language: str) -> Import:
    """A revert under way starts no more chunks; those under way finish and are counted, and its
    execution settles it `revert_cancelled` (reverting it again goes on where it stopped)."""
    stamp = now_iso()
    cancelled = store.update(
        tenant, import_id, {"status": "revert_cancelled", "updated_at": stamp}, when_status=("reverting",)
    )
    if cancelled is None:
        item = store.load(tenant, import_id)
        raise Conflict("IMPORT_FINISHED", import_id=import_id, state=item.status)
    return to_import(cancelled, language)


# What a revert may start from: a finished import that wrote (or may have written) records, or a
# revert that failed or was cancelled (it goes on where it stopped).
REVERTIBLE = ("completed", "completed_with_errors", "failed", "cancelled", "revert_failed", "revert_cancelled")
# What a revert reads (the chunks' created ids and before-images) is kept with the import's work files,
# which the data bucket expires after this many days (template.yaml, its `expire-work` rule). They are
# written after the import was created, so they are all there until this long after its creation.
WORK_FILES_DAYS = 90


def revert_import(tenant: str, import_id: str, language: str = "en") -> Import:
    """Start undoing an import: a run of its own (REVERT_RUN) that waits for the table and reverts the
    import's chunks (imports.revert). Nothing is undone twice: each chunk's revert is counted once."""
    item = store.load(tenant, import_id)
    status = item.status
    if status in ("reverting", "reverted"):
        raise Conflict("ALREADY_REVERTED", import_id=import_id, state=status)
    if item.dry_run:
        raise Conflict("NOTHING_TO_REVERT", import_id=import_id)
    kept_until = datetime.fromisoformat(item.created_at) + timedelta(days=WORK_FILES_DAYS)
    if datetime.now(UTC) >= kept_until:
        raise Conflict("REVERT_EXPIRED", import_id=import_id, days=WORK_FILES_DAYS, created_at=item.created_at)
    if status not in REVERTIBLE:
        raise Conflict("IMPORT_RUNNING", import_id=import_id, state=status)
    # A completed import's execution may still be in Finalize: its chunks are done, so the revert may
    # start (it waits for the table). A failed or cancelled run may still have chunks under way.
    stopping = status not in ("completed", "completed_with_errors")
    if stopping and item.execution_arn and execution_running(item.execution_arn):
        raise Conflict("IMPORT_STILL_STOPPING", import_id=import_id)
    stamp = now_iso()
    started = store.update(
        tenant,
        import_id,
        {
            "status": "reverting",
            "reverted_from": item.reverted_from or status,
            "revert_started_at": item.revert_started_at or stamp,
            "revert_ended_at": None,
            "error": item.error.model_dump() if item.error and status in ("failed", "cancelled") else None,
            "updated_at": stamp,
        },
        when_status=(status,),
    )
    if started is None:
        raise Conflict("ALREADY_REVERTED", import_id=import_id, state=store.load(tenant, import_id).status)
    lifecycle.start(REVERT_RUN, tenant, import_id, turn=item.job_turns + 1)
    return to_import(store.load(tenant, import_id), language)


def restart_import(tenant: str, import_id: str, language: str = "en") -> Import:
    """Run a failed or cancelled import again from its first chunk not yet counted: counted chunks are
    never run again and records have ids derived from their rows, so nothing is written twice."""
    item = store.load(tenant, import_id)
    if item.status not in ("failed", "cancelled"):
        raise Conflict("IMPORT_NOT_RESTARTABLE", import_id=import_id, state=item.status)
    if item.execution_arn and execution_running(item.execution_arn):
        raise Conflict("IMPORT_STILL_STOPPING", import_id=import_id)
    try:
        landed = BlobStore().head(item.upload_key, item.source)
    except FileError as error:  # the file it read was written over, in a bucket that kept no version
        raise Conflict(error.code) from None
    if landed is None:
        raise Conflict("FILE_NOT_UPLOADED")
    stamp = now_iso()
    restarted = store.update(
        tenant,
        import_id,
        {"status": "queued", "error": None, "executed_end_at": None, "restart_at": stamp, "updated_at": stamp},
        when_status=("failed", "cancelled"),
    )
    if restarted is None:
        raise Conflict("IMPORT_NOT_RESTARTABLE", import_id=import_id, state=store.load(tenant, import_id).status)
    lifecycle.start(IMPORT_RUN, tenant, import_id, turn=item.job_turns + 1)
    return to_import(store.load(tenant, import_id), language)


def parse_upload_key(key: str) -> tuple[str, str] | None:
    parts = key.split("/")
    if len(parts) == 4 and parts[0] == "uploads" and parts[3] == "source":
        return parts[1], parts[2]
    return None


class ObjectOutcome(NamedTuple):
    """What a new object in the bucket did: the import it started, or why it started none."""

    started: str | None = None
    ignored: str | None = None


def on_upload_landed(key: str, size: int, source: dict | None) -> ObjectOutcome:
    """Start the import whose file just landed (a scheduled one waits for its time), pinned to the
    version that landed (`source`, adapters.s3.pin_of): whatever is uploaded later with the same
    ticket is never read.

    S3 events may arrive more than once: only an import still waiting for its upload starts, and the
    execution is named after the import, so a second start is refused by Step Functions itself.
    """
    parsed = parse_upload_key(key)
    if not parsed:
        return ObjectOutcome(ignored="not an upload (uploads/{tenant}/{import}/source) nor a drop (drop/...)")
    tenant, import_id = parsed
    item = store.get(tenant, import_id)
    if not item:
        return ObjectOutcome(ignored=f"no import {import_id} of tenant {tenant}")
    if item.status not in ("waiting_upload", "scheduled"):
        return ObjectOutcome(ignored=f"import {import_id} is {item.status}, not waiting for its upload")
    pinned = item.source
    if pinned is None:
        landed: dict = {"file": item.file_with(size=size), "updated_at": now_iso()}
        if source is not None:  # else (an event naming no version) Prepare pins the version it reads
            landed["source"] = source
        updated = store.update(tenant, import_id, landed, condition=Attr("source").not_exists())
        pinned = source if updated else store.load(tenant, import_id).source
    if source is not None and pinned != source:  # uploaded again with the same ticket
        return ObjectOutcome(ignored=f"import {import_id} has its file: another upload of it is never read")
    if item.status == "scheduled":
        return ObjectOutcome(ignored=f"import {import_id} is scheduled: it starts at {item.scheduled_at}")
    lifecycle.start(IMPORT_RUN, tenant, import_id, turn=1)
    store.stop_awaiting_upload(tenant, import_id)
    return ObjectOutcome(started=import_id)


# How long after its upload URL expired an import without its file is failed UPLOAD_EXPIRED: an
# upload S3 accepted before the expiry may still be arriving (100 MB on a slow line).
UPLOAD_GRACE = timedelta(hours=1)


def sweep_awaited_uploads(now: datetime | None = None) -> dict[str, list[str]]:
    """The sweeper's look at imports waiting for their upload. One whose file is in the bucket starts
    (its Object Created event was lost: EventBridge or the function gave up on it); one still without
    its file UPLOAD_GRACE after its upload URL expired fails UPLOAD_EXPIRED, so none waits forever.
    Returns the ids {"started": [...], "expired": [...]}."""
    now = now or datetime.now(UTC)
    started: list[str] = []
    expired: list[str] = []
    for entry in store.awaited_uploads():
        tenant, import_id = entry.tenant, entry.import_id
        item = store.get(tenant, import_id)
        if item and item.status == "waiting_upload":
            landed = BlobStore().head(item.upload_key)
            if landed is not None:
                if on_upload_landed(item.upload_key, landed.size, landed.pin()).started:
                    started.append(import_id)
            elif now < datetime.fromisoformat(entry.deadline.replace("Z", "+00:00")) + UPLOAD_GRACE:
                continue  # the upload may still come
            elif _expire_upload(tenant, import_id, entry.deadline):
                expired.append(import_id)
        store.stop_awaiting_upload(tenant, import_id)
    return {"started": started, "expired": expired}


def complete_upload(tenant: str, import_id: str, request: CompleteUpload, language: str = "en") -> Import:
    """Complete an import's multipart upload, and start the import as its landed file does: the
    bucket's Object Created event for it (CompleteMultipartUpload makes one too) then finds the
    import no longer waiting and leaves it."""
    item, source = multipart.complete(tenant, import_id, request)
    assert item.multipart is not None  # multipart.complete refuses an import without one
    size = item.multipart.file_size
    if item.status == "scheduled":
        on_upload_landed(item.upload_key, size, source)  # keeps the size and version; it starts at its time
    else:
        store.update(tenant, import_id, {"source": source})  # the version it reads (adapters.s3 pin)
        item = _start_with_file(tenant, import_id, item, size)
        store.stop_awaiting_upload(tenant, import_id)
    return to_import(item, language)


def _expire_upload(tenant: str, import_id: str, deadline: str) -> bool:
    stamp = now_iso()
    failed = store.update(
        tenant,
        import_id,
        {
            "status": "failed",
            "error": {"code": "UPLOAD_EXPIRED", "params": {"expired_at": deadline}},
            "executed_end_at": stamp,
            "updated_at": stamp,
        },
        when_status=("waiting_upload",),
    )
    if failed is not None:
        multipart.abort(failed)  # its parts go (the bucket's lifecycle rule aborts it too, later)
    return failed is not None


DROP_PREFIX = "drop/"


def on_file_dropped(key: str, size: int, sequencer: str, source: dict | None) -> ObjectOutcome:
    """A file written to drop/{tenant}/{recipe_id}/{file name} becomes an import of it, started at
    once. The same S3 event delivered twice finds the import it made (the transaction id is the
    object's key and sequencer)."""
    parts = key.split("/", 3)
    if len(parts) != 4 or parts[0] != DROP_PREFIX.rstrip("/") or not parts[3] or key.endswith("/"):
        return ObjectOutcome(ignored="not drop/{tenant}/{recipe_id}/{file name}")
    tenant, recipe_id = parts[1], parts[2]
    try:
        get_recipe(tenant, recipe_id)
    except NotFound:
        return ObjectOutcome(ignored=f"no recipe {recipe_id} of tenant {tenant}")
    transaction_id = "drop-" + hashlib.sha256(f"{key}#{sequencer}".encode()).hexdigest()[:40]
    import_id, is_new = import_stored_file(
        tenant, recipe_id, key, size, transaction_id, f"s3-drop:{key}", "s3-drop", source=source
    )
    return ObjectOutcome(started=import_id) if is_new else ObjectOutcome(ignored=f"already imported as {import_id}")


def import_stored_file(
    tenant: str,
    recipe_id: str,
    key: str,
    size: int,
    transaction_id: str,
    created_by: str,
    key_id: str,
    source: dict | None = None,
) -> tuple[str, bool]:
    """Create (once per transaction id) and start an import of a file already in the bucket, pinned
    to its `source` version when known (else to the version Prepare finds).
    Returns (import id, whether this call created it)."""
    principal = Principal(tenant=tenant, role="editor", key_id=key_id)
    # ImportCreate keeps only a safe base name of the key's last part.
    request = ImportCreate(recipe_id=recipe_id, file_name=key.rsplit("/", 1)[-1], transaction_id=transaction_id)
    created, is_new = create_import(principal, request, created_by=created_by[:500], source_key=key)
    if created.status == "waiting_upload":
        store.update(tenant, created.id, {"file": {"name": request.file_name, "size": size}, "source": source})
        lifecycle.start(IMPORT_RUN, tenant, created.id, turn=1)
    return created.id, is_new
