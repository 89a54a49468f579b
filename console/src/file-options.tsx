// How a file is read (a recipe's `options`): its header and header row, delimiter, encoding and sheet. The same
// controls on the recipe made from a file, on a picked recipe before its import, and on the recipes page.
import { t } from "./i18n";
import { Field } from "./ui";

export interface FileOptions {
  has_header: boolean;
  delimiter: string;
  encoding: string;
  sheet: string | number | null;
  header_row: number; // 1-based: the rows above it (a report's title) are skipped
  // Options the console does not show (added to the API later) go back to it as they came.
  [other: string]: unknown;
}

const DELIMITERS: [string, string][] = [
  ["auto", "auto"],
  [",", ", (comma)"],
  [";", "; (semicolon)"],
  ["|", "| (pipe)"],
  ["\t", "tab"],
];
// Codecs a user most often needs to name (docs/API.md: Encodings); any other codec name can be typed.
const ENCODINGS = ["auto", "utf-8", "big5", "cp950", "gb18030", "shift_jis", "euc_kr", "cp1251", "cp1252", "cp1254", "utf-16"];

/** A recipe's options as the controls show them: the API's defaults for what it left out. */
export function fileOptionsOf(options: Record<string, unknown> | null | undefined): FileOptions {
  const given = options ?? {};
  const sheet = given.sheet;
  return {
    ...given,
    has_header: given.has_header !== false,
    delimiter: typeof given.delimiter === "string" && given.delimiter ? (given.delimiter === "tab" ? "\t" : given.delimiter) : "auto",
    encoding: typeof given.encoding === "string" && given.encoding ? given.encoding : "auto",
    sheet: typeof sheet === "number" || (typeof sheet === "string" && sheet) ? sheet : null,
    header_row: typeof given.header_row === "number" ? given.header_row : 1,
  };
}

/** Whether two option sets read a file the same way (what a recipe is saved again for). */
export function sameReading(first: FileOptions, second: FileOptions): boolean {
  const [a, b] = [recipeOptions(first), recipeOptions(second)];
  return a.delimiter === b.delimiter && a.encoding === b.encoding && a.sheet === b.sheet && a.has_header === b.has_header && a.header_row === b.header_row;
}

// A sheet is named, or given by its 0-based index as #N.
const sheetText = (sheet: FileOptions["sheet"]) => (sheet === null ? "" : typeof sheet === "number" ? `#${sheet}` : sheet);
function sheetValue(text: string): FileOptions["sheet"] {
  const index = /^#(\d+)$/.exec(text.trim());
  return index ? Number(index[1]) : text || null;
}

/** The options as the API takes them (what was typed, trimmed; a blank encoding is `auto`). */
export function recipeOptions(value: FileOptions): FileOptions {
  const sheet = typeof value.sheet === "string" ? value.sheet.trim() || null : value.sheet;
  return { ...value, encoding: value.encoding.trim() || "auto", sheet };
}

export function FileOptionsFields({
  value,
  onChange,
  lockReading = false,
}: {
  value: FileOptions;
  onChange: (next: FileOptions) => void;
  /** Only the header can change (an editor's import: the rest is the recipe's, which admins edit). */
  lockReading?: boolean;
}) {
  const delimiters = DELIMITERS.some(([d]) => d === value.delimiter) ? DELIMITERS : [...DELIMITERS, [value.delimiter, value.delimiter]];
  return (
    <fieldset class="file-options" data-testid="file-options">
      <legend>{t("file_options")}</legend>
      <label class="check">
        <input
          type="checkbox"
          name="has-header"
          checked={value.has_header}
          onChange={(e) => onChange({ ...value, has_header: e.currentTarget.checked })}
        />
        {t("has_header")}
      </label>
      <div class="filters">
        <Field label={t("header_row")}>
          {/* Not locked: an import may give its own (a bad number gets the API's VALIDATION_ERROR). */}
          <input
            type="number"
            name="header-row"
            min={1}
            step={1}
            value={value.header_row}
            onInput={(e) => onChange({ ...value, header_row: e.currentTarget.value === "" ? 1 : Number(e.currentTarget.value) })}
          />
        </Field>
        <Field label={t("delimiter")}>
          <select name="delimiter" disabled={lockReading} value={value.delimiter} onChange={(e) => onChange({ ...value, delimiter: e.currentTarget.value })}>
            {delimiters.map(([d, label]) => (
              <option key={d} value={d}>
                {d === "auto" ? t("auto_detect") : label}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t("encoding")}>
          <input
            name="encoding"
            disabled={lockReading}
            list="encodings"
            value={value.encoding}
            onInput={(e) => onChange({ ...value, encoding: e.currentTarget.value })}
          />
          <datalist id="encodings">
            {ENCODINGS.map((e) => (
              <option key={e} value={e} />
            ))}
          </datalist>
        </Field>
        <Field label={t("sheet")}>
          <input
            name="sheet"
            disabled={lockReading}
            placeholder={t("every_sheet")}
            value={sheetText(value.sheet)}
            onInput={(e) => onChange({ ...value, sheet: sheetValue(e.currentTarget.value) })}
          />
        </Field>
      </div>
      <p class="hint">{t(lockReading ? "file_options_viewer" : "file_options_hint")}</p>
    </fieldset>
  );
}
