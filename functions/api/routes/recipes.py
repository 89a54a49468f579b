from typing import Annotated

import request_examples as examples
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from contract import Data, link, operation
from web import principal

from bulkimport.errors import InvalidInput, NotFound
from bulkimport.paging import Page
from bulkimport.recipes import service as recipes
from bulkimport.recipes.models import RecipeCreate, RecipeOut, RecipePatch

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
    recipe = recipes.create_recipe(caller.tenant, body)
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
    return {"data": recipes.patch_recipe(caller.tenant, recipe_id, body).model_dump(mode="json")}


@router.delete(
    "/recipes/<recipe_id>",
    **operation("Delete a recipe", tag="Recipes", role="admin", answers={204: None}, errors=[RECIPE_NOT_FOUND]),
)
def delete_recipe(recipe_id: str):
    caller = principal(router)
    recipes.delete_recipe(caller.tenant, recipe_id)
    return None, 204
