from aws_lambda_powertools.event_handler.router import APIGatewayRouter

router = APIGatewayRouter()


@router.get("/health")
def health():
    """Needs no key: tells a load balancer or a person that the API answers."""
    return {"status": "ok"}
