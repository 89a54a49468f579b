"""EventBridge 'Object Created' from the bucket: an uploaded file starts its import."""

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

from bulkimport.imports import on_upload_landed

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context):
    obj = event.detail["object"]
    started = on_upload_landed(obj["key"], int(obj.get("size") or 0))
    logger.info("object created", extra={"key": obj["key"], "started_import": started})
    return {"started_import": started}
