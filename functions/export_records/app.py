"""Jobs state ExportRecords: stream an export job's records into one CSV or XLSX file in S3."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from bulkimport import config
from bulkimport.jobs.exports import export


class Settings(config.Tables, config.Storage):
    pass


settings = config.load(Settings)  # cold start: a missing setting fails here, naming it

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    logger.append_keys(job_id=event["run_id"], tenant=event["tenant"])
    return export(event["tenant"], event["run_id"])
