// A new import: drop a file, pick a recipe (or make one from the file's suggested mapping), preview it
// as a dry run, then import it with an upload bar and follow it on its page.
import { useEffect, useState } from "preact/hooks";
import {
  ApiError,
  type MultipartTicket,
  TERMINAL,
  type UploadTicket,
  allPages,
  get,
  patch,
  post,
  upload,
  uploadInParts,
} from "../api";
import { locale, t } from "../i18n";
import { type FileOptions, FileOptionsFields, fileOptionsOf, recipeOptions, sameReading } from "../file-options";
import { may, navigate } from "../state";
import { ErrorBox, Field, FieldOptions, ModeSelect, ProgressBar, useLoad, withChanged } from "../ui";
import { FailuresTable, OutcomesView, SampleTable } from "./import";

const SUGGEST_MAX_BYTES = 4 * 1024 * 1024; // what POST /recipes/suggest takes in one request
const SAMPLE_BYTES = 1024 * 1024;

/** What to send to /recipes/suggest: the file, or for a big text file its first lines. */
async function suggestionSample(file: File): Promise<Blob | null> {
  if (file.size <= SUGGEST_MAX_BYTES) return file;
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  const zipped = (head[0] === 0x1f && head[1] === 0x8b) || (head[0] === 0x50 && head[1] === 0x4b);
  if (zipped) return null;
  const bytes = new Uint8Array(await file.slice(0, SAMPLE_BYTES).arrayBuffer());
  const lastNewline = bytes.lastIndexOf(0x0a);
  return new Blob([bytes.slice(0, lastNewline > 0 ? lastNewline + 1 : bytes.length)]);
}

const kilobytes = (bytes: number) =>
  new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(bytes / 1024);

function DropZone({ file, onFile }: { file: File | null; onFile: (file: File) => void }) {
  const [over, setOver] = useState(false);
  return (
    <div
      class={`drop-zone${over ? " over" : ""}`}
      data-testid="drop-zone"
      onDragOver={(e) => (e.preventDefault(), setOver(true))}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const dropped = e.dataTransfer?.files?.[0];
        if (dropped) onFile(dropped);
      }}
    >
      <p class="drop-title">{t("drop_title")}</p>
      <p class="hint">{t("drop_hint")}</p>
      <label class="button">
        {t("choose_file")}
        <input
          type="file"
          class="visually-hidden"
          accept=".csv,.tsv,.txt,.xlsx,.gz,text/csv,text/tab-separated-values"
          onChange={(e) => {
            const chosen = e.currentTarget.files?.[0];
            if (chosen) onFile(chosen);
          }}
        />
      </label>
      {file ? (
        <p class="chosen" data-testid="chosen-file">
          {file.name} · {kilobytes(file.size)} KB
        </p>
      ) : null}
    </div>
  );
}

interface Suggestion {
  columns: { source: string | number; target: string; confidence: number; reason: string }[];
  unmapped_sources: (string | number)[];
  missing_required: string[];
  options: { has_header: boolean; delimiter: string | null; encoding: string | null; sheet: string | null; header_row?: number };
}

function MakeRecipe({ file, onSaved }: { file: File; onSaved: (recipe: any) => void }) {
  const [tables] = useLoad(() => allPages("/tables"));
  const [table, setTable] = useState("");
  const [suggestion, setSuggestion] = useState<Suggestion>();
  const [mapping, setMapping] = useState<{ source: string | number; target: string; confidence: number }[]>([]);
  const [name, setName] = useState(file.name.replace(/\.[^.]+$/, ""));
  const [mode, setMode] = useState("insert");
  const [unique, setUnique] = useState<string[]>([]);
  const [options, setOptions] = useState<FileOptions>(fileOptionsOf(null));
  const [error, setError] = useState<unknown>();
  const fields: any[] = tables?.find((x: any) => x.key === table)?.fields?.filter((f: any) => f.type !== "subtable") ?? [];

  async function suggest() {
    setError(undefined);
    const sample = await suggestionSample(file);
    if (!sample) return setError(new Error(t("too_big_to_suggest")));
    const form = new FormData();
    form.append("table", table);
    form.append("file", sample, file.name);
    try {
      const answer: Suggestion = (await post("/recipes/suggest", form)).data;
      setSuggestion(answer);
      // Whether Suggest found a header; delimiter and encoding stay detected file by file (Suggest read
      // a sample, the file's head) and every visible sheet is read, unless the user says otherwise.
      // The header row it found below a report's title, too.
      setOptions(fileOptionsOf({ has_header: answer.options.has_header, header_row: answer.options.header_row }));
      const mapped = answer.columns.map((c) => ({ source: c.source, target: c.target, confidence: c.confidence }));
      const rest = answer.unmapped_sources.map((source) => ({ source, target: "", confidence: 0 }));
      setMapping([...mapped, ...rest]);
    } catch (e) {
      setError(e);
    }
  }

  async function save() {
    setError(undefined);
    try {
      const recipe = (
        await post("/recipes", {
          name,
          table,
          mode,
          columns: mapping.filter((m) => m.target).map((m) => ({ source: m.source, target: m.target })),
          unique_columns: mode === "insert" ? [] : unique,
          options: recipeOptions(options),
        })
      ).data;
      onSaved(recipe);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <div class="card">
      <div class="filters">
        <Field label={t("suggest_for_table")}>
          <select name="suggest-table" value={table} onChange={(e) => setTable(e.currentTarget.value)}>
            <option value="" />
            {(tables ?? []).map((x: any) => (
              <option key={x.key} value={x.key}>
                {x.name ? `${x.name} (${x.key})` : x.key}
              </option>
            ))}
          </select>
        </Field>
        <button type="button" disabled={!table} onClick={suggest}>
          {t("suggest")}
        </button>
      </div>
      {suggestion ? (
        <>
          <table class="list" data-testid="mapping">
            <thead>
              <tr>
                <th>{t("column")}</th>
                <th>{t("field")}</th>
                <th>{t("confidence")}</th>
              </tr>
            </thead>
            <tbody>
              {mapping.map((m, i) => (
                <tr key={String(m.source)}>
                  <td>{String(m.source)}</td>
                  <td>
                    <select
                      aria-label={`${t("field")}: ${m.source}`}
                      value={m.target}
                      onChange={(e) => setMapping(withChanged(mapping, i, { target: e.currentTarget.value }))}
                    >
                      <option value="">{t("skip_column")}</option>
                      <FieldOptions fields={fields} />
                    </select>
                  </td>
                  <td class="num">{m.target ? `${Math.round(m.confidence * 100)}%` : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {suggestion.missing_required.length ? (
            <p class="warning">{t("missing_required", { fields: suggestion.missing_required.join(", ") })}</p>
          ) : null}
          <div class="filters">
            <Field label={t("recipe_name")}>
              <input name="recipe-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
            </Field>
            <ModeSelect value={mode} onChange={setMode} />
          </div>
          <FileOptionsFields value={options} onChange={setOptions} />
          {mode !== "insert" ? (
            <fieldset>
              <legend>{t("unique_columns")}</legend>
              {mapping
                .filter((m) => m.target)
                .map((m) => (
                  <label key={m.target} class="check">
                    <input
                      type="checkbox"
                      checked={unique.includes(m.target)}
                      onChange={(e) =>
                        setUnique(
                          e.currentTarget.checked ? [...unique, m.target] : unique.filter((u) => u !== m.target),
                        )
                      }
                    />
                    {m.target}
                  </label>
                ))}
            </fieldset>
          ) : null}
          <button type="button" class="primary" onClick={save}>
            {t("save_recipe")}
          </button>
        </>
      ) : null}
      <ErrorBox error={error} />
    </div>
  );
}

// A file this large goes in parts, which resume after a reload when the same file is picked again;
// smaller ones in one POST.
const PARTS_FROM_BYTES = 16 * 1024 * 1024;
const RESUME_STORAGE = "bulkimport.upload.";

/** What names a picked file across reloads: its name, size and modification time. */
function fingerprint(file: File): string {
  return `${RESUME_STORAGE}${file.name}|${file.size}|${file.lastModified}`;
}

/** Upload in parts: resuming the import an earlier page started for the same file and settings,
 * when it still waits for its parts; else a new import. */
async function createAndUploadInParts(
  body: Record<string, unknown>,
  file: File,
  onProgress: (f: number) => void,
) {
  const remembered = localStorage.getItem(fingerprint(file));
  const settings = JSON.stringify(body);
  if (remembered) {
    const { id, request } = JSON.parse(remembered);
    if (request === settings) {
      try {
        const state = (await get(`/imports/${id}/upload`)).data;
        const started = await uploadInParts(id, state, file, state.parts, onProgress);
        localStorage.removeItem(fingerprint(file));
        return started;
      } catch (e) {
        // Gone, finished or expired: a new import. A failed part: stay resumable.
        if (!(e instanceof ApiError) || ![404, 409].includes(e.status)) throw e;
      }
    }
    localStorage.removeItem(fingerprint(file));
  }
  const created = (await post("/imports", { ...body, file_size: file.size, upload_method: "multipart" })).data;
  localStorage.setItem(fingerprint(file), JSON.stringify({ id: created.id, request: settings }));
  const started = await uploadInParts(created.id, created.upload as MultipartTicket, file, [], onProgress);
  localStorage.removeItem(fingerprint(file));
  return started;
}

/** Create the import (JSON), upload its file to the ticket with a bar: the created import. */
async function createAndUpload(
  recipeId: string,
  file: File,
  dryRun: boolean,
  hasHeader: boolean,
  headerRow: number,
  onProgress: (f: number) => void,
) {
  const body = { recipe_id: recipeId, file_name: file.name, dry_run: dryRun, has_header: hasHeader, header_row: headerRow };
  if (file.size >= PARTS_FROM_BYTES) return createAndUploadInParts(body, file, onProgress);
  const created = (await post("/imports", body)).data;
  await upload(created.upload as UploadTicket, file, onProgress);
  return created;
}

export function NewImportPage() {
  const [file, setFile] = useState<File | null>(null);
  const [recipes, , reloadRecipes] = useLoad(() => allPages("/recipes"));
  const [recipeId, setRecipeId] = useState("");
  const recipe = (recipes ?? []).find((r: any) => r.id === recipeId);
  const [options, setOptions] = useState<FileOptions>(fileOptionsOf(null));
  useEffect(() => setOptions(fileOptionsOf(recipe?.options)), [recipe]);
  const [making, setMaking] = useState(false);
  const [uploaded, setUploaded] = useState<number | null>(null);
  const [preview, setPreview] = useState<any>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  /** An admin's changes to how the file is read are saved to the recipe first: the import runs with
   * the recipe's options (an import itself takes only `has_header` and `header_row`). */
  async function saveOptions() {
    if (!recipe || !may("admin") || sameReading(options, fileOptionsOf(recipe.options))) return;
    await patch(`/recipes/${recipe.id}`, { options: recipeOptions(options) });
    reloadRecipes();
  }

  async function runPreview() {
    if (!file) return;
    setBusy(true);
    setError(undefined);
    setPreview(undefined);
    try {
      await saveOptions();
      const created = await createAndUpload(recipeId, file, true, options.has_header, options.header_row, setUploaded);
      let item = created;
      while (!TERMINAL.has(item.status)) {
        await new Promise((resolve) => setTimeout(resolve, 700));
        item = (await get(`/imports/${created.id}`)).data;
        setPreview(item);
      }
      setPreview(item);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setUploaded(null);
    }
  }

  async function runImport() {
    if (!file) return;
    setBusy(true);
    setError(undefined);
    try {
      await saveOptions();
      const created = await createAndUpload(recipeId, file, false, options.has_header, options.header_row, setUploaded);
      navigate(`/imports/${created.id}`);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  return (
    <section>
      <h1>{t("nav_new_import")}</h1>
      <h2>{t("step_file")}</h2>
      <DropZone
        file={file}
        onFile={(next) => {
          setFile(next);
          setPreview(undefined);
              }}
      />
      {file ? (
        <>
          <h2>{t("step_recipe")}</h2>
          <div class="filters">
            <Field label={t("pick_recipe")}>
              <select name="recipe" value={recipeId} onChange={(e) => setRecipeId(e.currentTarget.value)}>
                <option value="" />
                {(recipes ?? []).map((r: any) => (
                  <option key={r.id} value={r.id}>
                    {r.name} ({r.table})
                  </option>
                ))}
              </select>
            </Field>
            <button type="button" onClick={() => setMaking(!making)} aria-expanded={making}>
              {t("make_recipe")}
            </button>
          </div>
          {recipe ? <FileOptionsFields value={options} onChange={setOptions} lockReading={!may("admin")} /> : null}
          {making ? (
            <MakeRecipe
              file={file}
              onSaved={(recipe) => {
                setMaking(false);
                reloadRecipes();
                setRecipeId(recipe.id);
              }}
            />
          ) : null}
        </>
      ) : null}
      {file && recipeId ? (
        <>
          <h2>{t("step_preview")}</h2>
          <p class="hint">{t("preview_intro")}</p>
          <div class="actions">
            <button type="button" disabled={busy} onClick={runPreview}>
              {t("preview")}
            </button>
            <button type="button" class="primary" disabled={busy} onClick={runImport}>
              {t("start_import")}
            </button>
          </div>
          {uploaded !== null ? <ProgressBar value={uploaded * 100} label={t("uploading")} /> : null}
          {preview ? (
            <div class="card" data-testid="preview">
              {TERMINAL.has(preview.status) ? null : <p>{t("previewing")}</p>}
              <ProgressBar value={preview.progress ?? 0} label={t("progress")} />
              <OutcomesView item={preview} />
              {preview.error ? (
                <div class="error" role="alert">
                  <code>{preview.error.code}</code> {preview.error.message}
                </div>
              ) : null}
              {TERMINAL.has(preview.status) && preview.sample?.length ? (
                <>
                  <h3>{t("sample")}</h3>
                  <SampleTable sample={preview.sample} />
                </>
              ) : null}
              {TERMINAL.has(preview.status) ? (
                <>
                  <h3>{t("failures")}</h3>
                  <FailuresTable importId={preview.id} />
                </>
              ) : null}
            </div>
          ) : null}
        </>
      ) : null}
      <ErrorBox error={error} />
    </section>
  );
}
