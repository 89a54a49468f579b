"""Each invocation of a Powertools REST resolver (the API function's `app`) sees its own request.

Lambda runs one invocation at a time in an execution environment, and Powertools' event handler
relies on it: `resolve()` puts the request in class attributes shared by every resolver and router
(`BaseRouter.current_event`, `BaseRouter.lambda_context`) and its routing state in the resolver's
`context` dict, which it clears when the invocation ends. Here the API function's concurrent
invocations (a browser's parallel requests) share one process and one `app`: a request read another
request's event, or found its routing state cleared by a request that finished first (KeyError
'_route' in the response validation, a 500), or answered with another caller's tenant.

So, as Powertools' own local server does for concurrent requests (HttpResolverLocal), these
attributes read and write a state of the invocation's own, held in a context variable; outside an
invocation (while the module is imported and its routes registered) they are the resolver's.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, BaseRouter
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent


@dataclass
class _Invocation:
    resolver: ApiGatewayResolver
    current_event: BaseProxyEvent
    lambda_context: Any
    context: dict
    processed_stack_frames: list[str] = field(default_factory=list)


_current: ContextVar[_Invocation | None] = ContextVar("devstack_resolver_invocation", default=None)


def _state(resolver: ApiGatewayResolver) -> _Invocation | None:
    current = _current.get()
    return current if current is not None and current.resolver is resolver else None


def _per_invocation(name: str) -> property:
    """The attribute `name`: the invocation's own during a resolve(), else the resolver's (kept in
    its instance dict, where Powertools put it: a property takes precedence over it)."""

    def get(resolver: ApiGatewayResolver) -> Any:
        state = _state(resolver)
        if state is not None:
            return getattr(state, name)
        if name in resolver.__dict__:
            return resolver.__dict__[name]
        return getattr(BaseRouter, name)  # current_event, lambda_context: as Powertools reads them

    def set_(resolver: ApiGatewayResolver, value: Any) -> None:
        state = _state(resolver)
        if state is not None:
            setattr(state, name, value)
        else:
            resolver.__dict__[name] = value

    return property(get, set_)


@cache  # once per process
def install() -> None:
    """Make every Powertools REST/HTTP resolver keep its request per invocation."""
    for name in ("current_event", "lambda_context", "context", "processed_stack_frames"):
        setattr(ApiGatewayResolver, name, _per_invocation(name))
    resolve = ApiGatewayResolver.resolve

    def resolve_own_request(self: ApiGatewayResolver, event: Any, context: Any) -> dict[str, Any]:
        raw = event.raw_event if isinstance(event, BaseProxyEvent) else event
        # The routing context starts as the resolver's own (what was added before any request).
        token = _current.set(
            _Invocation(self, self._to_proxy_event(raw), context, dict(self.__dict__.get("context", {})))
        )
        try:
            # resolve() still sets BaseRouter's shared attributes; the resolver reads its own.
            return resolve(self, event, context)
        finally:
            _current.reset(token)

    ApiGatewayResolver.resolve = resolve_own_request  # type: ignore[method-assign]
