from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from contract import Data, operation
from web import principal

from bulkimport.access import quotas
from bulkimport.access.quotas import Usage
from bulkimport.runs.table_queue import tenant_counts

router = APIGatewayRouter()


@router.get(
    "/usage",
    **operation(
        "The tenant's usage and quotas",
        tag="Keys",
        role="viewer",
        answers={200: Data[Usage]},
        description="Runs of the tenant running and queued now, rows imported today (UTC), and its quotas.",
    ),
)
def usage():
    tenant = principal(router).tenant
    running, queued = tenant_counts(tenant)
    answer = Usage(
        runs_running=running, runs_queued=queued, rows_today=quotas.rows_today(tenant), quotas=quotas.of(tenant)
    )
    return {"data": answer.model_dump(mode="json")}
