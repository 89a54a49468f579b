"""Import state ProcessChunk (inside the ProcessChunks Map): validate one chunk of rows, and write it
in the write pass; in a revert's pass ("revert"), undo what the chunk wrote."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from bulkimport import config
from bulkimport.imports import revert
from bulkimport.imports.chunks import process_chunk
from bulkimport.imports.models import ChunkTask, RevertChunk
from bulkimport.ingest.gc import tune_gc


class Settings(config.Tables, config.Storage):
    pass


settings = config.load(Settings)  # cold start: a missing setting fails here, naming it

# No Powertools Tracer here: the X-Ray SDK it loads builds a botocore client of its own at import,
# a large part of a chunk worker's memory budget (bench/memory.py measures the worker's peak). The
# function keeps Lambda's active tracing (template.yaml), so each chunk's invocation still shows in
# the import's trace; only subsegments of its DynamoDB and S3 calls are not recorded.
logger = Logger()
metrics = Metrics()

tune_gc()  # after the imports: see bulkimport.ingest.gc


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event, context):
    # Parsed here, by the model itself: Powertools' event_parser would load its models of every AWS
    # event into a worker whose memory is its budget.
    task = ChunkTask.model_validate(event)
    logger.append_keys(import_id=task.run_id, tenant=task.tenant, chunk=task.chunk.index)
    if task.attempt:  # Step Functions' retry count of this chunk's task ($$.State.RetryCount)
        metrics.add_metric(name="ChunksRetried", unit=MetricUnit.Count, value=1)
    if isinstance(task.chunk, RevertChunk):  # the revert pass (ChunkTask)
        return revert.revert_chunk(task.tenant, task.run_id, task.chunk.index)
    summary = process_chunk(task.tenant, task.run_id, task.chunk, task.pass_)
    metrics.add_metric(name="RowsWritten", unit=MetricUnit.Count, value=summary.get("success", 0))
    metrics.add_metric(name="RowsFailed", unit=MetricUnit.Count, value=summary.get("fail", 0))
    return summary
