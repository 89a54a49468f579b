"""API keys: each belongs to one tenant and carries one role."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import ControlStore
from bulkimport.errors import Forbidden
from bulkimport.ids import new_id, now_iso

ROLE_RANK = {"viewer": 0, "editor": 1, "admin": 2}


@dataclass(frozen=True)
class Principal:
    tenant: str
    role: str
    key_id: str

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"


def require(principal: Principal, role: str) -> None:
    if ROLE_RANK.get(principal.role, -1) < ROLE_RANK[role]:
        raise Forbidden("FORBIDDEN", role=principal.role, needed=role)


def create_api_key(tenant: str, role: str, name: str | None = None, api_key: str | None = None) -> str:
    """Store a key (hashed) and return its secret: the only time the secret is seen."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role}")
    api_key = api_key or f"bik_{secrets.token_urlsafe(32)}"
    key_hash = keys.hash_api_key(api_key)
    ControlStore().put(
        {
            "pk": keys.api_key_pk(key_hash),
            "sk": "APIKEY",
            "tenant": tenant,
            "role": role,
            "key_id": new_id(),
            "name": name,
            "created_at": now_iso(),
        }
    )
    return api_key


def authenticate(api_key: str | None) -> Principal | None:
    if not api_key:
        return None
    item = ControlStore().get(keys.api_key_pk(keys.hash_api_key(api_key)), "APIKEY", consistent=False)
    if not item or item.get("disabled"):
        return None
    return Principal(tenant=item["tenant"], role=item["role"], key_id=item["key_id"])


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
