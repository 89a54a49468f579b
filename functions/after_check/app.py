"""Import state AfterCheck, between an atomic import's passes: write only if no row failed the check."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from bulkimport import config
from bulkimport.imports.steps import after_check


class Settings(config.Tables):
    pass


settings = config.load(Settings)  # cold start: a missing setting fails here, naming it

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    logger.append_keys(import_id=event["run_id"], tenant=event["tenant"])
    return after_check(event["tenant"], event["run_id"])
