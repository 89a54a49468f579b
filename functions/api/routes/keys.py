from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from contract import Data, operation
from pydantic import BaseModel
from web import principal

from bulkimport.access import keys
from bulkimport.access.keys import ApiKey, KeyCreate, NewApiKey
from bulkimport.errors import Conflict, NotFound
from bulkimport.paging import Page

router = APIGatewayRouter()


class Caller(BaseModel):
    """Who the key is: what a client (the web console) shows after signing in."""

    tenant: str
    role: str
    key_id: str


@router.get(
    "/me",
    **operation(
        "Who am I",
        tag="Keys",
        role="viewer",
        answers={200: Data[Caller]},
        description="The tenant, role and key id of the key that calls: any valid key may ask.",
    ),
)
def me():
    caller = principal(router)
    return {"data": Caller(tenant=caller.tenant, role=caller.role, key_id=caller.key_id).model_dump(mode="json")}


@router.post(
    "/keys",
    **operation(
        "Create an API key",
        tag="Keys",
        role="admin",
        body=True,
        answers={201: Data[NewApiKey]},
        description="A new key of the caller's tenant. Its secret (`key`) is in this answer only: it is stored "
        "as a hash.",
    ),
)
def create_key(body: KeyCreate):
    caller = principal(router)
    return {"data": keys.issue_key(caller.tenant, body.role, name=body.name).model_dump(mode="json")}, 201


@router.get(
    "/keys",
    **operation(
        "List API keys",
        tag="Keys",
        role="admin",
        paged=True,
        answers={200: Page[ApiKey]},
        description="The tenant's keys, newest first, revoked ones included (never their secrets).",
    ),
)
def list_keys(
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return keys.list_keys(caller.tenant, per_page, cursor).model_dump(mode="json")


@router.delete(
    "/keys/<key_id>",
    **operation(
        "Revoke an API key",
        tag="Keys",
        role="admin",
        answers={204: None},
        errors=[NotFound("KEY_NOT_FOUND", key_id="01M8C9BBEVQZ84K3F94Z1JN36C"), Conflict("LAST_ADMIN_KEY")],
        description="Requests with the key answer 401 within the authorizer's cache period (60 s). The tenant's "
        "last active admin key cannot be revoked.",
    ),
)
def revoke_key(key_id: str):
    caller = principal(router)
    keys.revoke_key(caller.tenant, key_id)
    return None, 204
