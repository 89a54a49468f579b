"""The jobs state machine's steps: wait for the table ("take_table"), fix the records the job acts on
("prepare"), update or delete one page of them ("process_page"), stream an export ("export"), and
settle the job ("finalize", also after a caught error)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from bulkimport.jobs import exports, steps
from bulkimport.jobs.kind import JOB_RUN
from bulkimport.runs import lifecycle

logger = Logger()
tracer = Tracer()
metrics = Metrics()

STEPS = {
    "take_table": lambda e: lifecycle.take_table(JOB_RUN, e["tenant"], e["job_id"], e["ticket"], e["execution_arn"]),
    "prepare": lambda e: steps.prepare(e["tenant"], e["job_id"]),
    "process_page": lambda e: steps.process_page(e["tenant"], e["job_id"], e["page"]),
    "export": lambda e: exports.export(e["tenant"], e["job_id"]),
    "finalize": lambda e: lifecycle.finalize(JOB_RUN, e["tenant"], e["job_id"], e.get("error"), e.get("ticket"), e.get("execution_arn")),
}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    logger.append_keys(job_id=event["job_id"], tenant=event["tenant"], step=event["step"])
    return STEPS[event["step"]](event)
