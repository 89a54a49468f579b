"""Request examples of the OpenAPI document, as docs/API.md gives them: they show a reader a request
that works, and schemathesis sends them first (a contacts table, its recipe, ...)."""

from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body


def example(summary: str, value: dict) -> Body:
    """A JSON body with one example, as a route's `Annotated[Model, example(...)]`."""
    return Body(openapi_examples={summary: Example(summary=summary, value=value)})


RECIPE_ID = "01M8C9BQR1JEQ7PM7AMCRHW1N0"

TABLE = example(
    "a contacts table",
    {
        "key": "contacts",
        "name": "客戶",
        "description": None,
        "parent": None,
        "fields": [
            {
                "key": "membership_no",
                "label": "會員編號",
                "type": "string",
                "required": True,
                "unique": True,
                "max_length": 32,
            },
            {"key": "name", "label": "姓名", "type": "string", "required": True},
            {"key": "email", "type": "email"},
            {"key": "level", "type": "enum", "options": ["A", "B"]},
            {"key": "ct_value", "label": "測量數字", "type": "number"},
            {"key": "visit_date", "type": "date"},
            {"key": "items", "type": "subtable", "fields": [{"key": "sku", "type": "string"}]},
        ],
    },
)
TABLE_PATCH = example(
    "rename a table and add a field",
    {
        "name": "Customers",
        "fields": [{"key": "name", "type": "string", "required": True}, {"key": "phone", "type": "phone"}],
    },
)
RECIPE = example(
    "the contacts recipe",
    {
        "name": "客戶匯入",
        "description": None,
        "table": "contacts",
        "columns": [
            {"source": "會員編號", "target": "membership_no"},
            {"source": "姓名", "target": "name"},
            {"source": "Email", "target": "email"},
            {"source": "等級", "target": "level"},
            {"source": "測量數字", "target": "ct_value"},
            {"source": "就診日", "target": "visit_date"},
        ],
        "unique_columns": [],
        "relation_unique_column": None,
        "mode": "insert",
        "options": {"has_header": True, "delimiter": "auto", "encoding": "auto", "sheet": None},
    },
)
RECIPE_PATCH = example("upsert by membership number", {"mode": "upsert", "unique_columns": ["membership_no"]})
RECORDS = example(
    "two contacts, one with a bad email",
    {
        "records": [
            {"membership_no": "M1", "name": "王小明", "email": "a@example.com", "items": [{"sku": "A-1"}]},
            {"membership_no": "M2", "name": "陳美麗", "email": "bad"},
        ],
        "transaction_id": "87cd7d71-c6df-4281-9927-469094395677",
        "data_creator": "user-42",
        "is_start_workflow": False,
    },
)
SCHEDULE = example(
    "every night at two in Taipei",
    {
        "recipe_id": RECIPE_ID,
        "expression": "cron(0 2 * * ? *)",
        "timezone": "Asia/Taipei",
        "source_prefix": "inbox/contacts/",
        "enabled": True,
    },
)
JOB = example(
    "export level-A contacts as XLSX",
    {
        "job_name": "export",
        "table": "contacts",
        "ids": "all",
        "search_options": {"level": "A"},
        "total": 149,
        "format": "xlsx",
    },
)
IMPORT = {"recipe_id": RECIPE_ID, "file_name": "big.csv", "description": "nightly"}
IMPORT_MULTIPART = {"recipe_id": RECIPE_ID, "file_name": "huge.csv", "file_size": 1_200_000_000}
PART_NUMBERS = example("the first four parts", {"numbers": [1, 2, 3, 4]})
COMPLETE_UPLOAD = example(
    "every part with the ETag its PUT answered",
    {"parts": [{"number": 1, "etag": "b54357faf0632cce46e942fa68356b38"}, {"number": 2, "etag": "…"}]},
)

WEBHOOK = example(
    "imports ending, to an https endpoint",
    {
        "url": "https://hooks.example.com/bulkimport",
        "events": ["import.completed", "import.failed"],
        "description": "the CRM's sync",
    },
)
