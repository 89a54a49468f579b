from typing import Annotated, Any

import request_examples as examples
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from contract import JSON_BODY, Data, link, operation
from pydantic import BaseModel, ValidationError
from web import JSON, language, parse_json, principal, read_form, request_body

from bulkimport.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    TooLarge,
    UnsupportedMediaType,
    validation_failed,
)
from bulkimport.imports import multipart, reports
from bulkimport.imports import service as imports
from bulkimport.imports.models import (
    CompleteUpload,
    Failure,
    Import,
    ImportCreate,
    ImportCreated,
    ImportResult,
    PartNumbers,
    PartUrl,
    UploadState,
)
from bulkimport.paging import Page

router = APIGatewayRouter()

_FORM_FIELDS = set(ImportCreate.model_fields)
_FLAGS = ("dry_run", "atomic", "has_header")
_NUMBERS = ("header_row",)  # form text that the model takes as an integer

IMPORT_NOT_FOUND = NotFound("IMPORT_NOT_FOUND", import_id="01M8C9BVB8MA4PQ3011DQJGH53")
_JSON_SCHEMA = ImportCreate.model_json_schema()
# The same attributes as form fields (text; a flag is true when 1, true, yes or on), and the file.
_FORM_SCHEMA = {
    "type": "object",
    "required": ["recipe_id", "file"],
    "properties": {
        **{
            name: {"type": "string", "enum": ["true", "false"]}
            if name in _FLAGS
            else {"type": "string", "pattern": "^[0-9]+$"}
            if name in _NUMBERS
            else {k: v for k, v in spec.get("anyOf", [spec])[0].items() if k in ("type", "minLength", "maxLength")}
            for name, spec in _JSON_SCHEMA["properties"].items()
        },
        "file": {"type": "string", "format": "binary", "description": "The file: CSV, TSV or XLSX, at most 4 MB."},
    },
}
CREATE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": _JSON_SCHEMA,
            "examples": {
                "upload later": {"summary": "Create, then upload to the ticket's URL", "value": examples.IMPORT},
                "upload in parts": {
                    "summary": "A large file: create, then upload it in parts",
                    "value": examples.IMPORT_MULTIPART,
                },
            },
        },
        "multipart/form-data": {"schema": _FORM_SCHEMA},
    },
}


@router.post(
    "/imports",
    **operation(
        "Create an import",
        tag="Imports",
        role="editor",
        request_body=CREATE_BODY,
        answers={
            201: {
                "description": "Created: with JSON, `data.upload` is the ticket to upload the file (up to "
                "100 MB) to; with multipart the file came with the request.",
                "content": {"application/json": {"model": Data[ImportCreated]}},
            },
            200: {
                "description": "An import of this transaction_id exists already: it is returned, no new one.",
                "content": {"application/json": {"model": Data[ImportCreated]}},
            },
        },
        links={
            name: link(method, path, import_id="$response.body#/data/id")
            for name, method, path in (
                ("GetImport", "GET", "/imports/{import_id}"),
                ("ListFailures", "GET", "/imports/{import_id}/failures"),
                ("FailuresCsv", "GET", "/imports/{import_id}/failures.csv"),
                ("CancelImport", "POST", "/imports/{import_id}/cancel"),
                ("RestartImport", "POST", "/imports/{import_id}/restart"),
            )
        },
        errors=[
            *JSON_BODY,
            NotFound("RECIPE_NOT_FOUND", recipe_id="01M8C9BVB8MA4PQ3011DQJGH53"),
            InvalidInput("FILE_REQUIRED"),
            InvalidInput("INVALID_SCHEDULED_AT", value="yesterday"),
            InvalidInput("EMPTY_FILE"),
            UnsupportedMediaType("UNSUPPORTED_FILE_TYPE"),
            InvalidInput("FILE_SIZE_REQUIRED"),
            InvalidInput("FILE_TOO_SMALL_FOR_MULTIPART", size=1000, min_bytes=multipart.MIN_PART_BYTES),
            TooLarge("UPLOAD_TOO_LARGE_FOR_POST", size=200_000_000, max_bytes=104_857_600),
            TooLarge("FILE_TOO_LARGE", size=6_000_000_000, max_bytes=5_368_709_120),
        ],
        description="JSON creates an import and returns an upload ticket; multipart/form-data carries a "
        "small file (up to 4 MB) in the same request.",
    ),
)
def create_import():
    caller = principal(router)
    media_type, options, raw = request_body(router)
    file_body = None
    if media_type == "multipart/form-data":
        form, file_body = read_form(raw, options.get("boundary", ""), _FORM_FIELDS)
        fields: dict[str, Any] = dict(form)
        for flag in _FLAGS:
            if flag in fields:
                fields[flag] = fields[flag].strip().lower() in ("1", "true", "yes", "on")
        for number in _NUMBERS:
            # Text that is no integer stays text, which the model refuses with VALIDATION_ERROR.
            if number in fields and fields[number].strip().lstrip("-").isdigit():
                fields[number] = int(fields[number])
        request = _validated(fields)
    elif media_type in ("application/json", ""):
        request = _validated(parse_json(raw or b"{}"))
    else:
        raise UnsupportedMediaType("UNSUPPORTED_MEDIA_TYPE", accepted=f"{JSON}, multipart/form-data")
    created, is_new = imports.create_import(caller, request, file_body)
    return {"data": created.model_dump(mode="json")}, 201 if is_new else 200


def _validated(payload) -> ImportCreate:
    try:
        return ImportCreate.model_validate(payload)
    except ValidationError as error:
        raise validation_failed(error.errors()) from None


@router.get(
    "/imports",
    **operation(
        "List imports",
        tag="Imports",
        role="viewer",
        paged=True,
        answers={200: Page[Import]},
        description="Newest first; `status` and `recipe_id` narrow the list.",
    ),
)
def list_imports(
    status: Annotated[str | None, Query()] = None,
    recipe_id: Annotated[str | None, Query()] = None,
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    page = imports.list_imports(caller.tenant, status, recipe_id, per_page, cursor, language(router))
    return page.model_dump(mode="json")


@router.get(
    "/imports/results",
    **operation(
        "Several imports' results",
        tag="Imports",
        role="viewer",
        answers={200: Data[list[ImportResult]]},
        errors=[InvalidInput("VALIDATION_ERROR"), IMPORT_NOT_FOUND],
        description="Several imports' progress and failures grouped into runs of rows at once: "
        "`?ids=a,b` (1 to 50 ids).",
    ),
)
def import_results(ids: Annotated[str, Query(min_length=1)]):
    caller = principal(router)
    wanted = [i.strip() for i in ids.split(",") if i.strip()]
    if not wanted or len(wanted) > 50:
        raise InvalidInput("VALIDATION_ERROR", details=[{"loc": ["query", "ids"], "msg": "1 to 50 ids"}])
    return {"data": reports.import_results(caller.tenant, wanted, language(router))}


@router.get(
    "/imports/<import_id>",
    **operation("Get an import", tag="Imports", role="viewer", answers={200: Data[Import]}, errors=[IMPORT_NOT_FOUND]),
)
def get_import(import_id: str):
    caller = principal(router)
    return {"data": imports.get_import(caller.tenant, import_id, language(router)).model_dump(mode="json")}


@router.get(
    "/imports/<import_id>/failures",
    **operation(
        "List an import's failures",
        tag="Imports",
        role="viewer",
        paged=True,
        answers={200: Page[Failure]},
        errors=[IMPORT_NOT_FOUND],
        description="Each failing row and field with its code and message, by row.",
    ),
)
def list_failures(
    import_id: str,
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return reports.list_failures(caller.tenant, import_id, per_page, cursor, language(router)).model_dump(mode="json")


class DownloadLink(BaseModel):
    """A short-lived download URL (1 hour)."""

    url: str


@router.get(
    "/imports/<import_id>/failures.csv",
    **operation(
        "Download an import's failing rows",
        tag="Imports",
        role="viewer",
        answers={
            200: Data[DownloadLink],
            303: {
                "description": "See other: the failing rows as CSV, at a short-lived download URL.",
                "headers": {"Location": {"description": "The download URL.", "schema": {"type": "string"}}},
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
        },
        errors=[
            IMPORT_NOT_FOUND,
            Conflict("IMPORT_RUNNING", import_id="01M8C9BVB8MA4PQ3011DQJGH53", state="importing"),
            Conflict("NO_ROW_FAILURES", import_id="01M8C9BVB8MA4PQ3011DQJGH53"),
        ],
        description="The failing rows as they came, with an `error` column, to fix and upload again. With "
        "`Accept: application/json` it answers 200 with the URL instead of redirecting (a browser's fetch "
        "cannot read a redirect's target; the console then lets the browser download the URL).",
    ),
)
def failures_csv(import_id: str):
    caller = principal(router)
    url = reports.failures_csv_url(caller.tenant, import_id, language(router))
    accept = router.current_event.headers.get("accept") or router.current_event.headers.get("Accept") or ""
    if accept.split(";")[0].strip().lower() == JSON:
        return {"data": DownloadLink(url=url).model_dump(mode="json")}
    return Response(status_code=303, headers={"Location": url}, content_type="text/plain", body=url)


@router.post(
    "/imports/<import_id>/cancel",
    **operation(
        "Cancel an import",
        tag="Imports",
        role="editor",
        answers={200: Data[Import]},
        errors=[
            IMPORT_NOT_FOUND,
            Conflict("IMPORT_FINISHED", import_id="01M8C9BVB8MA4PQ3011DQJGH53", state="completed"),
        ],
        description="One not started just ends; a running one starts no more chunks, and the chunks under "
        "way finish and are counted (success_count says how many rows were written).",
    ),
)
def cancel_import(import_id: str):
    caller = principal(router)
    return {"data": imports.cancel_import(caller.tenant, import_id, language(router)).model_dump(mode="json")}


@router.post(
    "/imports/<import_id>/restart",
    **operation(
        "Restart an import",
        tag="Imports",
        role="editor",
        answers={200: Data[Import]},
        errors=[
            IMPORT_NOT_FOUND,
            Conflict("IMPORT_NOT_RESTARTABLE", import_id="01M8C9BVB8MA4PQ3011DQJGH53", state="completed"),
            Conflict("IMPORT_STILL_STOPPING", import_id="01M8C9BVB8MA4PQ3011DQJGH53"),
            Conflict("FILE_NOT_UPLOADED"),
        ],
        description="A failed or cancelled import runs again from its first unfinished chunk; nothing is "
        "written twice.",
    ),
)
def restart_import(import_id: str):
    caller = principal(router)
    return {"data": imports.restart_import(caller.tenant, import_id, language(router)).model_dump(mode="json")}


@router.post(
    "/imports/<import_id>/revert",
    **operation(
        "Revert an import",
        tag="Imports",
        role="editor",
        answers={200: Data[Import]},
        errors=[
            IMPORT_NOT_FOUND,
            Conflict("ALREADY_REVERTED", import_id="01M8C9BVB8MA4PQ3011DQJGH53", state="reverted"),
            Conflict("NOTHING_TO_REVERT", import_id="01M8C9BVB8MA4PQ3011DQJGH53"),
            Conflict(
                "REVERT_EXPIRED", import_id="01M8C9BVB8MA4PQ3011DQJGH53", days=90, created_at="2026-08-01T09:00:00Z"
            ),
            Conflict("IMPORT_RUNNING", import_id="01M8C9BVB8MA4PQ3011DQJGH53", state="importing"),
            Conflict("IMPORT_STILL_STOPPING", import_id="01M8C9BVB8MA4PQ3011DQJGH53"),
        ],
        description="Undoes a finished import, as a run that waits for its table (status reverting, then "
        "reverted): records it created are deleted, records it updated get their values back, unique keys "
        "follow; a record changed since the import is left as it is and listed under revert.skipped. A "
        "failed or cancelled revert goes on where it stopped when asked again.",
    ),
)
def revert_import(import_id: str):
    caller = principal(router)
    return {"data": imports.revert_import(caller.tenant, import_id, language(router)).model_dump(mode="json")}


_UPLOAD_STATE_ERRORS = [
    IMPORT_NOT_FOUND,
    Conflict("NOT_MULTIPART", import_id="01M8C9BVB8MA4PQ3011DQJGH53"),
    Conflict("UPLOAD_CLOSED", import_id="01M8C9BVB8MA4PQ3011DQJGH53", state="queued"),
    Conflict("UPLOAD_EXPIRED", expired_at="2026-12-01T09:00:00Z"),
]


@router.post(
    "/imports/<import_id>/upload/parts",
    **operation(
        "Part upload URLs",
        tag="Imports",
        role="editor",
        body=True,
        answers={200: Data[list[PartUrl]]},
        errors=[
            *_UPLOAD_STATE_ERRORS,
            InvalidInput("PART_NUMBERS_REQUIRED"),
            InvalidInput("TOO_MANY_PART_NUMBERS", count=101, max_count=multipart.MAX_NUMBERS),
            InvalidInput("PART_NUMBER_OUT_OF_RANGE", number=9, part_count=8),
        ],
        description="Presigned PUT URLs (1 hour) of a multipart upload's parts, at most 100 a call: PUT each "
        "part's bytes (part_size, the last part the rest) to its URL and keep the ETag it answers.",
    ),
)
def part_urls(import_id: str, body: Annotated[PartNumbers, examples.PART_NUMBERS]):
    caller = principal(router)
    urls = multipart.part_urls(caller.tenant, import_id, body.numbers)
    return {"data": [url.model_dump(mode="json") for url in urls]}


@router.get(
    "/imports/<import_id>/upload",
    **operation(
        "A multipart upload's parts",
        tag="Imports",
        role="viewer",
        answers={200: Data[UploadState]},
        errors=_UPLOAD_STATE_ERRORS,
        description="The upload's plan and the parts S3 holds (number, size, ETag): a client resuming an "
        "interrupted upload sends only the parts missing or different.",
    ),
)
def upload_state(import_id: str):
    caller = principal(router)
    return {"data": multipart.upload_state(caller.tenant, import_id).model_dump(mode="json")}


@router.post(
    "/imports/<import_id>/upload/complete",
    **operation(
        "Complete a multipart upload",
        tag="Imports",
        role="editor",
        body=True,
        answers={200: Data[Import]},
        errors=[
            *_UPLOAD_STATE_ERRORS,
            InvalidInput("PART_NUMBER_OUT_OF_RANGE", number=9, part_count=8),
            InvalidInput("DUPLICATE_PART_NUMBER", number=2),
            InvalidInput("PARTS_MISSING", numbers="3, 4", part_count=8),
            InvalidInput("PARTS_NOT_UPLOADED", numbers="3"),
            InvalidInput("PART_ETAG_MISMATCH", number=2, etag="0f3a", held="b543"),
            InvalidInput("PART_SIZE_WRONG", number=2, size=10, expected=5_242_880),
            InvalidInput("PARTS_REFUSED", reason="InvalidPart"),
        ],
        description="Every part's number and ETag: the parts are joined into the file and the import starts "
        "(as when a POST upload lands).",
    ),
)
def complete_upload(import_id: str, body: Annotated[CompleteUpload, examples.COMPLETE_UPLOAD]):
    caller = principal(router)
    return {"data": imports.complete_upload(caller.tenant, import_id, body, language(router)).model_dump(mode="json")}
