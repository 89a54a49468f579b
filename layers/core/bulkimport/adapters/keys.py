"""Every key the service writes, in one place. Each one starts with the tenant it belongs to."""

import hashlib
import zlib

RECORD_SHARDS = 16


# Sort-key prefixes of a tenant's items of each kind (a query by prefix lists them).
TABLE_PREFIX = "TABLE#"
RECIPE_PREFIX = "RECIPE#"
IMPORT_PREFIX = "IMPORT#"
SCHEDULE_PREFIX = "SCHEDULE#"
API_KEY_PREFIX = "KEY#"
# A tenant's count of active admin keys (a revoke keeps it above zero).
API_KEY_COUNTER_SK = "KEYCOUNT"


def tenant_pk(tenant: str) -> str:
    return f"TENANT#{tenant}"


def table_sk(table: str) -> str:
    return f"{TABLE_PREFIX}{table}"


def recipe_sk(recipe_id: str) -> str:
    return f"{RECIPE_PREFIX}{recipe_id}"


def recipe_versions_prefix(recipe_id: str) -> str:
    # Not under RECIPE_PREFIX: listing a tenant's recipes by prefix never reads their versions.
    return f"RECIPEVERSION#{recipe_id}#"


def recipe_version_sk(recipe_id: str, number: int) -> str:
    return f"{recipe_versions_prefix(recipe_id)}{number:08d}"


def import_sk(import_id: str) -> str:
    return f"{IMPORT_PREFIX}{import_id}"


def import_transaction_sk(transaction_id: str) -> str:
    return f"IMPORTTX#{transaction_id}"


def chunk_pk(tenant: str, import_id: str) -> str:
    return f"CHUNKS#{tenant}#{import_id}"


CHUNK_MARKERS = {"write": "CHUNK", "check": "CHECK", "revert": "REVERT"}


def chunk_sk(index: int, pass_: str = "write") -> str:
    """A chunk's done-marker in a pass. An atomic import runs a check pass before its write pass; a
    revert of the import, a revert pass."""
    return f"{CHUNK_MARKERS[pass_]}#{index:06d}"


def chunk_prefix(pass_: str = "write") -> str:
    return chunk_sk(0, pass_).split("#")[0] + "#"


def api_key_pk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def api_key_sk(key_id: str) -> str:
    """A key's entry in its tenant's partition (the lookup item is under the hash of its secret)."""
    return f"{API_KEY_PREFIX}{key_id}"


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def record_shard(record_id: str) -> int:
    # Spread one table's records over several partitions, so a bulk import has no hot key. CRC-32
    # spreads an import's sequential ids evenly and is the cheapest stable hash at hand (it runs
    # for every record written). The records table's item builders inline it (dynamo.records._item_builder).
    return zlib.crc32(record_id.encode()) % RECORD_SHARDS


def record_pk(tenant: str, table: str, shard: int) -> str:
    return f"{tenant}#{table}#{shard:02d}"


def upload_key(tenant: str, import_id: str) -> str:
    return f"uploads/{tenant}/{import_id}/source"


def import_work_prefix(tenant: str, import_id: str) -> str:
    return f"work/{tenant}/{import_id}/"


def manifest_key(tenant: str, import_id: str, turn: int = 1) -> str:
    """The chunk plan; a restarted import's later turns get a manifest of the chunks left."""
    name = "manifest" if turn <= 1 else f"manifest-{turn}"
    return f"{import_work_prefix(tenant, import_id)}{name}.json"


def work_data_key(tenant: str, import_id: str) -> str:
    """The upload as UTF-8 CSV, when it was not that already (XLSX, gzip, another encoding)."""
    return f"{import_work_prefix(tenant, import_id)}data.csv"


def chunk_failures_key(tenant: str, import_id: str, index: int, pass_: str = "write") -> str:
    return f"{import_work_prefix(tenant, import_id)}failures/{pass_}/{index:06d}.jsonl"


def unique_index_pk(tenant: str, table: str, constraint: str, key_digest: str) -> str:
    return f"{tenant}#{table}#U#{constraint}#{key_digest}"


def chunk_duplicates_key(tenant: str, import_id: str, index: int) -> str:
    return f"{import_work_prefix(tenant, import_id)}duplicates/{index:06d}.json"


def chunk_before_images_key(tenant: str, import_id: str, index: int, first_row: int) -> str:
    """The records a part of a chunk (rows from `first_row`) was about to update, as they were: what
    a revert puts back. Written once, by the chunk's first attempt to reach the part."""
    return f"{import_work_prefix(tenant, import_id)}undo/{index:06d}/before-{first_row:08d}.json"


def chunk_written_key(tenant: str, import_id: str, index: int) -> str:
    """The ids of the records a chunk created and of those it updated (what a revert undoes)."""
    return f"{import_work_prefix(tenant, import_id)}undo/{index:06d}/written.json"


def revert_plan_key(tenant: str, import_id: str, index: int) -> str:
    """What the revert of a chunk does to each record, fixed by its first attempt (deleted, restored, skipped)."""
    return f"{import_work_prefix(tenant, import_id)}undo/{index:06d}/revert.json"


def revert_manifest_key(tenant: str, import_id: str, turn: int) -> str:
    return f"{import_work_prefix(tenant, import_id)}revert-manifest-{turn}.json"


def failures_csv_key(tenant: str, import_id: str, language: str) -> str:
    return f"{import_work_prefix(tenant, import_id)}failures-{language}.csv"


TABLE_QUEUE_PREFIX = "TABLEQ#"
TABLE_LOCK_PREFIX = "TABLELOCK#"


def table_queue_prefix(table: str) -> str:
    return f"{TABLE_QUEUE_PREFIX}{table}#"


def table_queue_sk(table: str, ticket: str) -> str:
    """A run's place in its table's queue: tickets are ULIDs taken when the run starts, so they sort by start time."""
    return f"{table_queue_prefix(table)}{ticket}"


def table_lock_sk(table: str) -> str:
    return f"{TABLE_LOCK_PREFIX}{table}"


# A tenant's queue of runs that hold their table, and its run slots (max_concurrent_runs of them).
TENANT_QUEUE_PREFIX = "TENANTQ#"
TENANT_SLOT_PREFIX = "TENANTSLOT#"


def tenant_slot_sk(index: int) -> str:
    return f"{TENANT_SLOT_PREFIX}{index:04d}"


# The two partitions not under a tenant, the sweeper's indexes: runs (imports, jobs) whose executions
# are under way (it settles those whose execution died), and imports waiting for their upload (it
# starts those whose upload event was lost, fails those whose upload never came).
ACTIVE_RUNS_PK = "ACTIVE_RUNS"
AWAITED_UPLOADS_PK = "AWAITED_UPLOADS"
AWAITED_UPLOAD_PREFIX = "UPLOAD#"


def awaited_upload_sk(tenant: str, import_id: str) -> str:
    return f"{AWAITED_UPLOAD_PREFIX}{tenant}#{import_id}"


ACTIVE_RUN_PREFIX = "RUN#"


def active_run_sk(tenant: str, kind: str, run_id: str) -> str:
    return f"{ACTIVE_RUN_PREFIX}{tenant}#{kind}#{run_id}"


def job_sk(job_id: str) -> str:
    return f"JOB#{job_id}"


def job_work_prefix(tenant: str, job_id: str) -> str:
    return f"work/{tenant}/{job_id}/"


def job_page_key(tenant: str, job_id: str, index: int) -> str:
    """One page of the record ids a batch_update / batch_delete acts on, fixed when the job starts."""
    return f"{job_work_prefix(tenant, job_id)}pages/{index:06d}.json"


def job_manifest_key(tenant: str, job_id: str) -> str:
    return f"{job_work_prefix(tenant, job_id)}manifest.json"


def export_key(tenant: str, job_id: str, file_name: str) -> str:
    """Exported files live under their own prefix, which the bucket expires after a few days."""
    return f"exports/{tenant}/{job_id}/{file_name}"


# A tenant's quotas (access.quotas), under its partition; its rows imported per UTC day, in a partition
# of their own so that imports reserving rows do not heat the tenant's control partition.
QUOTAS_SK = "QUOTAS"


def usage_pk(tenant: str) -> str:
    return f"USAGE#{tenant}"


def rate_pk(tenant: str, action: str) -> str:
    # A partition of its own: throttled callers must not heat the tenant's control partition.
    return f"RATE#{tenant}#{action}"


def schedule_sk(schedule_id: str) -> str:
    return f"{SCHEDULE_PREFIX}{schedule_id}"


def schedule_source_prefix(tenant: str, source_prefix: str) -> str:
    """Where a tenant puts the files a recurring schedule imports."""
    return f"sources/{tenant}/{source_prefix}"


# Webhooks: a tenant's subscriptions, their count (at most 20), and each one's deliveries.
WEBHOOK_PREFIX = "WEBHOOK#"
WEBHOOK_COUNTER_SK = "WEBHOOKCOUNT"


def webhook_sk(webhook_id: str) -> str:
    return f"{WEBHOOK_PREFIX}{webhook_id}"


def webhook_delivery_prefix(webhook_id: str) -> str:
    return f"WHDELIVERY#{webhook_id}#"


def webhook_delivery_sk(webhook_id: str, delivery_id: str) -> str:
    return f"{webhook_delivery_prefix(webhook_id)}{delivery_id}"
