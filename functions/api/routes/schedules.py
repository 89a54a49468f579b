from typing import Annotated

import request_examples as examples
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from contract import Data, link, operation
from web import principal

from bulkimport.errors import InvalidInput, NotFound
from bulkimport.paging import Page
from bulkimport.schedules import service as schedules
from bulkimport.schedules.models import Schedule, ScheduleCreate

router = APIGatewayRouter()

SCHEDULE_NOT_FOUND = NotFound("SCHEDULE_NOT_FOUND", schedule_id="01M8C9BVB8MA4PQ3011DQJGH53")


@router.post(
    "/schedules",
    **operation(
        "Create a schedule",
        tag="Schedules",
        role="admin",
        body=True,
        answers={201: Data[Schedule]},
        links={
            "GetSchedule": link("GET", "/schedules/{schedule_id}", schedule_id="$response.body#/data/id"),
            "DeleteSchedule": link("DELETE", "/schedules/{schedule_id}", schedule_id="$response.body#/data/id"),
        },
        errors=[
            NotFound("RECIPE_NOT_FOUND", recipe_id="01M8C9BVB8MA4PQ3011DQJGH53"),
            InvalidInput("INVALID_SCHEDULE_EXPRESSION", expression="cron(0 2 * * ? )", reason="cron takes 6 fields"),
            InvalidInput("INVALID_TIMEZONE", timezone="Mars/Olympus"),
        ],
        description="A recurring import: cron(...), rate(...) or at(...) in a time zone; each firing "
        "imports the new files under the schedule's source folder (its source_uri).",
    ),
)
def create_schedule(body: Annotated[ScheduleCreate, examples.SCHEDULE]):
    caller = principal(router)
    return {"data": schedules.create_schedule(caller.tenant, body).model_dump(mode="json")}, 201


@router.get(
    "/schedules",
    **operation("List schedules", tag="Schedules", role="viewer", paged=True, answers={200: Page[Schedule]}),
)
def list_schedules(
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return schedules.list_schedules(caller.tenant, per_page, cursor).model_dump(mode="json")


@router.get(
    "/schedules/<schedule_id>",
    **operation(
        "Get a schedule", tag="Schedules", role="viewer", answers={200: Data[Schedule]}, errors=[SCHEDULE_NOT_FOUND]
    ),
)
def get_schedule(schedule_id: str):
    caller = principal(router)
    return {"data": schedules.get_schedule(caller.tenant, schedule_id).model_dump(mode="json")}


@router.delete(
    "/schedules/<schedule_id>",
    **operation("Delete a schedule", tag="Schedules", role="admin", answers={204: None}, errors=[SCHEDULE_NOT_FOUND]),
)
def delete_schedule(schedule_id: str):
    caller = principal(router)
    schedules.delete_schedule(caller.tenant, schedule_id)
    return None, 204
