from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from web import principal

from bulkimport.recipes import service as recipes
from bulkimport.recipes.models import RecipeCreate, RecipePatch

router = APIGatewayRouter()


@router.post("/recipes")
def create_recipe(body: RecipeCreate):
    caller = principal(router, "admin")
    recipe = recipes.create_recipe(caller.tenant, body)
    return {"data": recipes.recipe_out(caller.tenant, recipe.id).model_dump(mode="json")}, 201


@router.get("/recipes")
def list_recipes(
    table: Annotated[str | None, Query()] = None,
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return recipes.list_recipes(caller.tenant, table, per_page, cursor).model_dump(mode="json")


@router.get("/recipes/<recipe_id>")
def get_recipe(recipe_id: str):
    caller = principal(router)
    return {"data": recipes.recipe_out(caller.tenant, recipe_id).model_dump(mode="json")}


@router.patch("/recipes/<recipe_id>")
def patch_recipe(recipe_id: str, body: RecipePatch):
    caller = principal(router, "admin")
    return {"data": recipes.patch_recipe(caller.tenant, recipe_id, body).model_dump(mode="json")}


@router.delete("/recipes/<recipe_id>")
def delete_recipe(recipe_id: str):
    caller = principal(router, "admin")
    recipes.delete_recipe(caller.tenant, recipe_id)
    return None, 204
