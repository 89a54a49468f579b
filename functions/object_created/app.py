"""EventBridge 'Object Created' from the bucket: an uploaded file starts its import; a file dropped
under drop/{tenant}/{recipe_id}/ becomes a new import and starts it."""

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

from bulkimport import config
from bulkimport.adapters.s3 import pin_of
from bulkimport.imports.service import DROP_PREFIX, on_file_dropped, on_upload_landed


class Settings(config.Tables, config.Storage, config.ImportMachine, config.RunQueue):
    pass


settings = config.load(Settings)  # cold start: a missing setting fails here, naming it

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context):
    obj = event.detail["object"]
    key, size = obj["key"], int(obj.get("size") or 0)
    etag = obj.get("etag") or obj.get("eTag")  # S3 spells it "etag" (moto "eTag")
    # The version that landed: the import reads it and nothing uploaded to the key later.
    source = pin_of(obj.get("version-id"), etag) if etag else None
    if key.startswith(DROP_PREFIX):
        outcome = on_file_dropped(key, size, obj.get("sequencer") or etag or "", source)
    else:
        outcome = on_upload_landed(key, size, source)
    logger.info("object created", extra={"key": key, "started_import": outcome.started, "ignored": outcome.ignored})
    return {"started_import": outcome.started, "ignored": outcome.ignored}
