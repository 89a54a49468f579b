"""On a schedule: settle the runs whose execution died without settling them (status failed with
INTERRUPTED, table freed, event sent), so that no import stays `parsing`/`importing` forever."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from bulkimport import config
from bulkimport.run_kinds import KINDS
from bulkimport.runs.lifecycle import sweep


class Settings(config.Tables, config.Events):
    pass


settings = config.load(Settings)  # cold start: a missing setting fails here, naming it

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    settled = sweep(KINDS)
    if settled:
        logger.warning("settled runs whose execution died", extra={"runs": settled})
    metrics.add_metric(name="InterruptedRuns", unit=MetricUnit.Count, value=len(settled))
    return {"settled": settled}
