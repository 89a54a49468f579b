import base64
import io
from typing import Annotated

import multipart
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ValidationError
from web import JSON, language, parse_json, principal

from bulkimport.config import Uploads, section
from bulkimport.errors import InvalidInput, MalformedRequest, TooLarge, UnsupportedMediaType, validation_failed
from bulkimport.imports import reports
from bulkimport.imports import service as imports
from bulkimport.imports.models import ImportCreate

router = APIGatewayRouter()

_FORM_FIELDS = set(ImportCreate.model_fields)


@router.post("/imports")
def create_import():
    """JSON creates an import and returns an upload ticket; multipart/form-data carries a small file too."""
    caller = principal(router, "editor")
    event = router.current_event
    content_type = (event.headers.get("content-type") or event.headers.get("Content-Type") or "").strip()
    media_type, options = multipart.parse_options_header(content_type)
    # Not event.decoded_body: it decodes to text, and an uploaded file is bytes in any encoding.
    raw = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
    file_body = None
    if media_type == "multipart/form-data":
        fields, file_body = _read_form(raw, options.get("boundary", ""))
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


def _read_form(raw: bytes, boundary: str) -> tuple[dict, bytes]:
    limit = section(Uploads).direct_upload_max_bytes
    fields: dict = {}
    file_body = None
    try:
        for part in multipart.MultipartParser(
            io.BytesIO(raw), boundary, len(raw), memory_limit=limit * 2, spool_limit=limit * 2
        ):
            if part.name == "file":
                file_body = part.raw
                fields.setdefault("file_name", part.filename)
            elif part.name in _FORM_FIELDS:
                fields[part.name] = part.value
    except multipart.MultipartError as error:
        raise MalformedRequest("MALFORMED_REQUEST", reason=str(error)) from None
    if file_body is None:
        raise InvalidInput("FILE_REQUIRED")
    if len(file_body) > limit:
        raise TooLarge(
            "PAYLOAD_TOO_LARGE",
            size=len(file_body),
            max_bytes=limit,
            upload_max_bytes=section(Uploads).upload_max_bytes,
        )
    for flag in ("dry_run", "atomic", "has_header"):
        if flag in fields:
            fields[flag] = fields[flag].strip().lower() in ("1", "true", "yes", "on")
    return fields, file_body


@router.get("/imports")
def list_imports(
    status: Annotated[str | None, Query()] = None,
    recipe_id: Annotated[str | None, Query()] = None,
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    page = imports.list_imports(caller.tenant, status, recipe_id, per_page, cursor, language(router))
    return page.model_dump(mode="json")


@router.get("/imports/results")
def import_results(ids: Annotated[str, Query(min_length=1)]):
    """Several imports' progress and grouped failures at once: ?ids=a,b (at most 50)."""
    caller = principal(router)
    wanted = [i.strip() for i in ids.split(",") if i.strip()]
    if not wanted or len(wanted) > 50:
        raise InvalidInput("VALIDATION_ERROR", details=[{"loc": ["query", "ids"], "msg": "1 to 50 ids"}])
    return {"data": reports.import_results(caller.tenant, wanted, language(router))}


@router.get("/imports/<import_id>")
def get_import(import_id: str):
    caller = principal(router)
    return {"data": imports.get_import(caller.tenant, import_id, language(router)).model_dump(mode="json")}


@router.get("/imports/<import_id>/failures")
def list_failures(
    import_id: str,
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return reports.list_failures(caller.tenant, import_id, per_page, cursor, language(router)).model_dump(mode="json")


@router.get("/imports/<import_id>/failures.csv")
def failures_csv(import_id: str):
    """The failing rows as CSV to fix and upload again: a redirect to a short-lived download URL."""
    caller = principal(router)
    url = reports.failures_csv_url(caller.tenant, import_id, language(router))
    return Response(status_code=303, headers={"Location": url}, content_type="text/plain", body=url)


@router.post("/imports/<import_id>/cancel")
def cancel_import(import_id: str):
    """Stop an import: one not started just ends; a running one starts no more chunks, and the chunks
    under way finish and are counted (success_count says how many rows were written)."""
    caller = principal(router, "editor")
    return {"data": imports.cancel_import(caller.tenant, import_id, language(router)).model_dump(mode="json")}


@router.post("/imports/<import_id>/restart")
def restart_import(import_id: str):
    """Run a failed or cancelled import again from its first unfinished chunk; nothing is written twice."""
    caller = principal(router, "editor")
    return {"data": imports.restart_import(caller.tenant, import_id, language(router)).model_dump(mode="json")}
