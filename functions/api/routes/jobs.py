from typing import Annotated

import request_examples as examples
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from contract import link, operation
from web import language, principal

from bulkimport.errors import InvalidInput, NotFound
from bulkimport.jobs import service as jobs
from bulkimport.jobs.models import JobCreate, JobCreated, JobStatus

router = APIGatewayRouter()


@router.post(
    "/jobs",
    **operation(
        "Start a batch job",
        tag="Jobs",
        role="editor",
        body=True,
        answers={202: JobCreated},
        links={"GetJob": link("GET", "/jobs/{batch_code}", batch_code="$response.body#/data/batch_code")},
        errors=[
            NotFound("TABLE_NOT_FOUND", table="contacts"),
            InvalidInput("INVALID_FILTER"),
            InvalidInput("INVALID_CHANGES"),
        ],
        description="An export, batch_update or batch_delete of a table's records (by ids, or `all` "
        "matching search_options); poll GET /jobs/{batch_code} for its end.",
    ),
)
def create_job(body: Annotated[JobCreate, examples.JOB]):
    caller = principal(router)
    batch_code = jobs.create_job(caller, body)
    return JobCreated(data={"batch_code": batch_code}).model_dump(mode="json"), 202


@router.get(
    "/jobs/<batch_code>",
    **operation(
        "Get a batch job",
        tag="Jobs",
        role="viewer",
        answers={200: JobStatus},
        errors=[NotFound("JOB_NOT_FOUND", batch_code="01M8C9BVB8MA4PQ3011DQJGH53")],
        description="`process` while it runs; at the end its `code` (200, 204, 400, 500), amounts and, "
        "for an export, a fresh download URL.",
    ),
)
def get_job(batch_code: str):
    caller = principal(router)
    return jobs.job_status(caller.tenant, batch_code, language(router)).model_dump(mode="json")
