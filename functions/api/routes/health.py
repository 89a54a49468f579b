from typing import Literal

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from contract import operation
from pydantic import BaseModel

router = APIGatewayRouter()


class Health(BaseModel):
    """The API answers."""

    status: Literal["ok"]


@router.get("/health", **operation("Is the API up?", tag="Health", role=None, answers={200: Health}))
def health():
    """Needs no key: tells a load balancer or a person that the API answers."""
    return {"status": "ok"}
