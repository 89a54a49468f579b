"""Jobs state ProcessPage (inside the ProcessPages Map): update or delete one page of a job's records,
counted once."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from bulkimport import config
from bulkimport.jobs.models import PageTask
from bulkimport.jobs.steps import process_page


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
    task = PageTask.model_validate(event)  # as ProcessChunk parses its own (functions/process_chunk)
    logger.append_keys(job_id=task.run_id, tenant=task.tenant, page=task.page.index)
    if task.attempt:  # Step Functions' retry count of this page's task ($$.State.RetryCount)
        metrics.add_metric(name="PagesRetried", unit=MetricUnit.Count, value=1)
    return process_page(task.tenant, task.run_id, task.page)
