"""On a schedule: settle the runs whose execution died without settling them (status failed with
INTERRUPTED, table freed, event sent), so that no import stays `parsing`/`importing` forever; and
start the imports whose file landed but whose upload event was lost, or fail UPLOAD_EXPIRED those
whose file never came, so that none stays `waiting_upload` forever."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from bulkimport import config
from bulkimport.imports.service import sweep_awaited_uploads
from bulkimport.run_kinds import KINDS
from bulkimport.runs.lifecycle import sweep


class Settings(config.Tables, config.Events, config.Storage, config.ImportMachine, config.RunQueue):
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
    uploads = sweep_awaited_uploads()
    if uploads["started"] or uploads["expired"]:
        logger.warning("imports waiting for their upload started or expired", extra=uploads)
    metrics.add_metric(name="LostUploadEvents", unit=MetricUnit.Count, value=len(uploads["started"]))
    metrics.add_metric(name="ExpiredUploads", unit=MetricUnit.Count, value=len(uploads["expired"]))
    return {"settled": settled, "uploads_started": uploads["started"], "uploads_expired": uploads["expired"]}
