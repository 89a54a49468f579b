"""Import state Prepare: scan the uploaded file, check its header and plan its chunks (an atomic
import's first pass is "check"); for a revert of the import (kind "revert"), list the chunks to revert."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from bulkimport import config
from bulkimport.imports import revert
from bulkimport.imports.steps import prepare
from bulkimport.ingest.gc import tune_gc


class Settings(config.Tables, config.Storage, config.Chunking, config.Uploads):
    pass


settings = config.load(Settings)  # cold start: a missing setting fails here, naming it

logger = Logger()
tracer = Tracer()
metrics = Metrics()

tune_gc()  # after the imports: see bulkimport.ingest.gc


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    logger.append_keys(import_id=event["run_id"], tenant=event["tenant"])
    if event.get("kind") == "revert":
        return revert.prepare(event["tenant"], event["run_id"])
    return prepare(event["tenant"], event["run_id"])
