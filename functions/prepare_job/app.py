"""Jobs state Prepare: fix the records the job acts on (pages of ids in S3 for an update or delete),
or settle it at once when there is nothing to do."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from bulkimport import config
from bulkimport.jobs.steps import prepare


class Settings(config.Tables, config.Storage, config.JobLimits):
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
    return prepare(event["tenant"], event["run_id"])
