"""Shared state TakeTable (both state machines): whether the run may go on now, must wait for its table
(another run of the table holds it or is ahead in line) or for a run slot of its tenant
(max_concurrent_runs), or is over already."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from bulkimport import config
from bulkimport.access import quotas
from bulkimport.run_kinds import KINDS
from bulkimport.runs.lifecycle import take_table


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
    logger.append_keys(kind=event["kind"], run_id=event["run_id"], tenant=event["tenant"])
    slots = quotas.of(event["tenant"]).max_concurrent_runs
    return take_table(
        KINDS[event["kind"]], event["tenant"], event["run_id"], event["ticket"], event["execution_arn"], slots
    )
