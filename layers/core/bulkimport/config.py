"""Settings read once from the environment (set by template.yaml, or by the local stack)."""

import os
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    control_table: str = Field(default="bulkimport-control", alias="CONTROL_TABLE")
    records_table: str = Field(default="bulkimport-records", alias="RECORDS_TABLE")
    bucket: str = Field(default="bulkimport-data", alias="BUCKET")
    state_machine_arn: str = Field(default="", alias="STATE_MACHINE_ARN")
    schedule_group: str = Field(default="default", alias="SCHEDULE_GROUP")
    scheduler_role_arn: str = Field(default="", alias="SCHEDULER_ROLE_ARN")
    scheduled_run_function_arn: str = Field(default="", alias="SCHEDULED_RUN_FUNCTION_ARN")
    jobs_state_machine_arn: str = Field(default="", alias="JOBS_STATE_MACHINE_ARN")
    # Record ids per page of a batch_update / batch_delete: one worker and one counted step each.
    job_page_records: int = Field(default=1000, alias="JOB_PAGE_RECORDS")
    # How long an export's download URL works (made anew at each GET of the job).
    export_url_ttl_seconds: int = Field(default=3600, alias="EXPORT_URL_TTL_SECONDS")
    # Synchronous batch-create calls allowed per tenant and second (API.md).
    batch_create_per_second: int = Field(default=10, alias="BATCH_CREATE_PER_SECOND")
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME")
    # A chunk ends at whichever limit comes first; together they bound a worker's memory (at 2 MB
    # of wide rows a chunk worker peaks near 61 MB, at 4 MB near 66: bench/memory.py).
    chunk_rows: int = Field(default=5000, alias="CHUNK_ROWS")
    chunk_bytes: int = Field(default=2 * 1024 * 1024, alias="CHUNK_BYTES")
    # Direct multipart uploads must fit a synchronous Lambda payload (6 MB, base64 adds a third).
    direct_upload_max_bytes: int = Field(default=4 * 1024 * 1024, alias="DIRECT_UPLOAD_MAX_BYTES")
    upload_max_bytes: int = Field(default=100 * 1024 * 1024, alias="UPLOAD_MAX_BYTES")
    # A compressed upload (gzip, XLSX) may expand this far, and by at most this ratio past 1 MB:
    # real files stay far below both, zip bombs do not.
    max_uncompressed_bytes: int = Field(default=1024 * 1024 * 1024, alias="MAX_UNCOMPRESSED_BYTES")
    max_compression_ratio: int = Field(default=200, alias="MAX_COMPRESSION_RATIO")
    # How often a run waiting for its table (another import or job of it runs) looks again.
    queue_poll_seconds: int = Field(default=10, alias="QUEUE_POLL_SECONDS")
    upload_url_ttl_seconds: int = Field(default=3600, alias="UPLOAD_URL_TTL_SECONDS")

    model_config = {"populate_by_name": True}


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
