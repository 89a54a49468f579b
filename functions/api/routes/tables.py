from typing import Annotated

import request_examples as examples
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from contract import Data, link, operation
from web import principal

from bulkimport.errors import Conflict, InvalidInput, NotFound
from bulkimport.paging import Page
from bulkimport.schema import tables
from bulkimport.schema.models import Table, TableCreate, TablePatch

router = APIGatewayRouter()

TABLE_NOT_FOUND = NotFound("TABLE_NOT_FOUND", table="contacts")


@router.post(
    "/tables",
    **operation(
        "Create a table",
        tag="Tables",
        role="admin",
        body=True,
        answers={201: Data[Table]},
        links={
            "GetTable": link("GET", "/tables/{table}", table="$response.body#/data/key"),
            "PatchTable": link("PATCH", "/tables/{table}", table="$response.body#/data/key"),
            "DeleteTable": link("DELETE", "/tables/{table}", table="$response.body#/data/key"),
            "ListRecords": link("GET", "/tables/{table}/records", table="$response.body#/data/key"),
            "CreateRecords": link("POST", "/tables/{table}/records/batch-create", table="$response.body#/data/key"),
        },
        errors=[
            Conflict("TABLE_EXISTS", table="contacts"),
            InvalidInput("PARENT_TABLE_NOT_FOUND", table="customers"),
            InvalidInput("RESERVED_FIELD_KEY", field="parent_id"),
        ],
        description="A typed schema: 1 to 500 field specs; `parent` makes it a child table of another.",
    ),
)
def create_table(body: Annotated[TableCreate, examples.TABLE]):
    caller = principal(router)
    return {"data": tables.create_table(caller.tenant, body).model_dump(mode="json")}, 201


@router.get("/tables", **operation("List tables", tag="Tables", role="viewer", paged=True, answers={200: Page[Table]}))
def list_tables(
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return tables.list_tables(caller.tenant, per_page, cursor).model_dump(mode="json")


@router.get(
    "/tables/<table>",
    **operation("Get a table", tag="Tables", role="viewer", answers={200: Data[Table]}, errors=[TABLE_NOT_FOUND]),
)
def get_table(table: str):
    caller = principal(router)
    return {"data": tables.get_table(caller.tenant, table).model_dump(mode="json")}


@router.patch(
    "/tables/<table>",
    **operation(
        "Change a table",
        tag="Tables",
        role="admin",
        body=True,
        answers={200: Data[Table]},
        errors=[
            TABLE_NOT_FOUND,
            Conflict("UNIQUE_NEEDS_EMPTY_TABLE", field="membership_no", table="contacts"),
            Conflict("KEY_FIELD_NEEDS_EMPTY_TABLE", field="membership_no", table="contacts"),
            InvalidInput("RESERVED_FIELD_KEY", field="parent_id"),
        ],
        description="Attributes left out stay as they are; `name` and `description` may be cleared with null.",
    ),
)
def patch_table(table: str, body: Annotated[TablePatch, examples.TABLE_PATCH]):
    caller = principal(router)
    return {"data": tables.patch_table(caller.tenant, table, body).model_dump(mode="json")}


@router.delete(
    "/tables/<table>",
    **operation(
        "Delete a table",
        tag="Tables",
        role="admin",
        answers={204: None},
        errors=[
            TABLE_NOT_FOUND,
            Conflict("TABLE_NOT_EMPTY", table="contacts", count=3),
            Conflict("TABLE_IN_USE", table="contacts", count=1),
        ],
        description="Only an empty table that no recipe, schedule or child table uses.",
    ),
)
def delete_table(table: str):
    caller = principal(router)
    tables.delete_table(caller.tenant, table)
    return None, 204
