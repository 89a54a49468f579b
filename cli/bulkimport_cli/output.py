"""What the CLI prints: its own messages in English or Traditional Chinese, tables, JSON.

Results go to stdout; progress bars, notes and errors to stderr, so `--json` output can be piped.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

MESSAGES: dict[str, dict[str, str]] = {
    "created": {"en": "Created {what} {id}.", "zh-TW": "已建立{what} {id}。"},
    "uploading": {"en": "Uploading {name}", "zh-TW": "上傳 {name}"},
    "resume_hint": {
        "en": "Import {id}: uploading in parts. If it stops, go on with: bulkimport import {file} --resume {id}",
        "zh-TW": "匯入 {id}：分段上傳中。若中斷，繼續上傳：bulkimport import {file} --resume {id}",
    },
    "resuming": {
        "en": "Import {id}: {kept} of {total} parts already uploaded, sending the rest.",
        "zh-TW": "匯入 {id}：{total} 個分段中已上傳 {kept} 個，上傳其餘分段。",
    },
    "not_this_file": {
        "en": "Import {id} uploads a file of {parts} parts; this one ({size:,} bytes) is not it.",
        "zh-TW": "匯入 {id} 上傳的檔案有 {parts} 個分段；此檔案（{size:,} 位元組）不是該檔案。",
    },
    "import_started": {
        "en": "Import {id}: {status}. Follow it with: bulkimport imports watch {id}",
        "zh-TW": "匯入 {id}：{status}。追蹤進度：bulkimport imports watch {id}",
    },
    "counts": {
        "en": "{status}: {processed:,} of {total:,} rows processed, {ok:,} imported, {failed:,} failed.",
        "zh-TW": "{status}：已處理 {processed:,}／{total:,} 列，成功 {ok:,} 列，失敗 {failed:,} 列。",
    },
    "outcomes": {
        "en": "Rows: {created:,} created, {updated:,} updated, {unchanged:,} unchanged, {failed:,} failed.",
        "zh-TW": "各列結果：新增 {created:,}、更新 {updated:,}、未變更 {unchanged:,}、失敗 {failed:,}。",
    },
    "reverted": {
        "en": "Reverted: {deleted:,} records deleted, {restored:,} restored, {skipped:,} skipped (changed since).",
        "zh-TW": "已復原：刪除 {deleted:,} 筆、還原 {restored:,} 筆、略過 {skipped:,} 筆（之後已變更）。",
    },
    "see_failures": {
        "en": "Failures: bulkimport failures {id}  (or --csv failures.csv to fix and import again)",
        "zh-TW": "失敗明細：bulkimport failures {id}（或加 --csv failures.csv 下載、修正後重新匯入）",
    },
    "import_error": {"en": "The import failed: {code}: {message}", "zh-TW": "匯入失敗：{code}：{message}"},
    "cancel_prompt": {"en": "Cancel import {id}?", "zh-TW": "要取消匯入 {id} 嗎？"},
    "detached": {
        "en": "Import {id} goes on. Follow it with: bulkimport imports watch {id}",
        "zh-TW": "匯入 {id} 繼續進行。追蹤進度：bulkimport imports watch {id}",
    },
    "cancelling": {"en": "Cancelling import {id}...", "zh-TW": "正在取消匯入 {id}..."},
    "failures_more": {
        "en": "{shown} of {total} failures shown; all of them: --csv PATH",
        "zh-TW": "顯示 {shown}／{total} 筆失敗；全部下載：--csv PATH",
    },
    "no_failures": {"en": "No failures.", "zh-TW": "沒有失敗的列。"},
    "downloaded": {"en": "Saved {path} ({size:,} bytes).", "zh-TW": "已儲存 {path}（{size:,} 位元組）。"},
    "counting": {"en": "Counting the matching records...", "zh-TW": "正在計算符合條件的紀錄..."},
    "exporting": {"en": "Exporting {table}", "zh-TW": "匯出 {table}"},
    "export_done": {
        "en": "Exported {amount:,} records to {path} ({size:,} bytes).",
        "zh-TW": "已匯出 {amount:,} 筆紀錄至 {path}（{size:,} 位元組）。",
    },
    "export_empty": {"en": "No record matches: nothing exported.", "zh-TW": "沒有符合條件的紀錄：未匯出任何檔案。"},
    "job_failed": {"en": "The job ended with code {code}: {error}", "zh-TW": "工作結束，代碼 {code}：{error}"},
    "key_secret": {
        "en": "Key {id} ({role}). Its secret, shown this once (store it now):",
        "zh-TW": "金鑰 {id}（{role}）。密鑰只顯示這一次（請立即保存）：",
    },
    "revoked": {
        "en": "Key {id} revoked: requests with it answer 401 within 60 s.",
        "zh-TW": "金鑰 {id} 已撤銷：60 秒內使用它的請求將回應 401。",
    },
    "next_page": {"en": "More: --cursor {cursor}", "zh-TW": "下一頁：--cursor {cursor}"},
    "error": {"en": "Error {code}: {message}", "zh-TW": "錯誤 {code}：{message}"},
    "cancelled": {"en": "Import {id} cancelled.", "zh-TW": "匯入 {id} 已取消。"},
    "restarted": {"en": "Import {id} restarted.", "zh-TW": "匯入 {id} 已重新開始。"},
}


class Output:
    def __init__(self, as_json: bool = False, language: str = "en"):
        self.as_json = as_json
        self.language = language
        self.out = Console(highlight=False, **_size(sys.stdout, UNBOUNDED))
        self.err = Console(stderr=True, highlight=False, soft_wrap=True, **_size(sys.stderr, 120))

    def text(self, key: str, **params: Any) -> str:
        templates = MESSAGES[key]
        return templates.get(self.language, templates["en"]).format(**params)

    def say(self, key: str, **params: Any) -> None:
        """A result in words (stdout), not shown with --json (the JSON says it)."""
        if not self.as_json:
            self.out.print(self.text(key, **params), markup=False)

    def note(self, key: str, **params: Any) -> None:
        """A hint or a step (stderr), also with --json."""
        self.err.print(self.text(key, **params), markup=False)

    def json(self, value: Any) -> None:
        print(json.dumps(value, ensure_ascii=False, indent=2))

    def table(self, rows: Iterable[dict], columns: Sequence[str], title: str | None = None) -> None:
        table = Table(title=title, show_lines=False)
        for column in columns:
            table.add_column(column, overflow="fold", justify="right" if _is_count(column) else "left")
        for row in rows:
            table.add_row(*(_cell(row.get(column), _is_count(column)) for column in columns))
        self.out.print(table)

    def fields(self, item: dict, title: str | None = None) -> None:
        """One object as a two-column table (nested values as JSON)."""
        table = Table(title=title, show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for name, value in item.items():
            table.add_row(Text(name), _cell(value, _is_count(name)))
        self.out.print(table)


# Piped or captured, or a terminal that does not say its size: tables are never cut (a table is only
# as wide as its cells; nothing is padded to this width).
UNBOUNDED = 100_000


def _size(stream: TextIO, otherwise: int) -> dict[str, int]:
    """Width: COLUMNS when set, else the terminal's, else `otherwise`; height: the terminal's, else 25.
    Both are given to rich: without a height it would answer 80 columns for TERM=dumb (an editor's or
    CI's terminal), as it does for a terminal of unknown size, cutting every table."""
    width, height = otherwise, 25
    try:
        if stream.isatty() and (size := os.get_terminal_size(stream.fileno())).columns > 0:
            width, height = size.columns, size.lines or height
    except (OSError, ValueError):  # no file descriptor (a captured stream), or not a terminal
        pass
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        width = int(columns)
    return {"width": width, "height": height}


def _is_count(column: str) -> bool:
    """Counts (`total_count`, `record_count`, `processed_amount`...) get thousands separators; row and
    line numbers do not, as a spreadsheet shows them."""
    return column.endswith(("_count", "_amount"))


def _cell(value: Any, count: bool = False) -> Text:
    # Text, not str: a value like "[red]" is data, not rich markup.
    if value is None:
        return Text("")
    if count and isinstance(value, int) and not isinstance(value, bool):
        return Text(f"{value:,}")
    if isinstance(value, dict | list):
        return Text(json.dumps(value, ensure_ascii=False))
    return Text(str(value))
