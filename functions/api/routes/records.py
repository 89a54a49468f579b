from typing import Annotated

import request_examples as examples
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from contract import Data, link, operation
from pydantic import BaseModel
from web import language, principal

from bulkimport.errors import Conflict, InvalidInput, NotFound, RateLimited
from bulkimport.paging import Page
from bulkimport.records import queries as records
from bulkimport.records.batch_create import BatchCreate, BatchCreated, batch_create

router = APIGatewayRouter()

TABLE_NOT_FOUND = NotFound("TABLE_NOT_FOUND", table="contacts")


@router.get(
    "/tables/<table>/records",
    **operation(
        "List a table's records",
        tag="Records",
        role="viewer",
        paged=True,
        answers={200: Page[records.Record]},
        errors=[TABLE_NOT_FOUND, InvalidInput("INVALID_FILTER")],
        description="Filter with any number of `filter.<field>=<value>` query parameters (equality on a "
        "field, the value read as the field's type, e.g. `filter.level=A&filter.visit_date=2026-01-31`); "
        "`parent_id` lists a child table's records of one parent record. An unknown field or a value "
        "that does not fit answers 422 INVALID_FILTER. `meta.total` counts the records the filters match "
        "on the first page of a filtered list (null on later pages); a filter on a unique field is answered "
        "from its unique index.",
    ),
)
def list_records(
    table: str,
    parent_id: Annotated[str | None, Query()] = None,
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return records.list_records(caller.tenant, table, _filters(), parent_id, per_page, cursor).model_dump(mode="json")


class Count(BaseModel):
    total: int


@router.get(
    "/tables/<table>/records/count",
    **operation(
        "Count a table's records",
        tag="Records",
        role="viewer",
        answers={200: Data[Count]},
        errors=[TABLE_NOT_FOUND, InvalidInput("INVALID_FILTER")],
        description="How many records the `filter.<field>=<value>` query parameters (and `parent_id`) match "
        "now, read as the records list reads them: the `total` a batch job over the same search must give. "
        "Without filters, the table's record_count.",
    ),
)
def count_records(table: str, parent_id: Annotated[str | None, Query()] = None):
    caller = principal(router)
    return {"data": {"total": records.count_records(caller.tenant, table, _filters(), parent_id)}}


def _filters() -> dict[str, str]:
    params = router.current_event.query_string_parameters or {}
    return {name.removeprefix("filter."): value for name, value in params.items() if name.startswith("filter.")}


@router.get(
    "/tables/<table>/records/<record_id>",
    **operation(
        "Get a record",
        tag="Records",
        role="viewer",
        answers={200: Data[records.Record]},
        errors=[
            TABLE_NOT_FOUND,
            NotFound("RECORD_NOT_FOUND", table="contacts", record_id="01M8C9BVB8MA4PQ3011DQJGH5300000000"),
        ],
    ),
)
def get_record(table: str, record_id: str):
    caller = principal(router)
    return {"data": records.get_record(caller.tenant, table, record_id)}


@router.post(
    "/tables/<table>/records/batch-create",
    **operation(
        "Create records in a batch",
        tag="Records",
        role="editor",
        body=True,
        answers={200: BatchCreated},
        links={
            "GetRecord": link(
                "GET",
                "/tables/{table}/records/{record_id}",
                table="$request.path.table",
                record_id="$response.body#/success_ids/0",
            )
        },
        errors=[
            TABLE_NOT_FOUND,
            Conflict("TRANSACTION_MISMATCH", transaction_id="tx-1"),
            RateLimited("RATE_LIMITED", limit=10, retry_after=1),
        ],
        description="1 to 100 records at once, each checked against the table (failures listed per "
        "record); resending the same transaction_id creates only what is missing. At most 10 requests a "
        "second per tenant.",
    ),
)
def create_records(table: str, body: Annotated[BatchCreate, examples.RECORDS]):
    caller = principal(router)
    return batch_create(caller, table, body, language(router))
