from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from web import principal

from bulkimport.schema import tables
from bulkimport.schema.models import TableCreate, TablePatch

router = APIGatewayRouter()


@router.post("/tables")
def create_table(body: TableCreate):
    caller = principal(router, "admin")
    return {"data": tables.create_table(caller.tenant, body).model_dump(mode="json")}, 201


@router.get("/tables")
def list_tables(
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return tables.list_tables(caller.tenant, per_page, cursor).model_dump(mode="json")


@router.get("/tables/<table>")
def get_table(table: str):
    caller = principal(router)
    return {"data": tables.get_table(caller.tenant, table).model_dump(mode="json")}


@router.patch("/tables/<table>")
def patch_table(table: str, body: TablePatch):
    caller = principal(router, "admin")
    return {"data": tables.patch_table(caller.tenant, table, body).model_dump(mode="json")}


@router.delete("/tables/<table>")
def delete_table(table: str):
    caller = principal(router, "admin")
    tables.delete_table(caller.tenant, table)
    return None, 204
