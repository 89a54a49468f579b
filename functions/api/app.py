"""The public REST API: thin routes over the bulkimport domain package."""

import json

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from contract import DOCUMENT, PAGE, document, operation, swagger_page
from routes import health, imports, jobs, keys, recipes, records, schedules, tables, usage, webhooks
from web import JSON, check_body, error_response, refused

from bulkimport import config
from bulkimport.errors import DomainError, MethodNotAllowed, NotFound, UnsupportedMediaType, validation_failed


class Settings(
    config.Tables,
    config.Storage,
    config.Events,
    config.ImportMachine,
    config.JobsMachine,
    config.Schedules,
    config.RunQueue,
    config.Uploads,
    config.JobLimits,
    config.RateLimits,
    config.WebhookQueue,
    config.WebhookDelivery,
):
    pass


settings = config.load(Settings)  # cold start: a missing setting fails here, naming it

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def _to_json(value) -> str:
    # UTF-8 out, not \u escapes: names like 客戶 stay readable in every client.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


app = APIGatewayRestResolver(enable_validation=True, serializer=_to_json)
for module in (health, tables, recipes, imports, records, schedules, jobs, keys, webhooks, usage):
    app.include_router(module.router)


@app.get(
    "/openapi.json",
    **operation("The OpenAPI document of this API", tag="Health", role=None, answers={200: DOCUMENT}),
)
def openapi():
    return Response(status_code=200, content_type=JSON, body=document(app))


@app.get(
    "/docs",
    **operation(
        "Swagger UI: read and try this API (Authorize takes a key)", tag="Health", role=None, answers={200: PAGE}
    ),
)
def docs():
    return Response(status_code=200, content_type="text/html", body=swagger_page(document(app)))


@app.exception_handler(DomainError)
def handle_domain_error(error: DomainError):
    return error_response(app, error)


@app.exception_handler(RequestValidationError)
def handle_validation_error(error: RequestValidationError):
    return error_response(app, validation_failed(error.errors()))


@app.exception_handler(RequestUnsupportedContentType)
def handle_unsupported_content_type(_error: RequestUnsupportedContentType):
    # A route that needs a JSON body, called without a body but with another Content-Type.
    return error_response(app, UnsupportedMediaType("UNSUPPORTED_MEDIA_TYPE", accepted=JSON))


@app.not_found
def handle_not_found(_error):
    # API Gateway hands every method of every path to this function ({proxy+}, ANY): a path that exists
    # with other methods answers 405 naming them (the resolver only knows "no route").
    # Of the routes whose pattern matches, the most literal ones name the resource: /tables/t/records/
    # batch-create is batch-create (POST), not a record called "batch-create".
    path = app.current_event.path
    matching = [route for route in app._static_routes + app._dynamic_routes if route.rule.match(path)]
    most_literal = max((_literal_segments(route.path) for route in matching), default=0)
    allowed = sorted({route.method for route in matching if _literal_segments(route.path) == most_literal})
    if allowed:
        return error_response(app, MethodNotAllowed("METHOD_NOT_ALLOWED", allowed=", ".join(allowed)))
    return error_response(app, NotFound("NOT_FOUND_ROUTE"))


def _literal_segments(pattern: str) -> int:
    return sum(1 for part in pattern.split("/") if part and not part.startswith("<"))


@app.exception_handler(Exception)
def handle_unexpected(error: Exception):
    logger.exception("unhandled error")
    return error_response(app, DomainError("INTERNAL"), status=500)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    # Before resolution: the resolver's validation would read the body first (a non-JSON type or
    # deeply nested JSON would be a 500, bad JSON a 422).
    try:
        check_body(event)
    except DomainError as error:
        return refused(event, error)
    return app.resolve(event, context)
