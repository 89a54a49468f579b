"""The `bulkimport` command (docs/API.md, "CLI"). Exit codes: 0 done, 1 the API (or an import) refused
or failed, 2 bad usage, 130 interrupted."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from bulkimport_cli import admin as admin_tools
from bulkimport_cli import parts
from bulkimport_cli.client import Client, CliError, MultipartBody, content_type
from bulkimport_cli.output import Output
from bulkimport_cli.progress import upload_bar, watch_import, watch_job

DEFAULT_API = "http://127.0.0.1:3000/v1"
DEFAULT_KEY = "dev-key"  # the local stack's admin key (tenant dev)
# A file up to this size goes in the one multipart call (the API's limit is 4 MB); larger ones through
# the presigned upload.
MULTIPART_MAX_BYTES = 4 * 1024 * 1024
# Above this (the API's one POST upload), a file goes in parts.
POST_UPLOAD_MAX_BYTES = 100 * 1024 * 1024
LANGUAGES = ("en", "zh-TW")
OK_STATUSES = ("completed", "completed_with_errors", "reverted")


class App:
    """What every command shares: where the API is, the key, and how to print."""

    current: App | None = None  # this run's, for the error printer (after click's context is gone)

    def __init__(self, api: str, key: str | None, as_json: bool, language: str):
        self.api, self.key, self.as_json, self.language = api, key, as_json, language
        self._client: Client | None = None
        App.current = self

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.api, self.key, self.language)
        return self._client

    @property
    def output(self) -> Output:
        return Output(self.as_json, self.language)


def _set_from_subcommand(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    # The global options may also follow the command (`bulkimport imports list --json`).
    if value is not None and value is not False:
        setattr(ctx.find_object(App), param.name or "", value)


def common_options(command):
    for option in reversed(
        [
            click.option("--api", default=None, expose_value=False, callback=_set_from_subcommand, hidden=True),
            click.option("--key", default=None, expose_value=False, callback=_set_from_subcommand, hidden=True),
            click.option(
                "--json",
                "as_json",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=_set_from_subcommand,
                help="Machine-readable output (JSON on stdout).",
            ),
            click.option(
                "--lang",
                "language",
                type=click.Choice(LANGUAGES),
                default=None,
                expose_value=False,
                callback=_set_from_subcommand,
                hidden=True,
            ),
        ]
    ):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option(
    "--api",
    envvar="BULKIMPORT_API",
    default=DEFAULT_API,
    show_default=True,
    help="Base URL of the API, ending in /v1 (env BULKIMPORT_API).",
)
@click.option(
    "--key",
    envvar="BULKIMPORT_KEY",
    default=DEFAULT_KEY,
    help="API key (env BULKIMPORT_KEY; default: the local stack's dev-key).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (JSON on stdout).")
@click.option(
    "--lang",
    "language",
    type=click.Choice(LANGUAGES),
    envvar="BULKIMPORT_LANG",
    default="en",
    show_default=True,
    help="Language of messages (the API's and the CLI's).",
)
@click.version_option(package_name="bulkimport-cli")
@click.pass_context
def cli(ctx: click.Context, api: str, key: str, as_json: bool, language: str) -> None:
    """Bulk import from the command line: tables, recipes, imports with progress bars, failures,
    exports and API keys.

    \b
    Exit codes: 0 done; 1 the API refused, or an import failed or was cancelled; 2 bad usage.
    """
    ctx.obj = App(api, key, as_json, language)


def _app() -> App:
    return click.get_current_context().find_object(App)  # type: ignore[return-value]


def _read_document(path: Path) -> Any:
    """A table or recipe from JSON or YAML (by extension; YAML is also tried when JSON fails)."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.safe_load(text)
        try:
            return json.loads(text)
        except ValueError:
            return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise click.BadParameter(f"{path} is neither JSON nor YAML: {error}") from None


def _show_page(page: dict, columns: list[str]) -> None:
    app = _app()
    if app.as_json:
        app.output.json(page)
        return
    app.output.table(page["data"], columns)
    if page["meta"].get("next_cursor"):
        app.output.note("next_page", cursor=page["meta"]["next_cursor"])


def _show_one(item: dict, title: str | None = None) -> None:
    app = _app()
    if app.as_json:
        app.output.json(item)
    else:
        app.output.fields(item, title)


def _paging(command):
    command = click.option("--per-page", type=click.IntRange(1, 100), default=15, show_default=True)(command)
    return click.option("--cursor", default=None, help="Where the page starts (printed under the last one).")(command)


existing_file = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


# ---------------------------------------------------------------------------------------------- tables
@cli.group()
def tables() -> None:
    """Typed target tables."""


quiet_option = click.option("-q", "--quiet", is_flag=True, help="Print only the id (for scripts: ID=$(...)).")


def _created(app: App, item: dict, what: str, key: str, quiet: bool) -> None:
    if app.as_json:
        app.output.json(item)
    elif quiet:
        print(item[key])
    else:
        app.output.say("created", what=what, id=item[key])


@tables.command("create")
@click.argument("file", type=existing_file)
@quiet_option
@common_options
def tables_create(file: Path, quiet: bool) -> None:
    """Create a table from FILE (.json or .yaml)."""
    app = _app()
    _created(app, app.client.json("POST", "/tables", json=_read_document(file))["data"], "table", "key", quiet)


@tables.command("list")
@_paging
@common_options
def tables_list(per_page: int, cursor: str | None) -> None:
    """The tenant's tables."""
    page = _app().client.json("GET", "/tables", params={"per_page": per_page, "cursor": cursor})
    for table in page["data"]:
        table["fields"] = len(table.get("fields") or [])
    _show_page(page, ["key", "name", "parent", "fields", "record_count", "created_at"])


@tables.command("show")
@click.argument("table")
@common_options
def tables_show(table: str) -> None:
    """One table with its fields."""
    _show_one(_app().client.json("GET", f"/tables/{table}")["data"], table)


# --------------------------------------------------------------------------------------------- recipes
@cli.group()
def recipes() -> None:
    """Recipes: how a file's columns map onto a table."""


@recipes.command("create")
@click.argument("file", type=existing_file)
@quiet_option
@common_options
def recipes_create(file: Path, quiet: bool) -> None:
    """Create a recipe from FILE (.json or .yaml)."""
    app = _app()
    _created(app, app.client.json("POST", "/recipes", json=_read_document(file))["data"], "recipe", "id", quiet)


@recipes.command("list")
@click.option("--table", default=None, help="Only the recipes of this table.")
@_paging
@common_options
def recipes_list(table: str | None, per_page: int, cursor: str | None) -> None:
    """The tenant's recipes."""
    params = {"table": table, "per_page": per_page, "cursor": cursor}
    page = _app().client.json("GET", "/recipes", params=params)
    _show_page(page, ["id", "name", "table", "mode", "tasks_count", "created_at"])


@recipes.command("show")
@click.argument("recipe_id")
@common_options
def recipes_show(recipe_id: str) -> None:
    """One recipe."""
    _show_one(_app().client.json("GET", f"/recipes/{recipe_id}")["data"], recipe_id)


@recipes.command("suggest")
@click.argument("file", type=existing_file)
@click.option("--table", required=True, help="The table the file is for.")
@common_options
def recipes_suggest(file: Path, table: str) -> None:
    """Suggest a recipe's columns for FILE (POST /recipes/suggest)."""
    app = _app()
    with file.open("rb") as handle:
        files = {"file": (file.name, handle, content_type(file))}
        suggestion = app.client.json("POST", "/recipes/suggest", data={"table": table}, files=files)["data"]
    if app.as_json:
        app.output.json(suggestion)
        return
    app.output.table(suggestion.get("columns") or [], ["source", "target", "confidence", "reason"])
    rest = {k: v for k, v in suggestion.items() if k != "columns"}
    if rest:
        app.output.fields(rest)


# --------------------------------------------------------------------------------------------- imports
def _settle(app: App, import_id: str) -> dict:
    """Watch an import to its end with a progress bar; Ctrl-C asks whether to cancel it."""
    client = app.client

    def fetch() -> dict:
        return client.json("GET", f"/imports/{import_id}")["data"]

    try:
        return watch_import(fetch, app.output.err, enabled=not app.as_json)
    except KeyboardInterrupt:
        pass
    try:
        cancel = click.confirm(app.output.text("cancel_prompt", id=import_id), default=False, err=True)
    except click.Abort:
        cancel = False
    if not cancel:
        app.output.note("detached", id=import_id)
        raise click.exceptions.Exit(130)
    app.output.note("cancelling", id=import_id)
    client.json("POST", f"/imports/{import_id}/cancel")
    return watch_import(fetch, app.output.err, enabled=not app.as_json)


def _report(app: App, settled: dict) -> None:
    """Print the settled import's counts; exit 1 unless it completed (with or without errors)."""
    if app.as_json:
        app.output.json(settled)
    else:
        app.output.say(
            "counts",
            status=settled["status"],
            processed=settled.get("processed_count") or 0,
            total=settled.get("total_count") or 0,
            ok=settled.get("success_count") or 0,
            failed=settled.get("fail_count") or 0,
        )
        if settled.get("outcomes"):
            app.output.say("outcomes", **settled["outcomes"])
        revert = settled.get("revert")
        if revert:
            app.output.say(
                "reverted", deleted=revert["deleted"], restored=revert["restored"], skipped=revert["skipped_count"]
            )
        if settled.get("error"):
            app.output.say("import_error", code=settled["error"]["code"], message=settled["error"]["message"])
        if settled.get("fail_count"):
            app.output.note("see_failures", id=settled["id"])
    if settled["status"] not in OK_STATUSES:
        raise click.exceptions.Exit(1)


@cli.command("import")
@click.argument("file", type=existing_file)
@click.option("--recipe", "recipe_id", default=None, help="The recipe's id (not with --resume).")
@click.option("--dry-run", is_flag=True, help="Validate every row, write nothing.")
@click.option("--atomic", is_flag=True, help="Write only if no row fails.")
@click.option("--wait", is_flag=True, help="Watch it to the end; exit 0 if it completed, 1 if it failed.")
@click.option("--description", default=None)
@click.option("--transaction-id", default=None, help="Sending the same id again returns the same import.")
@click.option("--header/--no-header", "has_header", default=None, help="Override the recipe's has_header.")
@click.option(
    "--header-row", type=click.IntRange(min=1), default=None, help="Override the recipe's header_row (1-based)."
)
@click.option("--multipart", "in_parts", is_flag=True, help="Upload in parts (the default above 100 MB).")
@click.option(
    "--resume", "resume_id", default=None, metavar="IMPORT_ID", help="Continue the interrupted upload of FILE."
)
@click.option(
    "--parallel", type=click.IntRange(1, 16), default=parts.AT_ONCE, show_default=True, help="Parts sent at once."
)
@quiet_option
@common_options
def import_file(
    file: Path,
    recipe_id: str,
    dry_run: bool,
    atomic: bool,
    wait: bool,
    description: str | None,
    transaction_id: str | None,
    has_header: bool | None,
    header_row: int | None,
    in_parts: bool,
    resume_id: str | None,
    parallel: int,
    quiet: bool,
) -> None:
    """Import FILE (CSV, TSV, XLSX, gzip'd CSV) with a recipe.

    Up to 4 MB it goes in one call; a larger file is uploaded to a presigned URL with a progress bar,
    and one over 100 MB (or with --multipart) in parts, resumable with --resume IMPORT_ID.
    """
    app = _app()
    if (recipe_id is None) == (resume_id is None):
        raise click.UsageError("give either --recipe (a new import) or --resume IMPORT_ID (an upload under way)")
    if resume_id is not None:
        _finish(app, _resume(app, resume_id, file, parallel), wait, quiet)
        return
    fields: dict[str, Any] = {
        "recipe_id": recipe_id,
        "dry_run": dry_run,
        "atomic": atomic,
        "description": description,
        "transaction_id": transaction_id,
        "has_header": has_header,
        "header_row": header_row,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    size = file.stat().st_size
    if in_parts or size > POST_UPLOAD_MAX_BYTES:
        body = {**fields, "file_name": file.name, "file_size": size, "upload_method": "multipart"}
        created = app.client.json("POST", "/imports", json=body)["data"]
        if not quiet:
            app.output.note("resume_hint", id=created["id"], file=str(file))
        created = _upload_parts(app, created["id"], created["upload"], file, {}, parallel)
    elif size <= MULTIPART_MAX_BYTES:
        form = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()}
        with file.open("rb") as handle:
            files = {"file": (file.name, handle, content_type(file))}
            created = app.client.json("POST", "/imports", data=form, files=files)["data"]
    else:
        created = app.client.json("POST", "/imports", json={**fields, "file_name": file.name})["data"]
        _upload(app, created["upload"], file)
        created = app.client.json("GET", f"/imports/{created['id']}")["data"]  # as it is once uploaded
    _finish(app, created, wait, quiet)


def _finish(app: App, created: dict, wait: bool, quiet: bool) -> None:
    if not wait:
        if app.as_json:
            app.output.json(created)
        elif quiet:
            print(created["id"])
        else:
            app.output.say("import_started", id=created["id"], status=created["status"])
        return
    _report(app, _settle(app, created["id"]))


def _resume(app: App, import_id: str, file: Path, parallel: int) -> dict:
    """Go on with an interrupted upload in parts: the parts S3 holds with this file's size and
    checksum are kept, the others sent."""
    state = app.client.json("GET", f"/imports/{import_id}/upload")["data"]
    size = file.stat().st_size
    if -(-size // state["part_size"]) != state["part_count"]:
        raise CliError(
            "NOT_THIS_FILE",
            app.output.text("not_this_file", id=import_id, size=size, parts=state["part_count"]),
        )
    done = parts.matching_parts(file, state, state["parts"])
    app.output.note("resuming", id=import_id, kept=len(done), total=state["part_count"])
    return _upload_parts(app, import_id, state, file, done, parallel)


def _upload_parts(app: App, import_id: str, ticket: dict, file: Path, done: dict[int, str], parallel: int) -> dict:
    """Send the parts not done under one bar, then complete the upload: the import starts."""
    size = file.stat().st_size
    label = app.output.text("uploading", name=file.name)
    with upload_bar(app.output.err, label, enabled=not app.as_json) as bar:
        kept = sum(min(ticket["part_size"], size - (n - 1) * ticket["part_size"]) for n in done)
        task = bar.add_task(label, total=size, completed=kept)
        etags = parts.upload_parts(
            app.client, import_id, file, ticket, done, lambda n: bar.advance(task, n), at_once=parallel
        )
    return parts.complete(app.client, import_id, etags)


def _upload(app: App, ticket: dict, file: Path) -> None:
    with upload_bar(app.output.err, app.output.text("uploading", name=file.name), enabled=not app.as_json) as bar:
        task = bar.add_task(app.output.text("uploading", name=file.name), total=file.stat().st_size)
        body = MultipartBody(ticket["fields"], file, lambda n: bar.advance(task, n))
        # Not through the API's session: S3 takes the presigned fields, not our key.
        client = Client(ticket["url"], None, timeout=600)
        client.request(
            ticket.get("method", "POST"), ticket["url"], data=body, headers={"Content-Type": body.content_type}
        )


@cli.group()
def imports() -> None:
    """Imports: list, show, watch, cancel, restart, revert."""


@imports.command("list")
@click.option("--status", default=None, help="Only imports with this status.")
@click.option("--recipe", "recipe_id", default=None, help="Only imports of this recipe.")
@_paging
@common_options
def imports_list(status: str | None, recipe_id: str | None, per_page: int, cursor: str | None) -> None:
    """The tenant's imports, newest first."""
    params = {"status": status, "recipe_id": recipe_id, "per_page": per_page, "cursor": cursor}
    page = _app().client.json("GET", "/imports", params=params)
    for item in page["data"]:
        item["file"] = (item.get("file") or {}).get("name")
    columns = ["id", "status", "table", "file", "progress", "total_count", "success_count", "fail_count", "created_at"]
    _show_page(page, columns)


@imports.command("show")
@click.argument("import_id")
@common_options
def imports_show(import_id: str) -> None:
    """One import: status, progress, counts, error."""
    item = _app().client.json("GET", f"/imports/{import_id}")["data"]
    if not _app().as_json:
        item.pop("recipe", None)
    _show_one(item, import_id)


@imports.command("watch")
@click.argument("import_id")
@common_options
def imports_watch(import_id: str) -> None:
    """Watch an import to its end (exit 0 completed, 1 failed or cancelled); Ctrl-C asks whether to cancel."""
    app = _app()
    _report(app, _settle(app, import_id))


@imports.command("cancel")
@click.argument("import_id")
@common_options
def imports_cancel(import_id: str) -> None:
    """Cancel an import: it starts no more chunks; those under way finish."""
    app = _app()
    item = app.client.json("POST", f"/imports/{import_id}/cancel")["data"]
    app.output.json(item) if app.as_json else app.output.say("cancelled", id=import_id)


@imports.command("restart")
@click.argument("import_id")
@click.option("--wait", is_flag=True, help="Watch it to the end.")
@common_options
def imports_restart(import_id: str, wait: bool) -> None:
    """Restart a failed or cancelled import where it stopped (nothing is written twice)."""
    app = _app()
    item = _start_again(app, import_id, "restart", wait)
    if item is not None:
        app.output.json(item) if app.as_json else app.output.say("restarted", id=import_id)


@imports.command("revert")
@click.argument("import_id")
@click.option("--wait", is_flag=True, help="Watch it to the end.")
@common_options
def imports_revert(import_id: str, wait: bool) -> None:
    """Undo a finished import (POST /imports/{id}/revert)."""
    app = _app()
    item = _start_again(app, import_id, "revert", wait)
    if item is not None:
        app.output.json(item) if app.as_json else _show_one(item, import_id)


def _start_again(app: App, import_id: str, action: str, wait: bool) -> dict | None:
    """POST /imports/{id}/<action>: the import as answered, or None once watched to its end (--wait)."""
    item = app.client.json("POST", f"/imports/{import_id}/{action}")["data"]
    if wait:
        _report(app, _settle(app, import_id))
        return None
    return item


@cli.command("failures")
@click.argument("import_id")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Download failures.csv (the failing rows with error_code, error_message) to this path.",
)
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True, help="Rows shown.")
@common_options
def failures(import_id: str, csv_path: Path | None, limit: int) -> None:
    """An import's failing rows: a table, or --csv PATH to fix them in a spreadsheet and import again."""
    app = _app()
    if csv_path is not None:
        size = app.client.download(f"/imports/{import_id}/failures.csv", csv_path)
        if app.as_json:
            app.output.json({"path": str(csv_path), "bytes": size})
        else:
            app.output.say("downloaded", path=csv_path, size=size)
        return
    rows: list[dict] = []
    cursor = None
    total = 0
    while len(rows) < limit:
        page = app.client.json(
            "GET", f"/imports/{import_id}/failures", params={"per_page": min(100, limit - len(rows)), "cursor": cursor}
        )
        rows.extend(page["data"])
        total = page["meta"].get("total") or len(rows)
        cursor = page["meta"].get("next_cursor")
        if not cursor:
            break
    if app.as_json:
        app.output.json({"data": rows, "meta": {"total": total}})
        return
    if not rows:
        app.output.say("no_failures")
        return
    app.output.table(rows, ["row", "source_line", "sheet", "field", "code", "message", "value"])
    if total > len(rows):
        app.output.note("failures_more", shown=len(rows), total=total)


# ---------------------------------------------------------------------------------------------- export
def _filters(pairs: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{pair!r}: use FIELD=VALUE", param_hint="--filter")
        found[name.strip()] = value
    return found


def _count(client: Client, table: str, filters: dict[str, str]) -> int:
    """How many records the search matches now (what the job's `total` must be)."""
    params = {f"filter.{name}": value for name, value in filters.items()}
    try:
        return int(client.json("GET", f"/tables/{table}/records/count", params=params)["data"]["total"])
    except CliError as error:
        # An API without the count route answers it as a record whose id is "count".
        if error.code not in ("NOT_FOUND_ROUTE", "RECORD_NOT_FOUND"):
            raise
    if not filters:  # an API without the count route: the table knows its size...
        return int(client.json("GET", f"/tables/{table}")["data"]["record_count"])
    return len(client.all_pages(f"/tables/{table}/records", params))  # ...else count a search's pages


@cli.command("export")
@click.argument("table")
@click.option("--filter", "filter_pairs", multiple=True, metavar="FIELD=VALUE", help="Equality on a field; repeatable.")
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option(
    "-o", "--output", "target", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Where to save it."
)
@click.option("--total", type=click.IntRange(0), default=None, help="Expected matches (default: counted now).")
@common_options
def export(table: str, filter_pairs: tuple[str, ...], file_format: str, target: Path, total: int | None) -> None:
    """Export TABLE's records (all, or those matching --filter) to a CSV or XLSX file."""
    app = _app()
    filters = _filters(filter_pairs)
    if total is None:
        if not app.as_json:
            app.output.note("counting")
        total = _count(app.client, table, filters)
    job = {"job_name": "export", "table": table, "ids": "all", "search_options": filters, "total": total}
    batch_code = app.client.json("POST", "/jobs", json={**job, "format": file_format})["data"]["batch_code"]
    finished = watch_job(
        lambda: app.client.json("GET", f"/jobs/{batch_code}"),
        app.output.err,
        app.output.text("exporting", table=table),
        enabled=not app.as_json,
    )
    data = finished.get("data") or {}
    if finished["code"] == 204:
        app.output.json(finished) if app.as_json else app.output.say("export_empty")
        return
    if finished["code"] != 200:
        error = data.get("error") or {}
        raise CliError(
            error.get("code") or f"JOB_{finished['code']}",
            error.get("message") or app.output.text("job_failed", code=finished["code"], error=error),
        )
    size = app.client.download(data["url"], target, authorized=False)
    if app.as_json:
        app.output.json({**finished, "path": str(target), "bytes": size})
    else:
        app.output.say("export_done", amount=data.get("succeeded_amount") or 0, path=target, size=size)


# ------------------------------------------------------------------------------------------------ keys
@cli.group()
def keys() -> None:
    """API keys of your tenant (admin keys only)."""


@keys.command("create")
@click.option("--role", type=click.Choice(["viewer", "editor", "admin"]), required=True)
@click.option("--name", default=None, help="What the key is for.")
@common_options
def keys_create(role: str, name: str | None) -> None:
    """Create a key; its secret is printed this once."""
    app = _app()
    key = app.client.json("POST", "/keys", json={"role": role, "name": name})["data"]
    _print_secret(app, key)


def _print_secret(app: App, key: dict) -> None:
    if app.as_json:
        app.output.json(key)
        return
    app.output.note("key_secret", id=key["id"], role=key["role"])
    print(key["key"])


@keys.command("list")
@_paging
@common_options
def keys_list(per_page: int, cursor: str | None) -> None:
    """The tenant's keys (never their secrets)."""
    page = _app().client.json("GET", "/keys", params={"per_page": per_page, "cursor": cursor})
    _show_page(page, ["id", "name", "role", "created_at", "last_used_at", "revoked_at"])


@keys.command("revoke")
@click.argument("key_id")
@common_options
def keys_revoke(key_id: str) -> None:
    """Revoke a key (the tenant's last admin key cannot be)."""
    app = _app()
    app.client.request("DELETE", f"/keys/{key_id}")
    app.output.json({"id": key_id, "revoked": True}) if app.as_json else app.output.say("revoked", id=key_id)


# ----------------------------------------------------------------------------------------------- admin
@cli.group()
def admin() -> None:
    """Operators' commands (AWS credentials, not an API key)."""


def stack_options(command):
    """How an operator's command reaches the stack's control table: AWS credentials, not an API key."""
    for option in reversed(
        [
            click.option(
                "--endpoint-url",
                envvar="AWS_ENDPOINT_URL",
                default=None,
                help="AWS endpoint (the local stack's, e.g. http://127.0.0.1:5000); default: AWS itself.",
            ),
            click.option("--region", default=None, help="AWS region (default: AWS_REGION, else us-east-1)."),
            click.option(
                "--control-table", default=None, help="The stack's ControlTableName output (found when there is one)."
            ),
        ]
    ):
        command = option(command)
    return command


@admin.command("create-key")
@click.option("--tenant", required=True, help="The tenant the key belongs to (a new name makes a new tenant).")
@click.option("--role", type=click.Choice(["viewer", "editor", "admin"]), default="admin", show_default=True)
@click.option("--name", default=None, help="What the key is for.")
@stack_options
@common_options
def admin_create_key(
    tenant: str, role: str, name: str | None, endpoint_url: str | None, region: str | None, control_table: str | None
) -> None:
    """Create a tenant's API key directly in the stack's control table (a tenant's first admin key)."""
    app = _app()
    key = admin_tools.create_key(tenant, role, name, endpoint_url, region, control_table)
    _print_secret(app, key)


@admin.command("set-quota")
@click.option("--tenant", required=True)
@click.option("--max-concurrent-runs", type=click.IntRange(min=1), default=None, help="Imports and jobs run at once.")
@click.option("--rows-per-day", type=click.IntRange(min=0), default=None, help="Rows imported per UTC day.")
@stack_options
@common_options
def admin_set_quota(
    tenant: str,
    max_concurrent_runs: int | None,
    rows_per_day: int | None,
    endpoint_url: str | None,
    region: str | None,
    control_table: str | None,
) -> None:
    """Set a tenant's quotas (those given; the others stay) and print them all."""
    if max_concurrent_runs is None and rows_per_day is None:
        raise CliError("NOTHING_TO_SET", "Give --max-concurrent-runs, --rows-per-day or both.")
    _show_one(admin_tools.set_quota(tenant, max_concurrent_runs, rows_per_day, endpoint_url, region, control_table))


# ------------------------------------------------------------------------------------------- webhooks
from bulkimport_cli.webhooks import webhooks  # noqa: E402 - its commands use this module's helpers

cli.add_command(webhooks)


# ------------------------------------------------------------------------------------------------ main
def main() -> None:
    try:
        code = cli.main(prog_name="bulkimport", standalone_mode=False)
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.ClickException as error:  # bad usage: exit 2 (UsageError, BadParameter)
        error.show()
        code = error.exit_code
    except click.Abort:
        code = 130
    except KeyboardInterrupt:
        code = 130
    except CliError as error:
        _print_error(error)
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


def _print_error(error: CliError) -> None:
    app = App.current
    output = Output(app.as_json, app.language) if app else Output()
    if output.as_json:
        output.json({"error": {"code": error.code, "message": error.message, "details": error.details}})
    else:
        output.err.print(output.text("error", code=error.code, message=error.message), markup=False)
