"""API keys: each belongs to one tenant and carries one role.

A key is two items written together: its lookup item under the hash of its secret (all the authorizer
reads) and its entry in the tenant's partition (what `GET /v1/keys` lists, `last_used_at`, and the
hash that leads to the lookup item). A per-tenant counter of active admin keys, changed in the same
transactions, lets a revoke refuse to take the last one away even when two revokes race.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import Attr, ControlStore, item_absent, item_exists
from bulkimport.errors import Conflict, Forbidden, NotFound
from bulkimport.ids import new_id, now_iso
from bulkimport.paging import Page

ROLE_RANK = {"viewer": 0, "editor": 1, "admin": 2}
Role = Literal["viewer", "editor", "admin"]
_LOOKUP_SK = "APIKEY"


@dataclass(frozen=True)
class Principal:
    tenant: str
    role: str
    key_id: str

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # as every request model (schema.models.REQUEST)
    name: str | None = Field(default=None, max_length=200)
    role: Role


class ApiKey(BaseModel):
    """A key as `GET /v1/keys` shows it: never its secret."""

    model_config = ConfigDict(extra="ignore")
    id: str
    name: str | None = None
    role: Role
    created_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None


class NewApiKey(ApiKey):
    """A key just created: `key` is its secret, shown this once."""

    key: str


class StoredKey(BaseModel):
    """A key's entry in its tenant's partition."""

    key_id: str
    key_hash: str  # of its secret: the lookup item's partition
    name: str | None = None
    role: Role
    created_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None

    def shown(self) -> ApiKey:
        return ApiKey.model_validate({**self.model_dump(), "id": self.key_id})


class KeyLookup(BaseModel):
    """A key's lookup item, under the hash of its secret: all the authorizer reads."""

    tenant: str
    role: Role
    key_id: str
    name: str | None = None
    created_at: str
    revoked_at: str | None = None
    disabled: bool = False  # an operator's switch


def require(principal: Principal, role: str) -> None:
    if ROLE_RANK.get(principal.role, -1) < ROLE_RANK[role]:
        raise Forbidden("FORBIDDEN", role=principal.role, needed=role)


def issue_key(
    tenant: str, role: str, name: str | None = None, api_key: str | None = None, store: ControlStore | None = None
) -> NewApiKey:
    """Store a key (only the hash of its secret) and return it with its secret: the only time the
    secret is seen. `store`: the control table to write to (an operator's tool names it)."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role}")
    store = store or ControlStore()
    api_key = api_key or f"bik_{secrets.token_urlsafe(32)}"
    key_hash = keys.hash_api_key(api_key)
    key = NewApiKey(id=new_id(), name=name, role=role, created_at=now_iso(), key=api_key)  # type: ignore[arg-type]
    lookup = KeyLookup(tenant=tenant, role=key.role, key_id=key.id, name=name, created_at=key.created_at)
    entry = StoredKey(key_id=key.id, key_hash=key_hash, name=name, role=key.role, created_at=key.created_at)
    writes = [
        store.update_request(
            keys.api_key_pk(key_hash), _LOOKUP_SK, lookup.model_dump(exclude_unset=True), condition=item_absent()
        ),
        store.update_request(
            keys.tenant_pk(tenant),
            keys.api_key_sk(key.id),
            entry.model_dump(exclude_unset=True, exclude_none=True),
            condition=item_absent(),
        ),
    ]
    if role == "admin":
        writes.append(store.update_request(keys.tenant_pk(tenant), keys.API_KEY_COUNTER_SK, add_values={"admins": 1}))
    if not store.transact(writes):
        raise Conflict("KEY_EXISTS")  # a secret chosen by the caller (the local stack's) is taken
    return key


def create_api_key(tenant: str, role: str, name: str | None = None, api_key: str | None = None) -> str:
    """Store a key and return its secret (what tests, benchmarks and the local stack need)."""
    return issue_key(tenant, role, name=name, api_key=api_key).key


def list_keys(tenant: str, per_page: int, cursor: str | None) -> Page:
    store = ControlStore()
    pk = keys.tenant_pk(tenant)
    items, next_cursor = store.query(pk, keys.API_KEY_PREFIX, limit=per_page, cursor=cursor, newest_first=True)
    data = [StoredKey.model_validate(item).shown().model_dump(mode="json") for item in items]
    return Page.of(data, per_page, next_cursor, store.count(pk, keys.API_KEY_PREFIX))


def _stored(store: ControlStore, pk: str, sk: str) -> StoredKey | None:
    item = store.get(pk, sk)
    return StoredKey.model_validate(item) if item else None


def revoke_key(tenant: str, key_id: str) -> ApiKey:
    """Revoke a key of the tenant: the authorizer refuses it from now on (API Gateway's cache of its
    answers may accept it until that answer expires). Revoking a revoked key changes nothing."""
    store = ControlStore()
    pk, sk = keys.tenant_pk(tenant), keys.api_key_sk(key_id)
    key = _stored(store, pk, sk)
    if key is None:
        raise NotFound("KEY_NOT_FOUND", key_id=key_id)
    if key.revoked_at:
        return key.shown()
    stamp = now_iso()
    writes = [
        store.update_request(pk, sk, {"revoked_at": stamp}, condition=Attr("revoked_at").not_exists()),
        store.update_request(keys.api_key_pk(key.key_hash), _LOOKUP_SK, {"revoked_at": stamp}, condition=item_exists()),
    ]
    if key.role == "admin":
        writes.append(
            store.update_request(pk, keys.API_KEY_COUNTER_SK, add_values={"admins": -1}, condition=Attr("admins").gt(1))
        )
    if not store.transact(writes):
        current = _stored(store, pk, sk) or key
        if current.revoked_at:
            return current.shown()  # revoked meanwhile by another request
        raise Conflict("LAST_ADMIN_KEY")
    return key.model_copy(update={"revoked_at": stamp}).shown()


def authenticate(api_key: str | None) -> Principal | None:
    if not api_key:
        return None
    store = ControlStore()
    item = store.get(keys.api_key_pk(keys.hash_api_key(api_key)), _LOOKUP_SK, consistent=False)
    lookup = KeyLookup.model_validate(item) if item else None
    if lookup is None or lookup.disabled or lookup.revoked_at:
        return None
    # API Gateway caches the authorizer's answer, so this runs about once per key per cache period:
    # last_used_at is that precise.
    store.update(
        keys.tenant_pk(lookup.tenant),
        keys.api_key_sk(lookup.key_id),
        set_values={"last_used_at": now_iso()},
        condition=item_exists(),
    )
    return Principal(tenant=lookup.tenant, role=lookup.role, key_id=lookup.key_id)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
