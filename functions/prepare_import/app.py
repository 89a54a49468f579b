"""State machine step: scan the uploaded file and plan its chunks."""

import gc

from aws_lambda_powertools import Logger, Metrics, Tracer

from bulkimport.pipeline import prepare

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
    logger.append_keys(import_id=event["import_id"], tenant=event["tenant"])
    return prepare(event["tenant"], event["import_id"])
