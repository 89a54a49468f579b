// Recipes: view their mapping, create one, edit its name, mode and columns (admins).
import { useState } from "preact/hooks";
import { allPages, patch, post } from "../api";
import { type FileOptions, FileOptionsFields, fileOptionsOf, recipeOptions } from "../file-options";
import { t } from "../i18n";
import { may } from "../state";
import { ErrorBox, Field, FieldOptions, FormButtons, ModeSelect, RemoveCell, useLoad, withChanged } from "../ui";

interface Column {
  source: string | number;
  target: string;
  transform?: unknown[];
  default?: string;
  format?: string | { decimal: string; group: string };
  steps?: string; // the transform as the form's text (JSON), while it is edited
}

const DATE_FORMATS = ["YYYY-MM-DD", "YYYY/MM/DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "ROC"];
// The number formats the form offers, by their select value; a recipe's other one shows as it is.
const NUMBER_FORMATS: Record<string, { decimal: string; group: string }> = {
  "1.234,5": { decimal: ",", group: "." },
  "1 234,5": { decimal: ",", group: " " },
  "1,234.5": { decimal: ".", group: "," },
};

function formatValue(format: Column["format"]): string {
  if (format === undefined || typeof format === "string") return format ?? "";
  return Object.keys(NUMBER_FORMATS).find((k) => NUMBER_FORMATS[k].decimal === format.decimal && NUMBER_FORMATS[k].group === format.group) ?? JSON.stringify(format);
}

/** The column as the API takes it: only what it sets (a column without cleaning stays {source, target}). */
function columnBody(c: Column): object {
  const { steps, transform, default: fill, format, ...rest } = c;
  const body: Record<string, unknown> = { ...rest };
  const parsed = steps === undefined ? transform : steps.trim() ? JSON.parse(steps) : [];
  if (Array.isArray(parsed) && parsed.length) body.transform = parsed;
  else if (parsed !== undefined && !Array.isArray(parsed)) throw new Error(t("steps_not_list"));
  if (fill) body.default = fill;
  if (format) body.format = format;
  return body;
}

function RecipeForm({ recipe, tables, onDone }: { recipe: any | null; tables: any[]; onDone: () => void }) {
  const [name, setName] = useState(recipe?.name ?? "");
  const [table, setTable] = useState(recipe?.table ?? tables[0]?.key ?? "");
  const [mode, setMode] = useState(recipe?.mode ?? "insert");
  const [columns, setColumns] = useState<Column[]>(
    Array.isArray(recipe?.columns) ? recipe.columns : [{ source: "", target: "" }],
  );
  const [unique, setUnique] = useState<string>((recipe?.unique_columns ?? []).join(", "));
  const [options, setOptions] = useState<FileOptions>(fileOptionsOf(recipe?.options));
  const [error, setError] = useState<unknown>();
  const fields: any[] = tables.find((x) => x.key === table)?.fields ?? [];
  const change = (i: number, part: Partial<Column>) => setColumns(withChanged(columns, i, part));
  async function save(event: Event) {
    event.preventDefault();
    setError(undefined);
    let cleaned: object[];
    try {
      cleaned = columns.map(columnBody);
    } catch (e) {
      setError(e instanceof SyntaxError ? new Error(`${t("steps")}: ${e.message}`) : e);
      return;
    }
    const body = {
      name,
      mode,
      columns: cleaned,
      unique_columns: unique.split(",").map((u) => u.trim()).filter(Boolean),
      options: recipeOptions(options),
    };
    try {
      if (recipe) await patch(`/recipes/${recipe.id}`, body);
      else await post("/recipes", { ...body, table });
      onDone();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <form class="card" onSubmit={save}>
      <h2>{recipe ? t("edit_recipe") : t("new_recipe")}</h2>
      <div class="filters">
        <Field label={t("name")}>
          <input name="recipe-name" value={name} required onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label={t("table")}>
          <select value={table} disabled={!!recipe} onChange={(e) => setTable(e.currentTarget.value)}>
            {tables.map((x) => (
              <option key={x.key} value={x.key}>
                {x.key}
              </option>
            ))}
          </select>
        </Field>
        <ModeSelect value={mode} onChange={setMode} />
        <Field label={t("unique_columns")}>
          <input value={unique} onInput={(e) => setUnique(e.currentTarget.value)} />
        </Field>
      </div>
      <FileOptionsFields value={options} onChange={setOptions} />
      <table class="list">
        <thead>
          <tr>
            <th>{t("source")}</th>
            <th>{t("target")}</th>
            <th>{t("steps")}</th>
            <th>{t("column_format")}</th>
            <th>{t("default_value")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {columns.map((c, i) => (
            <tr key={i}>
              <td>
                <input aria-label={t("source")} value={String(c.source)} required onInput={(e) => change(i, { source: e.currentTarget.value })} />
              </td>
              <td>
                <select aria-label={t("target")} value={c.target} onChange={(e) => change(i, { target: e.currentTarget.value })}>
                  <option value="" />
                  <option value="_id">_id</option>
                  <FieldOptions fields={fields} />
                </select>
              </td>
              <td>
                <input
                  aria-label={t("steps")}
                  placeholder='["trim"]'
                  value={c.steps ?? (c.transform?.length ? JSON.stringify(c.transform) : "")}
                  onInput={(e) => change(i, { steps: e.currentTarget.value })}
                />
              </td>
              <td>
                <select
                  aria-label={t("column_format")}
                  value={formatValue(c.format)}
                  onChange={(e) => {
                    const value = e.currentTarget.value;
                    change(i, { format: NUMBER_FORMATS[value] ?? (value || undefined) });
                  }}
                >
                  <option value="" />
                  {DATE_FORMATS.map((f) => (
                    <option key={f} value={f}>
                      {f}
                    </option>
                  ))}
                  {Object.keys(NUMBER_FORMATS).map((f) => (
                    <option key={f} value={f}>
                      {f}
                    </option>
                  ))}
                  {c.format && typeof c.format !== "string" && !Object.keys(NUMBER_FORMATS).includes(formatValue(c.format)) ? (
                    <option value={formatValue(c.format)}>{formatValue(c.format)}</option>
                  ) : null}
                </select>
              </td>
              <td>
                <input aria-label={t("default_value")} value={c.default ?? ""} onInput={(e) => change(i, { default: e.currentTarget.value })} />
              </td>
              <RemoveCell onRemove={() => setColumns(columns.filter((_, j) => j !== i))} />
            </tr>
          ))}
        </tbody>
      </table>
      <FormButtons
        addLabel={t("add_column")}
        onAdd={() => setColumns([...columns, { source: "", target: "" }])}
        onCancel={onDone}
      />
      <ErrorBox error={error} />
    </form>
  );
}

/** A column as the list shows it: source → target, then its steps, format and default. */
function columnSummary(c: Column & { sources?: (string | number)[]; join?: string }): string {
  const source = c.sources ? c.sources.join(" + ") : String(c.source);
  const steps = (c.transform ?? []).map((s) => (typeof s === "string" ? s : Object.keys(s as object)[0]));
  const extra = [
    steps.length ? steps.join(", ") : "",
    c.format ? `${t("column_format")} ${formatValue(c.format)}` : "",
    c.default ? `${t("default_value")} "${c.default}"` : "",
  ].filter(Boolean);
  return `${source} → ${c.target}` + (extra.length ? ` (${extra.join("; ")})` : "");
}

export function RecipesPage() {
  const [recipes, error, reload] = useLoad(() => allPages("/recipes"));
  const [tables] = useLoad(() => allPages("/tables"));
  const [editing, setEditing] = useState<any | null | undefined>(undefined);
  const admin = may("admin");
  return (
    <section>
      <div class="title-row">
        <h1>{t("nav_recipes")}</h1>
        {admin && tables?.length ? (
          <button type="button" onClick={() => setEditing(null)}>
            {t("new_recipe")}
          </button>
        ) : null}
      </div>
      {editing !== undefined && tables ? (
        <RecipeForm recipe={editing} tables={tables} onDone={() => (setEditing(undefined), reload())} />
      ) : null}
      <ErrorBox error={error} />
      {!recipes ? (
        <p>{t("loading")}</p>
      ) : recipes.length === 0 ? (
        <p>{t("none")}</p>
      ) : (
        <table class="list" data-testid="recipes">
          <thead>
            <tr>
              <th>{t("name")}</th>
              <th>{t("table")}</th>
              <th>{t("mode")}</th>
              <th>{t("columns")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {recipes.map((recipe: any) => (
              <tr key={recipe.id}>
                <td>{recipe.name}</td>
                <td>{recipe.table}</td>
                <td>{recipe.mode}</td>
                <td class="wrap">
                  {Array.isArray(recipe.columns)
                    ? recipe.columns.map(columnSummary).join(" · ")
                    : "auto"}
                </td>
                <td>
                  {admin ? (
                    <button type="button" onClick={() => setEditing(recipe)}>
                      {t("edit")}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
