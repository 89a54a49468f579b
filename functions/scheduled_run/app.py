"""Invoked by EventBridge Scheduler: a scheduled import at its time ({"kind": "import"}), or a firing
of a recurring schedule ({"kind": "schedule"}) that imports the new files under its source folder."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from bulkimport import config
from bulkimport.imports.service import run_scheduled_import
from bulkimport.schedules.service import run_schedule


class Settings(config.Tables, config.Storage, config.ImportMachine, config.RunQueue):
    pass


settings = config.load(Settings)  # cold start: a missing setting fails here, naming it

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    logger.append_keys(tenant=event["tenant"], kind=event["kind"])
    if event["kind"] == "import":
        return {"outcome": run_scheduled_import(event["tenant"], event["import_id"])}
    return {"imports": run_schedule(event["tenant"], event["schedule_id"])}
