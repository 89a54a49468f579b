// Small pieces every page uses.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { dateTime, num, statusLabel, t } from "./i18n";

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : null;
  return (
    <div class="error" role="alert">
      {api ? <code>{api.code}</code> : null} {error instanceof Error ? error.message : String(error)}
      {api && api.details.length ? (
        <ul>
          {api.details.map((detail, i) => (
            <li key={i}>{JSON.stringify(detail)}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const percent = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <div class="progress">
      <div
        class="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <div class="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <span class="progress-text">{percent}%</span>
    </div>
  );
}

export function Status({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{statusLabel(status)}</span>;
}

export function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
    </label>
  );
}

/** Calls `tick` now and every `ms` while `active`; the latest `tick` is used. */
export function useInterval(tick: () => void, ms: number, active = true): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!active) return;
    latest.current();
    const timer = setInterval(() => latest.current(), ms);
    return () => clearInterval(timer);
  }, [ms, active]);
}

/** Loads once (and again when `deps` change): [value, error, reload]. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): [T | undefined, unknown, () => void] {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (v) => live && (setValue(v), setError(undefined)),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  return [value, error, () => setRound((n) => n + 1)];
}

/** A moment in the console's language (not the browser's), or a dash. */
export function when(iso: string | null | undefined): string {
  return iso ? dateTime(iso) : "—";
}

/** A count in the console's language (12,345), or a dash when there is none yet. */
export function amount(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : num(value);
}

/** Previous and next page; `pages` null: the count is not known yet, and there may be a next page. */
export function Pager({ page, pages, onPage }: { page: number; pages: number | null; onPage: (page: number) => void }) {
  if (pages !== null && pages <= 1) return null;
  return (
    <nav class="pager" aria-label="pagination">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {t("previous")}
      </button>
      <span>{pages === null ? t("page_n", { page }) : t("page_of", { page, pages })}</span>
      <button type="button" disabled={pages !== null && page >= pages} onClick={() => onPage(page + 1)}>
        {t("next")}
      </button>
    </nav>
  );
}

/** A copy of `items` with item `index` changed by `part` (rows of the editable tables). */
export function withChanged<T>(items: T[], index: number, part: Partial<T>): T[] {
  return items.map((item, i) => (i === index ? { ...item, ...part } : item));
}

/** The buttons under an editable list: add a row, save, cancel. */
export function FormButtons({ addLabel, onAdd, onCancel }: { addLabel: string; onAdd: () => void; onCancel: () => void }) {
  return (
    <div class="actions">
      <button type="button" onClick={onAdd}>
        {addLabel}
      </button>
      <button type="submit" class="primary">
        {t("save")}
      </button>
      <button type="button" onClick={onCancel}>
        {t("cancel")}
      </button>
    </div>
  );
}

/** A recipe's mode: insert, upsert or update. */
export function ModeSelect({ value, onChange }: { value: string; onChange: (mode: string) => void }) {
  return (
    <Field label={t("mode")}>
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="insert">{t("mode_insert")}</option>
        <option value="upsert">{t("mode_upsert")}</option>
        <option value="update">{t("mode_update")}</option>
      </select>
    </Field>
  );
}

/** How a field is named in a choice: its label with its key, or its key. */
/** A table's fields as the options of a select: "label (key)", or the key when it has no label of its own. */
export function FieldOptions({ fields }: { fields: { key: string; label?: string | null }[] }) {
  return (
    <>
      {fields.map((f) => (
        <option key={f.key} value={f.key}>
          {f.label && f.label !== f.key ? `${f.label} (${f.key})` : f.key}
        </option>
      ))}
    </>
  );
}

/** The last cell of an editable row: removes it. */
export function RemoveCell({ onRemove }: { onRemove: () => void }) {
  return (
    <td>
      <button type="button" onClick={onRemove}>
        {t("remove")}
      </button>
    </td>
  );
}
