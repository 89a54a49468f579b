"""State machine steps that settle an import: after an atomic import's check pass (step
"after_check"), and at the end, also after a caught error (the final status and its event, and the
table freed for the next run)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from bulkimport.imports.kind import IMPORT_RUN
from bulkimport.imports.steps import after_check
from bulkimport.runs.lifecycle import finalize

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    logger.append_keys(import_id=event["import_id"], tenant=event["tenant"])
    if event.get("step") == "after_check":
        return after_check(event["tenant"], event["import_id"])
    return finalize(IMPORT_RUN, event["tenant"], event["import_id"], event.get("error"), event.get("ticket"), event.get("execution_arn"))
