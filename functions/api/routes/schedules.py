from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from web import principal

from bulkimport.schedules import service as schedules
from bulkimport.schedules.models import ScheduleCreate

router = APIGatewayRouter()


@router.post("/schedules")
def create_schedule(body: ScheduleCreate):
    """A recurring import: cron(...), rate(...) or at(...) in a time zone; each firing imports the new
    files under the schedule's source folder (its source_uri)."""
    caller = principal(router, "admin")
    return {"data": schedules.create_schedule(caller.tenant, body).model_dump(mode="json")}, 201


@router.get("/schedules")
def list_schedules(
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return schedules.list_schedules(caller.tenant, per_page, cursor).model_dump(mode="json")


@router.get("/schedules/<schedule_id>")
def get_schedule(schedule_id: str):
    caller = principal(router)
    return {"data": schedules.get_schedule(caller.tenant, schedule_id).model_dump(mode="json")}


@router.delete("/schedules/<schedule_id>")
def delete_schedule(schedule_id: str):
    caller = principal(router, "admin")
    schedules.delete_schedule(caller.tenant, schedule_id)
    return None, 204
