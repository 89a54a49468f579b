"""Shared state Finalize (both state machines), also after a caught error: settle the run (its kind's
own end: an import's final status, a job's code; its event), free its table for the next run and
unregister it."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from bulkimport import config
from bulkimport.run_kinds import KINDS
from bulkimport.runs.lifecycle import finalize


class Settings(config.Tables, config.Events):
    pass


settings = config.load(Settings)  # cold start: a missing setting fails here, naming it

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    logger.append_keys(kind=event["kind"], run_id=event["run_id"], tenant=event["tenant"])
    settled = finalize(
        KINDS[event["kind"]],
        event["tenant"],
        event["run_id"],
        event.get("error"),
        event.get("ticket"),
        event.get("execution_arn"),
    )
    if settled["seconds"] is not None:  # ImportDuration / JobDuration: from reading the file to settled
        metrics.add_metric(
            name=f"{event['kind'].capitalize()}Duration", unit=MetricUnit.Seconds, value=settled["seconds"]
        )
    return settled
