"""User-facing messages, by stable code, in English and Traditional Chinese.

Codes never change; only the wording here does. Row failures and API errors are stored with their code
and parameters and rendered in the reader's language when they are shown.
"""

from typing import Any

DEFAULT_LANGUAGE = "en"

MESSAGES: dict[str, dict[str, str]] = {
    # Row failures
    "REQUIRED": {
        "en": "{field} is required.",
        "zh-TW": "{field} 為必填欄位。",
    },
    "INVALID_NUMBER": {
        "en": "{field} must be a number, got '{value}'.",
        "zh-TW": "{field} 必須是數字，收到「{value}」。",
    },
    "INVALID_INTEGER": {
        "en": "{field} must be a whole number, got '{value}'.",
        "zh-TW": "{field} 必須是整數，收到「{value}」。",
    },
    "INVALID_BOOLEAN": {
        "en": "{field} must be true or false, got '{value}'.",
        "zh-TW": "{field} 必須是 true 或 false，收到「{value}」。",
    },
    "INVALID_DATE": {
        "en": "{field} must be a date like 2026-11-22, got '{value}'.",
        "zh-TW": "{field} 必須是日期（例如 2026-11-22），收到「{value}」。",
    },
    "INVALID_DATETIME": {
        "en": "{field} must be a date and time like 2026-11-22T03:56:39Z, got '{value}'.",
        "zh-TW": "{field} 必須是日期時間（例如 2026-11-22T03:56:39Z），收到「{value}」。",
    },
    "INVALID_EMAIL": {
        "en": "{field} must be an email address, got '{value}'.",
        "zh-TW": "{field} 必須是電子郵件地址，收到「{value}」。",
    },
    "INVALID_PHONE": {
        "en": "{field} must be a phone number, got '{value}'.",
        "zh-TW": "{field} 必須是電話號碼，收到「{value}」。",
    },
    "NOT_IN_OPTIONS": {
        "en": "{field} must be one of {options}, got '{value}'.",
        "zh-TW": "{field} 必須是 {options} 其中之一，收到「{value}」。",
    },
    "TOO_LONG": {
        "en": "{field} must be at most {max_length} characters.",
        "zh-TW": "{field} 最多 {max_length} 個字元。",
    },
    # Row failures of a table's and a recipe's rules (v1.2: cleaning data on the way in)
    "PATTERN_MISMATCH": {
        "en": "{field} must match the pattern {pattern}, got '{value}'.",
        "zh-TW": "{field} 必須符合格式 {pattern}，收到「{value}」。",
    },
    "OUT_OF_RANGE": {
        "en": "{field} must be {range}, got '{value}'.",
        "zh-TW": "{field} 必須在範圍 {range} 之內，收到「{value}」。",
    },
    "TOO_SHORT": {
        "en": "{field} must be at least {min_length} characters, got '{value}'.",
        "zh-TW": "{field} 至少需要 {min_length} 個字元，收到「{value}」。",
    },
    "NOT_MAPPED": {
        "en": "{field}: '{value}' is not one of the values the recipe maps.",
        "zh-TW": "{field}：「{value}」不在匯入範本的對照表中。",
    },
    "REQUIRED_BY_RULE": {
        "en": "{field} is required when {when_field} is '{when_value}'.",
        "zh-TW": "當 {when_field} 為「{when_value}」時，{field} 為必填欄位。",
    },
    "RULE_FAILED": {
        "en": "{field} must be {op} {other} ('{other_value}'), got '{value}'.",
        "zh-TW": "{field} 必須 {op} {other}（「{other_value}」），收到「{value}」。",
    },
    "COLUMN_COUNT_MISMATCH": {
        "en": "Row has {actual} columns, the header has {expected}.",
        "zh-TW": "此列有 {actual} 欄，標題列有 {expected} 欄。",
    },
    "FORMULA_NOT_CALCULATED": {
        "en": "{field} is a formula saved without its value; open the file in Excel, let it calculate, save and import it again.",
        "zh-TW": "{field} 是未儲存計算結果的公式；請以 Excel 開啟檔案、重新計算並儲存後再匯入。",
    },
    "DUPLICATE_IN_FILE": {
        "en": "{field} '{value}' repeats row {first_row} of this file.",
        "zh-TW": "{field}「{value}」與本檔第 {first_row} 列重複。",
    },
    "ALREADY_EXISTS": {
        "en": "A record with {field} '{value}' already exists.",
        "zh-TW": "已存在 {field} 為「{value}」的資料。",
    },
    "UNIQUE_KEY_FIXED": {
        "en": "{field} is the key this table keeps its records by and cannot change (here to '{value}'): "
        "delete the record and create it with the new value.",
        "zh-TW": "{field} 是此資料表存放資料所依的鍵，無法更改（此處改為「{value}」）：請刪除該筆資料，再以新值建立。",
    },
    "KEY_FIELD_NEEDS_EMPTY_TABLE": {
        "en": "Table '{table}' keeps its records by its first unique field '{field}': "
        "which field that is can change only while the table is empty.",
        "zh-TW": "資料表「{table}」依第一個唯一欄位「{field}」存放資料：資料表有資料時，無法變更此欄位。",
    },
    "NOT_FOUND": {
        "en": "No record with this {field} exists to update.",
        "zh-TW": "找不到要更新的 {field} 資料。",
    },
    "PARENT_NOT_FOUND": {
        "en": "No parent record matches {field}.",
        "zh-TW": "找不到符合 {field} 的上層資料。",
    },
    "UNKNOWN_FIELD": {
        "en": "{field} is not a field of this table.",
        "zh-TW": "{field} 不是此資料表的欄位。",
    },
    "INVALID_SUBTABLE": {
        "en": "{field} must be a list of rows (objects).",
        "zh-TW": "{field} 必須是多筆資料（物件）的清單。",
    },
    "INVALID_VALUE": {
        "en": "{field} must be a single value.",
        "zh-TW": "{field} 必須是單一值。",
    },
    # File-level failures (the import fails with `error` set)
    "AUTO_COLUMNS_NEED_HEADER": {
        "en": 'The recipe maps columns by their header ("columns": "auto"), but this import has no header row.',
        "zh-TW": '匯入範本依標題列對應欄位（"columns": "auto"），但此次匯入沒有標題列。',
    },
    "MISSING_COLUMN": {
        "en": "The file lacks {count} column(s) the recipe maps: {column}; fix the header or the recipe.",
        "zh-TW": "檔案缺少匯入範本對應的 {count} 個欄位：{column}，請修正標題列或範本。",
    },
    "COLUMN_INDEX_OUT_OF_RANGE": {
        "en": "The recipe maps column index {column}, but the file has only {count} columns.",
        "zh-TW": "匯入範本對應第 {column} 欄（從 0 起算），但檔案只有 {count} 欄。",
    },
    "EMPTY_FILE": {
        "en": "The file is empty.",
        "zh-TW": "檔案是空的。",
    },
    "NO_DATA_ROWS": {
        "en": "The file has a header but no data rows.",
        "zh-TW": "檔案只有標題列，沒有資料。",
    },
    "HEADER_ROW_BEYOND_FILE": {
        "en": "The header row is set to row {header_row}, but the file's last non-blank row is row {last_row}.",
        "zh-TW": "標題列設為第 {header_row} 列，但檔案最後一個非空白列是第 {last_row} 列。",
    },
    "UNDECODABLE": {
        "en": "Line {line} is not valid {encoding} text; save the file as UTF-8 or set the recipe's encoding.",
        "zh-TW": "第 {line} 行不是有效的 {encoding} 文字，請另存為 UTF-8 或設定範本的編碼。",
    },
    "MALFORMED_CSV": {
        "en": "Line {line} is not valid CSV: {reason}.",
        "zh-TW": "第 {line} 行不是有效的 CSV：{reason}。",
    },
    "UNSUPPORTED_FILE_TYPE": {
        "en": "The file is {kind}, not CSV, TSV, XLSX or gzip'd CSV; export it as one of those and upload it again.",
        "zh-TW": "檔案是 {kind}，不是 CSV、TSV、XLSX 或以 gzip 壓縮的 CSV；請匯出為上述格式後重新上傳。",
    },
    "FILE_TOO_LARGE": {
        "en": "The file is {size} bytes; imports take at most {max_bytes}. Split it into smaller files.",
        "zh-TW": "檔案大小 {size} 位元組，匯入上限為 {max_bytes}，請分成較小的檔案。",
    },
    "QUOTA_EXCEEDED": {
        "en": "The file has {rows} rows and the tenant imported {used} of its {limit} rows today (UTC); nothing was written. Import it after midnight UTC, or ask an operator to raise rows_per_day.",
        "zh-TW": "檔案有 {rows} 列，本租戶今天（UTC）已匯入 {used} 列，每日上限 {limit} 列；未寫入任何資料。請於 UTC 午夜後再匯入，或請管理員提高 rows_per_day。",
    },
    "CORRUPT_FILE": {
        "en": "The file is damaged and cannot be read ({reason}); save or export it again.",
        "zh-TW": "檔案已損毀無法讀取（{reason}），請重新儲存或匯出。",
    },
    "UNCOMPRESSED_TOO_LARGE": {
        "en": "The compressed file expands to more than {max_bytes} bytes, or more than {ratio} times its size; upload it uncompressed or in smaller files.",
        "zh-TW": "壓縮檔解壓後超過 {max_bytes} 位元組或超過原大小的 {ratio} 倍，請上傳未壓縮或較小的檔案。",
    },
    "UNSAFE_XLSX": {
        "en": "The workbook declares XML entities, which are refused for safety; open it in Excel, save it again and upload that.",
        "zh-TW": "活頁簿含有 XML 實體宣告，基於安全理由拒絕讀取；請用 Excel 開啟後重新儲存再上傳。",
    },
    "SHEET_NOT_FOUND": {
        "en": "The workbook has no sheet '{sheet}' (it has: {sheets}); fix the recipe's sheet option (a name or a 0-based index).",
        "zh-TW": "活頁簿沒有工作表「{sheet}」（現有：{sheets}），請修正範本的 sheet 選項（名稱或從 0 起算的索引）。",
    },
    "TOO_MANY_COLUMNS": {
        "en": "Line {line} has {count} columns; at most {max_columns} are supported.",
        "zh-TW": "第 {line} 行有 {count} 欄，最多支援 {max_columns} 欄。",
    },
    "RECORD_TOO_LONG": {
        "en": "The record starting on line {line} is longer than {max_bytes} bytes; check for a quote that is never closed.",
        "zh-TW": "從第 {line} 行開始的資料超過 {max_bytes} 位元組，請檢查是否有未結束的引號。",
    },
    "FILE_NOT_FOUND": {
        "en": "The uploaded file is missing; upload it again.",
        "zh-TW": "找不到上傳的檔案，請重新上傳。",
    },
    "SOURCE_CHANGED": {
        "en": "The uploaded file was replaced after the import read it, and the file it read is gone; create a new import of the new file.",
        "zh-TW": "匯入讀取檔案後，上傳的檔案已被取代，原本讀取的檔案已不存在；請為新檔案建立新的匯入。",
    },
    "INTERNAL_ERROR": {
        "en": "The import stopped on an internal error ({reason}); restart it or contact support.",
        "zh-TW": "匯入因內部錯誤中止（{reason}），請重新啟動或聯絡客服。",
    },
    # API errors
    "UNAUTHORIZED": {
        "en": "Send a valid API key as 'Authorization: Bearer <key>'.",
        "zh-TW": "請以「Authorization: Bearer <key>」提供有效的 API 金鑰。",
    },
    "FORBIDDEN": {
        "en": "Your key's role ({role}) cannot do this; it needs {needed}.",
        "zh-TW": "您的金鑰角色（{role}）無權執行此操作，需要 {needed}。",
    },
    "VALIDATION_ERROR": {
        "en": "The request is not valid; see details.",
        "zh-TW": "請求內容不正確，請參考 details。",
    },
    "MALFORMED_REQUEST": {
        "en": "The request body could not be read: {reason}.",
        "zh-TW": "無法讀取請求內容：{reason}。",
    },
    "TABLE_NOT_FOUND": {
        "en": "No table '{table}'.",
        "zh-TW": "找不到資料表「{table}」。",
    },
    "TABLE_EXISTS": {
        "en": "A table '{table}' already exists; PATCH it or choose another key.",
        "zh-TW": "資料表「{table}」已存在，請改用 PATCH 或換一個 key。",
    },
    "RESERVED_FIELD_KEY": {
        "en": "A field may not be named '{field}': the service stores records with that name. Choose another key "
        "(reserved: {reserved}).",
        "zh-TW": "欄位不可命名為「{field}」：這是系統儲存資料時保留的名稱，請換一個 key（保留名稱：{reserved}）。",
    },
    "PARENT_TABLE_NOT_FOUND": {
        "en": "The parent table '{table}' does not exist; create it first.",
        "zh-TW": "上層資料表「{table}」不存在，請先建立。",
    },
    "TABLE_IN_USE": {
        "en": "Table '{table}' is used by {count} recipe(s) or child table(s); delete those first.",
        "zh-TW": "資料表「{table}」仍被 {count} 個範本或子資料表使用，請先刪除它們。",
    },
    "RECIPE_NOT_FOUND": {
        "en": "No recipe '{recipe_id}'.",
        "zh-TW": "找不到匯入範本「{recipe_id}」。",
    },
    "UNKNOWN_TARGET": {
        "en": "Column target '{target}' is not a field of table '{table}'.",
        "zh-TW": "欄位對應目標「{target}」不是資料表「{table}」的欄位。",
    },
    "IMPORT_NOT_FOUND": {
        "en": "No import '{import_id}'.",
        "zh-TW": "找不到匯入作業「{import_id}」。",
    },
    "RECORD_NOT_FOUND": {
        "en": "No record '{record_id}' in table '{table}'.",
        "zh-TW": "資料表「{table}」中找不到資料「{record_id}」。",
    },
    "TABLE_NOT_EMPTY": {
        "en": "Table '{table}' still holds {count} record(s); delete them with a batch_delete job first.",
        "zh-TW": "資料表「{table}」仍有 {count} 筆資料，請先以 batch_delete 作業刪除。",
    },
    "RECIPE_CHANGED": {
        "en": "Recipe '{recipe_id}' was changed by someone else meanwhile; read it again and repeat the change.",
        "zh-TW": "匯入範本「{recipe_id}」剛被其他人修改；請重新讀取後再修改一次。",
    },
    "INVALID_PATTERN": {
        "en": "The pattern '{pattern}' is not a valid RE2 regular expression: {reason}.",
        "zh-TW": "格式「{pattern}」不是有效的 RE2 正規表示式：{reason}。",
    },
    "INVALID_RULE": {
        "en": "A rule does not fit the table's fields; see details.",
        "zh-TW": "規則與資料表的欄位不符，請參考 details。",
    },
    "INVALID_RECIPE": {
        "en": "The recipe does not fit table '{table}'; see details.",
        "zh-TW": "匯入範本與資料表「{table}」不符，請參考 details。",
    },
    "INVALID_FILTER": {
        "en": "A filter names an unknown field or a value of the wrong type; see details.",
        "zh-TW": "篩選條件的欄位不存在或值的型別不符，請參考 details。",
    },
    # Lifecycle: queue, cancel, restart, schedules
    "INTERRUPTED": {
        "en": "The import stopped unexpectedly ({reason}); restart it to resume where it stopped.",
        "zh-TW": "匯入意外中斷（{reason}）；可重新啟動，從中斷處繼續。",
    },
    "IMPORT_FINISHED": {
        "en": "Import {import_id} has already finished ({state}); there is nothing to cancel.",
        "zh-TW": "匯入 {import_id} 已結束（{state}），無法取消。",
    },
    "IMPORT_NOT_RESTARTABLE": {
        "en": "Import {import_id} is {state}; only a failed or cancelled import can be restarted.",
        "zh-TW": "匯入 {import_id} 的狀態為 {state}；只有失敗或已取消的匯入可以重新啟動。",
    },
    "ALREADY_REVERTED": {
        "en": "Import {import_id} is {state}: it has been reverted already, or its revert is under way.",
        "zh-TW": "匯入 {import_id} 的狀態為 {state}：已復原，或正在復原中。",
    },
    "NOTHING_TO_REVERT": {
        "en": "Import {import_id} was a dry run: it wrote nothing, so there is nothing to revert.",
        "zh-TW": "匯入 {import_id} 為試跑（dry run），未寫入任何資料，沒有可復原的內容。",
    },
    "REVERT_EXPIRED": {
        "en": "Import {import_id} was created at {created_at}: what a revert needs is kept for {days} days, so it can no longer be reverted.",
        "zh-TW": "匯入 {import_id} 建立於 {created_at}：復原所需的資料只保留 {days} 天，因此已無法復原。",
    },
    "IMPORT_RUNNING": {
        "en": "Import {import_id} is {state}; an import can be reverted once it has finished (or cancel it first).",
        "zh-TW": "匯入 {import_id} 的狀態為 {state}；匯入結束後才能復原（或先取消它）。",
    },
    "REVERT_FAILED": {
        "en": "The revert stopped on an internal error ({reason}); revert the import again to resume where it stopped.",
        "zh-TW": "復原因內部錯誤而停止（{reason}）；再次復原此匯入即可從中斷處繼續。",
    },
    "REVERT_INTERRUPTED": {
        "en": "The revert stopped unexpectedly ({reason}); revert the import again to resume where it stopped.",
        "zh-TW": "復原意外中斷（{reason}）；再次復原此匯入即可從中斷處繼續。",
    },
    "IMPORT_STILL_STOPPING": {
        "en": "Import {import_id} is still finishing the chunks under way; restart it in a few seconds.",
        "zh-TW": "匯入 {import_id} 仍在結束進行中的區塊，請稍候幾秒再重新啟動。",
    },
    "UPLOAD_EXPIRED": {
        "en": "No file was uploaded before the upload URL expired ({expired_at}); create a new import for a new upload URL.",
        "zh-TW": "上傳網址到期（{expired_at}）前未收到檔案；請建立新的匯入以取得新的上傳網址。",
    },
    # Multipart uploads (imports.multipart)
    "UPLOAD_TOO_LARGE_FOR_POST": {
        "en": "A file of {size} bytes is over the {max_bytes} bytes one POST upload takes; create the import with upload_method multipart.",
        "zh-TW": "檔案大小 {size} 位元組，超過單次 POST 上傳上限 {max_bytes} 位元組；請以 upload_method multipart 建立匯入。",
    },
    "FILE_SIZE_REQUIRED": {
        "en": "A multipart upload needs file_size, the file's size in bytes.",
        "zh-TW": "分段上傳需要 file_size（檔案大小，位元組）。",
    },
    "FILE_TOO_SMALL_FOR_MULTIPART": {
        "en": "A file of {size} bytes is under the {min_bytes} bytes of a multipart upload; upload it with upload_method post.",
        "zh-TW": "檔案大小 {size} 位元組，小於分段上傳下限 {min_bytes} 位元組；請以 upload_method post 上傳。",
    },
    "NOT_MULTIPART": {
        "en": "Import {import_id} does not upload its file in parts.",
        "zh-TW": "匯入 {import_id} 不是分段上傳。",
    },
    "UPLOAD_CLOSED": {
        "en": "Import {import_id} is no longer waiting for its upload ({state}).",
        "zh-TW": "匯入 {import_id} 已不再等待上傳（{state}）。",
    },
    "PART_NUMBERS_REQUIRED": {
        "en": "numbers must list at least one part number.",
        "zh-TW": "numbers 至少須列出一個分段編號。",
    },
    "TOO_MANY_PART_NUMBERS": {
        "en": "{count} part numbers asked for; at most {max_count} a call.",
        "zh-TW": "要求了 {count} 個分段編號；每次最多 {max_count} 個。",
    },
    "PART_NUMBER_OUT_OF_RANGE": {
        "en": "Part {number} does not exist: this upload has parts 1 to {part_count}.",
        "zh-TW": "分段 {number} 不存在：此上傳的分段為 1 至 {part_count}。",
    },
    "DUPLICATE_PART_NUMBER": {
        "en": "Part {number} is listed more than once.",
        "zh-TW": "分段 {number} 重複列出。",
    },
    "PARTS_MISSING": {
        "en": "The upload has {part_count} parts; these are not listed: {numbers}.",
        "zh-TW": "此上傳共有 {part_count} 個分段；未列出：{numbers}。",
    },
    "PARTS_NOT_UPLOADED": {
        "en": "These parts were never uploaded: {numbers}. Upload them, then complete again.",
        "zh-TW": "這些分段尚未上傳：{numbers}。請上傳後再完成。",
    },
    "PART_ETAG_MISMATCH": {
        "en": "Part {number} has ETag {held}, not {etag}: upload it again or give the ETag its upload answered.",
        "zh-TW": "分段 {number} 的 ETag 為 {held}，而非 {etag}：請重新上傳，或提供上傳時回傳的 ETag。",
    },
    "PART_SIZE_WRONG": {
        "en": "Part {number} is {size} bytes; it must be {expected} (part_size, the last part the rest of file_size). Upload it again.",
        "zh-TW": "分段 {number} 為 {size} 位元組，應為 {expected}（part_size，最後一段為 file_size 的餘數）。請重新上傳。",
    },
    "PARTS_REFUSED": {
        "en": "S3 refused to join the parts ({reason}); read the parts with GET .../upload and upload the wrong ones again.",
        "zh-TW": "S3 拒絕合併分段（{reason}）；請以 GET .../upload 讀取分段，重新上傳有誤的分段。",
    },
    "FILE_NOT_UPLOADED": {
        "en": "The import's file was never uploaded; create a new import.",
        "zh-TW": "此匯入的檔案從未上傳，請建立新的匯入。",
    },
    "INVALID_SCHEDULED_AT": {
        "en": "scheduled_at must be a future time like 2026-11-23T02:00:00Z, got '{value}'.",
        "zh-TW": "scheduled_at 必須是未來的時間（例如 2026-11-23T02:00:00Z），收到「{value}」。",
    },
    "INVALID_SCHEDULE_EXPRESSION": {
        "en": "'{expression}' is not a schedule expression we can run: {reason}.",
        "zh-TW": "「{expression}」不是可執行的排程運算式：{reason}。",
    },
    "INVALID_TIMEZONE": {
        "en": "'{timezone}' is not a time zone; use a name like Asia/Taipei or UTC.",
        "zh-TW": "「{timezone}」不是時區，請使用如 Asia/Taipei 或 UTC 的名稱。",
    },
    "KEY_NOT_FOUND": {
        "en": "No API key {key_id}.",
        "zh-TW": "找不到 API 金鑰 {key_id}。",
    },
    "LAST_ADMIN_KEY": {
        "en": "This is the tenant's last active admin key: create another admin key before revoking it.",
        "zh-TW": "這是此租戶最後一把有效的管理員金鑰：請先建立另一把管理員金鑰再撤銷它。",
    },
    "KEY_EXISTS": {
        "en": "A key with this secret exists already: choose another secret.",
        "zh-TW": "已有使用此密鑰的金鑰：請改用其他密鑰。",
    },
    "SCHEDULE_NOT_FOUND": {
        "en": "No schedule {schedule_id}.",
        "zh-TW": "找不到排程 {schedule_id}。",
    },
    "WEBHOOK_NOT_FOUND": {
        "en": "No webhook {webhook_id}.",
        "zh-TW": "找不到 Webhook {webhook_id}。",
    },
    "WEBHOOK_URL_NOT_ALLOWED": {
        "en": "The webhook URL {url} is not allowed: {reason}. Use an https URL of a public host.",
        "zh-TW": "不允許使用 Webhook 網址 {url}：{reason}。請使用公開主機的 https 網址。",
    },
    "WEBHOOK_LIMIT_REACHED": {
        "en": "The tenant has {limit} webhooks, the most it may have: delete one before creating another.",
        "zh-TW": "此租戶已有 {limit} 個 Webhook，已達上限：請先刪除一個再建立新的。",
    },
    "WEBHOOK_DELIVERY_NOT_FOUND": {
        "en": "No delivery {delivery_id} of this webhook.",
        "zh-TW": "此 Webhook 沒有傳送紀錄 {delivery_id}。",
    },
    "WEBHOOK_DELIVERY_PENDING": {
        "en": "Delivery {delivery_id} is still being attempted: retry it once it is delivered or failed.",
        "zh-TW": "傳送 {delivery_id} 仍在嘗試中：請等它成功或失敗後再重試。",
    },
    "UNSUPPORTED_ENCODING": {
        "en": "The recipe's encoding '{encoding}' is not known; use a name such as utf-8, big5 or cp950.",
        "zh-TW": "範本指定的編碼「{encoding}」無法辨識，請使用 utf-8、big5 或 cp950 等名稱。",
    },
    "ENCODING_UNCERTAIN": {
        "en": "We cannot tell the file's encoding for sure: it reads as text in {candidates}, each giving different characters. Set the recipe's options.encoding to the one the file was saved in (for example \"{example}\"), or save the file as UTF-8, and import again.",
        "zh-TW": "無法確定檔案的編碼：以 {candidates} 讀取皆像文字，但得到的字元不同。請將範本的 options.encoding 設為檔案儲存時使用的編碼（例如「{example}」），或將檔案另存為 UTF-8 後重新匯入。",
    },
    "ATOMIC_ROWS_FAILED": {
        "en": "Nothing was written: {count} row(s) failed and the import is all-or-nothing. Fix them (see failures) and import again.",
        "zh-TW": "未寫入任何資料：有 {count} 列失敗，而此匯入為全有或全無。請修正失敗列（見 failures）後重新匯入。",
    },
    "UNIQUE_NEEDS_EMPTY_TABLE": {
        "en": "Field '{field}' can become unique only while table '{table}' is empty.",
        "zh-TW": "資料表「{table}」有資料時，欄位「{field}」無法改為唯一。",
    },
    "IMPORT_NOT_FINISHED": {
        "en": "Import '{import_id}' is still {state}; its failures file is made once it finishes.",
        "zh-TW": "匯入作業「{import_id}」仍在{state}，完成後才會產生失敗檔。",
    },
    "NO_ROW_FAILURES": {
        "en": "Import '{import_id}' failed as a whole (see its error); it has no failing rows to download.",
        "zh-TW": "匯入作業「{import_id}」整體失敗（請見 error），沒有可下載的失敗列。",
    },
    "TRANSACTION_MISMATCH": {
        "en": "transaction_id '{transaction_id}' was already used with other records; use a new transaction_id.",
        "zh-TW": "transaction_id「{transaction_id}」已用於其他資料，請使用新的 transaction_id。",
    },
    # Batch jobs and rate limits
    "RATE_LIMITED": {
        "en": "Too many requests: at most {limit} per second per tenant. Retry after {retry_after} s.",
        "zh-TW": "請求過於頻繁：每個租戶每秒最多 {limit} 次，請於 {retry_after} 秒後重試。",
    },
    "JOB_NOT_FOUND": {
        "en": "No job with batch code '{batch_code}'.",
        "zh-TW": "找不到批次代碼「{batch_code}」的作業。",
    },
    "TOTAL_MISMATCH": {
        "en": "The search matches {matched} record(s), not the {total} you sent; nothing was done. Check the search and send the current total.",
        "zh-TW": "搜尋條件符合 {matched} 筆資料，而非您送出的 {total} 筆；未執行任何變更。請確認搜尋條件並送出目前的筆數。",
    },
    "INVALID_CHANGES": {
        "en": "The changes name unknown fields or values of the wrong type; see details.",
        "zh-TW": "變更內容的欄位不存在或值的型別不符，請參考 details。",
    },
    "ALL_RECORDS_FAILED": {
        "en": "None of the {count} record(s) could be changed (for example a unique value already taken).",
        "zh-TW": "{count} 筆資料皆無法變更（例如唯一值已被使用）。",
    },
    "JOB_INTERNAL_ERROR": {
        "en": "The job stopped on an internal error ({reason}); succeeded_amount says what was done. Run it again for the rest.",
        "zh-TW": "作業因內部錯誤中止（{reason}）；succeeded_amount 為已完成的筆數，請重新執行以處理其餘資料。",
    },
    "JOB_INTERRUPTED": {
        "en": "The job stopped unexpectedly ({reason}); succeeded_amount says what was done. Run it again for the rest.",
        "zh-TW": "作業意外中斷（{reason}）；succeeded_amount 為已完成的筆數，請重新執行以處理其餘資料。",
    },
    "NOT_FOUND_ROUTE": {
        "en": "No such endpoint; see /v1/docs.",
        "zh-TW": "沒有這個端點，請參考 /v1/docs。",
    },
    "METHOD_NOT_ALLOWED": {
        "en": "This endpoint does not take this method; it takes {allowed}.",
        "zh-TW": "這個端點不接受此方法，可用的方法為 {allowed}。",
    },
    "FILE_REQUIRED": {
        "en": "A multipart import needs a 'file' part.",
        "zh-TW": "multipart 匯入需要「file」欄位。",
    },
    "PAYLOAD_TOO_LARGE": {
        "en": "The file is {size} bytes; direct uploads take at most {max_bytes}. Create the import with JSON and upload to the returned upload URL (up to {upload_max_bytes} bytes).",
        "zh-TW": "檔案大小 {size} 位元組，直接上傳上限為 {max_bytes}。請以 JSON 建立匯入，再上傳至回傳的上傳網址（上限 {upload_max_bytes} 位元組）。",
    },
    "UNSUPPORTED_MEDIA_TYPE": {
        "en": "Send the body as {accepted}.",
        "zh-TW": "請以 {accepted} 傳送請求內容。",
    },
    "INVALID_CURSOR": {
        "en": "The cursor is not valid; start again without it.",
        "zh-TW": "cursor 無效，請不帶 cursor 重新查詢。",
    },
    "INTERNAL": {
        "en": "Something went wrong on our side; try again.",
        "zh-TW": "系統發生錯誤，請再試一次。",
    },
}


def pick_language(accept_language: str | None) -> str:
    """The first supported language named in an Accept-Language header (zh-TW, zh-Hant, zh -> zh-TW)."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-TW"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE


# A file error found in one sheet of a workbook names it in front, unless its message already does.
SHEET_PREFIX = {"en": "Sheet '{sheet}': ", "zh-TW": "工作表「{sheet}」："}


def render(code: str, params: dict[str, Any] | None = None, language: str = DEFAULT_LANGUAGE) -> str:
    templates = MESSAGES.get(code)
    if templates is None:
        return code
    template = templates.get(language) or templates[DEFAULT_LANGUAGE]
    params = params or {}
    if params.get("sheet") is not None and "{sheet}" not in template:
        template = SHEET_PREFIX.get(language, SHEET_PREFIX[DEFAULT_LANGUAGE]) + template
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return templates[DEFAULT_LANGUAGE]
