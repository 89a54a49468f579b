from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from web import principal

from bulkimport.access import keys
from bulkimport.access.keys import KeyCreate

router = APIGatewayRouter()


@router.post("/keys")
def create_key(body: KeyCreate):
    """A new API key of the caller's tenant. Its secret (`key`) is in this answer only: it is stored
    as a hash."""
    caller = principal(router, "admin")
    return {"data": keys.issue_key(caller.tenant, body.role, name=body.name).model_dump(mode="json")}, 201


@router.get("/keys")
def list_keys(
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    """The tenant's keys, newest first, revoked ones included (never their secrets)."""
    caller = principal(router, "admin")
    return keys.list_keys(caller.tenant, per_page, cursor).model_dump(mode="json")


@router.delete("/keys/<key_id>")
def revoke_key(key_id: str):
    """Revoke a key: requests with it answer 401 within the authorizer's cache period (60 s). The
    tenant's last active admin key cannot be revoked (409 LAST_ADMIN_KEY)."""
    caller = principal(router, "admin")
    keys.revoke_key(caller.tenant, key_id)
    return None, 204
