"""State machine step: settle the import's final status (also after a caught error) and announce it."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from bulkimport.pipeline import finalize

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    logger.append_keys(import_id=event["import_id"], tenant=event["tenant"])
    return finalize(event["tenant"], event["import_id"], event.get("error"))
