// Tables: view their fields, create one, edit its name and fields (admins).
import { useState } from "preact/hooks";
import { allPages, patch, post } from "../api";
import { t } from "../i18n";
import { may } from "../state";
import { ErrorBox, Field, FormButtons, RemoveCell, amount, useLoad, withChanged } from "../ui";

const TYPES = ["string", "integer", "number", "boolean", "date", "datetime", "email", "phone", "enum"];

interface FieldSpec {
  key: string;
  label?: string | null;
  type: string;
  required?: boolean;
  unique?: boolean;
  max_length?: number | null;
  options?: string[] | null;
  fields?: unknown;
}

function TableForm({ table, onDone }: { table: any | null; onDone: () => void }) {
  const [key, setKey] = useState(table?.key ?? "");
  const [name, setName] = useState(table?.name ?? "");
  const [fields, setFields] = useState<FieldSpec[]>(table?.fields ?? [{ key: "", type: "string" }]);
  const [error, setError] = useState<unknown>();
  const change = (i: number, part: Partial<FieldSpec>) => setFields(withChanged(fields, i, part));
  async function save(event: Event) {
    event.preventDefault();
    setError(undefined);
    const clean = fields.map((f) => {
      const spec: any = { ...f };
      for (const attr of ["label", "max_length", "options", "fields"]) if (spec[attr] == null) delete spec[attr];
      if (spec.type !== "enum") delete spec.options;
      return spec;
    });
    try {
      if (table) await patch(`/tables/${table.key}`, { name: name || null, fields: clean });
      else await post("/tables", { key, name: name || null, fields: clean });
      onDone();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <form class="card" onSubmit={save}>
      <h2>{table ? t("edit_table", { key: table.key }) : t("new_table")}</h2>
      <div class="filters">
        <Field label={t("key")}>
          <input name="table-key" value={key} disabled={!!table} required onInput={(e) => setKey(e.currentTarget.value)} />
        </Field>
        <Field label={t("name")}>
          <input name="table-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
      </div>
      <table class="list">
        <thead>
          <tr>
            <th>{t("key")}</th>
            <th>{t("label")}</th>
            <th>{t("type")}</th>
            <th>{t("required")}</th>
            <th>{t("unique")}</th>
            <th>{t("options")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {fields.map((f, i) => (
            <tr key={i}>
              <td>
                <input aria-label={t("key")} value={f.key} required onInput={(e) => change(i, { key: e.currentTarget.value })} />
              </td>
              <td>
                <input aria-label={t("label")} value={f.label ?? ""} onInput={(e) => change(i, { label: e.currentTarget.value || null })} />
              </td>
              <td>
                {f.type === "subtable" ? (
                  "subtable"
                ) : (
                  <select aria-label={t("type")} value={f.type} onChange={(e) => change(i, { type: e.currentTarget.value })}>
                    {TYPES.map((type) => (
                      <option key={type}>{type}</option>
                    ))}
                  </select>
                )}
              </td>
              <td>
                <input type="checkbox" aria-label={t("required")} checked={!!f.required} onChange={(e) => change(i, { required: e.currentTarget.checked })} />
              </td>
              <td>
                <input type="checkbox" aria-label={t("unique")} checked={!!f.unique} onChange={(e) => change(i, { unique: e.currentTarget.checked })} />
              </td>
              <td>
                {f.type === "enum" ? (
                  <input
                    aria-label={t("options")}
                    value={(f.options ?? []).join(", ")}
                    onInput={(e) => change(i, { options: e.currentTarget.value.split(",").map((o) => o.trim()).filter(Boolean) })}
                  />
                ) : null}
              </td>
              <RemoveCell onRemove={() => setFields(fields.filter((_, j) => j !== i))} />
            </tr>
          ))}
        </tbody>
      </table>
      <FormButtons
        addLabel={t("add_field")}
        onAdd={() => setFields([...fields, { key: "", type: "string" }])}
        onCancel={onDone}
      />
      <ErrorBox error={error} />
    </form>
  );
}

export function TablesPage() {
  const [tables, error, reload] = useLoad(() => allPages("/tables"));
  const [editing, setEditing] = useState<any | null | undefined>(undefined);
  const [open, setOpen] = useState<string>();
  const admin = may("admin");
  return (
    <section>
      <div class="title-row">
        <h1>{t("nav_tables")}</h1>
        {admin ? (
          <button type="button" onClick={() => setEditing(null)}>
            {t("new_table")}
          </button>
        ) : null}
      </div>
      {editing !== undefined ? <TableForm table={editing} onDone={() => (setEditing(undefined), reload())} /> : null}
      <ErrorBox error={error} />
      {!tables ? (
        <p>{t("loading")}</p>
      ) : tables.length === 0 ? (
        <p>{t("none")}</p>
      ) : (
        <table class="list" data-testid="tables">
          <thead>
            <tr>
              <th>{t("key")}</th>
              <th>{t("name")}</th>
              <th>{t("fields")}</th>
              <th>{t("records")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tables.map((table: any) => (
              <>
                <tr key={table.key}>
                  <td>
                    <button type="button" class="link" aria-expanded={open === table.key} onClick={() => setOpen(open === table.key ? undefined : table.key)}>
                      {table.key}
                    </button>
                  </td>
                  <td>{table.name}</td>
                  <td class="num">{table.fields.length}</td>
                  <td class="num">{amount(table.record_count)}</td>
                  <td>
                    {admin ? (
                      <button type="button" onClick={() => setEditing(table)}>
                        {t("edit")}
                      </button>
                    ) : null}
                  </td>
                </tr>
                {open === table.key ? (
                  <tr key={`${table.key}-fields`}>
                    <td colSpan={5}>
                      <ul class="field-list">
                        {table.fields.map((f: FieldSpec) => (
                          <li key={f.key}>
                            <code>{f.key}</code> {f.label && f.label !== f.key ? `“${f.label}”` : ""} · {f.type}
                            {f.required ? ` · ${t("required")}` : ""}
                            {f.unique ? ` · ${t("unique")}` : ""}
                            {f.options ? ` · ${f.options.join(" / ")}` : ""}
                          </li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                ) : null}
              </>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
