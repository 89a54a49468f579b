from typing import Annotated

import request_examples as examples
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from contract import JSON_BODY, Data, link, operation
from pydantic import ValidationError
from web import JSON, parse_json, principal, read_form, request_body

from bulkimport.errors import InvalidInput, NotFound, UnsupportedMediaType, validation_failed
from bulkimport.paging import Page
from bulkimport.recipes import service as recipes
from bulkimport.recipes.models import RecipeCreate, RecipeOut, RecipePatch, RecipeVersion
from bulkimport.recipes.suggest import Suggestion, SuggestRequest, suggest_for_file, suggest_for_sample

router = APIGatewayRouter()

RECIPE_NOT_FOUND = NotFound("RECIPE_NOT_FOUND", recipe_id="01M8C9BVB8MA4PQ3011DQJGH53")
RECIPE_CHECKS = [InvalidInput("TABLE_NOT_FOUND", table="contacts"), InvalidInput("INVALID_RECIPE", table="contacts")]


@router.post(
    "/recipes",
    **operation(
        "Create a recipe",
        tag="Recipes",
        role="admin",
        body=True,
        answers={201: Data[RecipeOut]},
        links={
            "GetRecipe": link("GET", "/recipes/{recipe_id}", recipe_id="$response.body#/data/id"),
            "PatchRecipe": link("PATCH", "/recipes/{recipe_id}", recipe_id="$response.body#/data/id"),
            "DeleteRecipe": link("DELETE", "/recipes/{recipe_id}", recipe_id="$response.body#/data/id"),
        },
        errors=RECIPE_CHECKS,
        description="Maps a file's columns (by header or 0-based index) onto a table's fields, with the "
        "import mode (insert, upsert, update) and the file options.",
    ),
)
def create_recipe(body: Annotated[RecipeCreate, examples.RECIPE]):
    caller = principal(router)
    recipe = recipes.create_recipe(caller.tenant, body, caller.actor)
    return {"data": recipes.recipe_out(caller.tenant, recipe.id).model_dump(mode="json")}, 201


@router.get(
    "/recipes",
    **operation(
        "List recipes",
        tag="Recipes",
        role="viewer",
        paged=True,
        answers={200: Page[RecipeOut]},
        description="Oldest first; `table` lists only the recipes of one table.",
    ),
)
def list_recipes(
    table: Annotated[str | None, Query()] = None,
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return recipes.list_recipes(caller.tenant, table, per_page, cursor).model_dump(mode="json")


@router.get(
    "/recipes/<recipe_id>",
    **operation(
        "Get a recipe", tag="Recipes", role="viewer", answers={200: Data[RecipeOut]}, errors=[RECIPE_NOT_FOUND]
    ),
)
def get_recipe(recipe_id: str):
    caller = principal(router)
    return {"data": recipes.recipe_out(caller.tenant, recipe_id).model_dump(mode="json")}


@router.patch(
    "/recipes/<recipe_id>",
    **operation(
        "Change a recipe",
        tag="Recipes",
        role="admin",
        body=True,
        answers={200: Data[RecipeOut]},
        errors=[RECIPE_NOT_FOUND, *RECIPE_CHECKS],
        description="Attributes left out stay as they are; the recipe as changed is checked as a whole.",
    ),
)
def patch_recipe(recipe_id: str, body: Annotated[RecipePatch, examples.RECIPE_PATCH]):
    caller = principal(router)
    return {"data": recipes.patch_recipe(caller.tenant, recipe_id, body, caller.actor).model_dump(mode="json")}


@router.get(
    "/recipes/<recipe_id>/versions",
    **operation(
        "List a recipe's versions",
        tag="Recipes",
        role="viewer",
        paged=True,
        answers={200: Page[RecipeVersion]},
        errors=[RECIPE_NOT_FOUND],
        description="Every change to a recipe makes a new version (1, 2, ...): each with who changed it, "
        "when, and the recipe as it was. An import runs with the version it was created with.",
    ),
)
def list_recipe_versions(
    recipe_id: str,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return recipes.list_versions(caller.tenant, recipe_id, per_page, cursor).model_dump(mode="json")


@router.delete(
    "/recipes/<recipe_id>",
    **operation("Delete a recipe", tag="Recipes", role="admin", answers={204: None}, errors=[RECIPE_NOT_FOUND]),
)
def delete_recipe(recipe_id: str):
    caller = principal(router)
    recipes.delete_recipe(caller.tenant, recipe_id)
    return None, 204


SUGGEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": SuggestRequest.model_json_schema(),
            "examples": {
                "headers and rows": {
                    "summary": "A file's header and first rows",
                    "value": {
                        "table": "contacts",
                        "headers": ["會員編號", "Name", "E-mail", "Visit date"],
                        "rows": [["M001", "王小明", "wang@example.com", "2026-11-22"]],
                    },
                }
            },
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["table", "file"],
                "properties": {
                    "table": {"type": "string", "minLength": 1, "maxLength": 200},
                    "file": {"type": "string", "format": "binary", "description": "CSV, TSV or XLSX, at most 4 MB."},
                },
            }
        },
    },
}


@router.post(
    "/recipes/suggest",
    **operation(
        "Suggest a recipe's columns",
        tag="Recipes",
        role="editor",
        request_body=SUGGEST_BODY,
        answers={200: Data[Suggestion]},
        errors=[
            *JSON_BODY,
            NotFound("TABLE_NOT_FOUND", table="contacts"),
            InvalidInput("FILE_REQUIRED"),
            InvalidInput("EMPTY_FILE"),
            UnsupportedMediaType("UNSUPPORTED_FILE_TYPE"),
        ],
        description="From a file (multipart: `table` and `file`) or a file's `headers` and a few `rows` (JSON): "
        "each header matched to a field by key or label (any case, spacing or width), by the tenant's earlier "
        "recipes for the table, or by a similar name, checked against the sample values' types; the sources "
        "left unmapped, the required fields no column maps, and the file options an import would use. "
        "Nothing is stored.",
    ),
)
def suggest_recipe():
    caller = principal(router)
    media_type, options, raw = request_body(router)
    if media_type == "multipart/form-data":
        fields, file_body = read_form(raw, options.get("boundary", ""), {"table"})
        table = fields.get("table", "").strip()
        if not table:
            raise validation_failed([{"type": "missing", "loc": ("table",), "msg": "Field required"}])
        suggestion = suggest_for_file(caller.tenant, table, file_body)
    elif media_type in (JSON, ""):
        try:
            request = SuggestRequest.model_validate(parse_json(raw or b"{}"))
        except ValidationError as error:
            raise validation_failed(error.errors()) from None
        suggestion = suggest_for_sample(caller.tenant, request)
    else:
        raise UnsupportedMediaType("UNSUPPORTED_MEDIA_TYPE", accepted=f"{JSON}, multipart/form-data")
    return {"data": suggestion.model_dump(mode="json")}
