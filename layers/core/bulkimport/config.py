"""Settings, read from the environment that template.yaml gives each function (or the local stack).

Settings come in sections, one model per concern. Each function declares the sections it needs as one
model (`class Settings(Tables, Storage): ...` in its app.py) and validates it with `load` at cold
start, so a function whose template wiring misses a resource name fails at once, naming it. Resource
names have no defaults: a misconfigured function never talks to a table that merely has the usual
name. Tunables default to the template's own parameter defaults (tests/unit/test_config.py holds
them equal). Domain code reads the section it needs with `section(Model)`.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class ConfigError(RuntimeError):
    """The environment lacks a setting, or holds one that is not valid."""


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


# ---------------------------------------------------------------- resources (no defaults)


class Tables(Section):
    control_table: str = Field(alias="CONTROL_TABLE", min_length=1)
    records_table: str = Field(alias="RECORDS_TABLE", min_length=1)


class Storage(Section):
    bucket: str = Field(alias="BUCKET", min_length=1)


class Events(Section):
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)


class ImportMachine(Section):
    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", min_length=1)


class JobsMachine(Section):
    jobs_state_machine_arn: str = Field(alias="JOBS_STATE_MACHINE_ARN", min_length=1)


class Schedules(Section):
    """What a schedule needs to invoke ScheduledRunFunction through EventBridge Scheduler."""

    schedule_group: str = Field(alias="SCHEDULE_GROUP", min_length=1)
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN", min_length=1)
    scheduled_run_function_arn: str = Field(alias="SCHEDULED_RUN_FUNCTION_ARN", min_length=1)
    # Where Scheduler puts a firing it could not deliver after its retries.
    failed_events_queue_arn: str = Field(alias="FAILED_EVENTS_QUEUE_ARN", min_length=1)


class WebhookQueue(Section):
    """Where webhook deliveries wait for their next attempt (the delivery function reads it)."""

    webhook_queue_url: str = Field(alias="WEBHOOK_QUEUE_URL", min_length=1)


# ---------------------------------------------------------------- tunables (the template's defaults)


class RunQueue(Section):
    # How often a run waiting for its table (another import or job of it runs) looks again.
    queue_poll_seconds: int = Field(default=10, alias="QUEUE_POLL_SECONDS", ge=1)


class Chunking(Section):
    # A chunk ends at whichever limit comes first; together they bound a worker's memory, whatever
    # the file's size (bench/memory.py measures a chunk worker's peak at the byte cap).
    chunk_rows: int = Field(default=2000, alias="CHUNK_ROWS", ge=1)
    chunk_bytes: int = Field(default=2 * 1024 * 1024, alias="CHUNK_BYTES", ge=1)
    # A compressed upload (gzip, XLSX) may expand this far, and by at most this ratio past 1 MB:
    # real files stay far below both, zip bombs do not.
    max_uncompressed_bytes: int = Field(default=1024 * 1024 * 1024, alias="MAX_UNCOMPRESSED_BYTES")
    max_compression_ratio: int = Field(default=200, alias="MAX_COMPRESSION_RATIO")


class Uploads(Section):
    # Direct multipart uploads must fit a synchronous Lambda payload (6 MB, base64 adds a third).
    direct_upload_max_bytes: int = Field(default=4 * 1024 * 1024, alias="DIRECT_UPLOAD_MAX_BYTES")
    upload_max_bytes: int = Field(default=100 * 1024 * 1024, alias="UPLOAD_MAX_BYTES")
    upload_url_ttl_seconds: int = Field(default=3600, alias="UPLOAD_URL_TTL_SECONDS")
    # Larger files come in parts (a multipart upload, up to S3's 5 GiB for one upload's object), and
    # may take this long to finish: an upload not completed by then is aborted.
    multipart_max_bytes: int = Field(default=5 * 1024**3, alias="MULTIPART_MAX_BYTES")
    multipart_upload_days: int = Field(default=7, alias="MULTIPART_UPLOAD_DAYS", ge=1)


class JobLimits(Section):
    # Record ids per page of a batch_update / batch_delete: one worker and one counted step each.
    job_page_records: int = Field(default=1000, alias="JOB_PAGE_RECORDS", ge=1)
    # How long an export's download URL works (made anew at each GET of the job).
    export_url_ttl_seconds: int = Field(default=3600, alias="EXPORT_URL_TTL_SECONDS")


class RateLimits(Section):
    # Synchronous batch-create calls allowed per tenant and second (docs/API.md).
    batch_create_per_second: int = Field(default=10, alias="BATCH_CREATE_PER_SECOND", ge=1)


class WebhookDelivery(Section):
    # Seconds before each retry of a failed delivery (docs/API.md: about 27 hours in all); each is at
    # most 12 hours, the longest an SQS message can be hidden for.
    webhook_retry_seconds: str = Field(
        default="5,300,1800,7200,18000,36000,36000", alias="WEBHOOK_RETRY_SECONDS", pattern=r"^\d+(,\d+)*$"
    )
    # A receiver that has not answered 2xx within this many seconds has not taken the delivery.
    webhook_timeout_seconds: int = Field(default=10, alias="WEBHOOK_TIMEOUT_SECONDS", ge=1, le=15)
    # The local stack's receivers run on loopback: "true" lets http://127.0.0.1:<port> through the
    # address rules (never on AWS, where 127.0.0.1 is the Lambda runtime's own API).
    webhook_local_receivers: str = Field(default="false", alias="WEBHOOK_LOCAL_RECEIVERS", pattern="^(true|false)$")

    @field_validator("webhook_retry_seconds")
    @classmethod
    def _hideable(cls, value: str) -> str:
        if any(int(part) > 43200 for part in value.split(",")):
            raise ValueError("each delay is at most 43200 seconds (12 hours)")
        return value

    @property
    def retry_seconds(self) -> list[int]:
        return [int(part) for part in self.webhook_retry_seconds.split(",")]


S = TypeVar("S", bound=Section)


def load(model: type[S]) -> S:
    """Validate a function's settings model against the environment now (at cold start)."""
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as error:
        problems = ", ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"{model.__name__}: {problems}") from None


@cache
def section(model: type[S]) -> S:
    """One section of the settings, read once per process."""
    return load(model)
