"""State machine step (inside the Map): validate and write one chunk of rows."""

import gc

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from bulkimport.pipeline import process_chunk

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# What the init phase imported lives as long as the worker: take it out of the cyclic collector's
# full scans, which the many short-lived objects of a file's rows would otherwise repeat often.
gc.freeze()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    logger.append_keys(import_id=event["import_id"], tenant=event["tenant"], chunk=event["chunk"]["index"])
    summary = process_chunk(event["tenant"], event["import_id"], event["chunk"], event.get("pass", "write"))
    metrics.add_metric(name="RowsWritten", unit=MetricUnit.Count, value=summary.get("success", 0))
    metrics.add_metric(name="RowsFailed", unit=MetricUnit.Count, value=summary.get("fail", 0))
    return summary
