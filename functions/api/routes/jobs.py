from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from web import language, principal

from bulkimport.jobs import service as jobs
from bulkimport.jobs.models import JobCreate, JobCreated

router = APIGatewayRouter()


@router.post("/jobs")
def create_job(body: JobCreate):
    """Start an export, batch_update or batch_delete; poll GET /jobs/{batch_code} for its end."""
    caller = principal(router, "editor")
    batch_code = jobs.create_job(caller, body)
    return JobCreated(data={"batch_code": batch_code}).model_dump(mode="json"), 202


@router.get("/jobs/<batch_code>")
def get_job(batch_code: str):
    """`process` while it runs; at the end its `code` (200, 204, 400, 500), amounts and, for an
    export, a fresh download URL."""
    caller = principal(router)
    return jobs.job_status(caller.tenant, batch_code, language(router)).model_dump(mode="json")
