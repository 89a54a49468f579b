"""State machine steps before the chunks: wait for the import's table ("take_table"), then scan the
uploaded file and plan its chunks."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from bulkimport.imports.kind import IMPORT_RUN
from bulkimport.imports.steps import prepare
from bulkimport.ingest.gc import tune_gc
from bulkimport.runs.lifecycle import take_table

logger = Logger()
tracer = Tracer()
metrics = Metrics()

tune_gc()  # after the imports: see bulkimport.ingest.gc


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    logger.append_keys(import_id=event["import_id"], tenant=event["tenant"])
    if event.get("step") == "take_table":
        return take_table(IMPORT_RUN, event["tenant"], event["import_id"], event["ticket"], event["execution_arn"])
    return prepare(event["tenant"], event["import_id"])
