from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from web import language, principal

from bulkimport.records import queries as records
from bulkimport.records.batch_create import BatchCreate, batch_create

router = APIGatewayRouter()


@router.get("/tables/<table>/records")
def list_records(
    table: str,
    parent_id: Annotated[str | None, Query()] = None,
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    params = router.current_event.query_string_parameters or {}
    filters = {name.removeprefix("filter."): value for name, value in params.items() if name.startswith("filter.")}
    return records.list_records(caller.tenant, table, filters, parent_id, per_page, cursor).model_dump(mode="json")


@router.get("/tables/<table>/records/<record_id>")
def get_record(table: str, record_id: str):
    caller = principal(router)
    return {"data": records.get_record(caller.tenant, table, record_id)}


@router.post("/tables/<table>/records/batch-create")
def create_records(table: str, body: BatchCreate):
    """1 to 100 records at once; resending the same transaction_id creates only what is missing."""
    caller = principal(router, "editor")
    return batch_create(caller, table, body, language(router))
