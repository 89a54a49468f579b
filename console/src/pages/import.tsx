// One import: status, live progress, outcomes, its failures (filtered, paged), failures.csv, and the
// actions its status allows: cancel, restart, revert.
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, type Page, RUNNING, TERMINAL, download, failuresCsvUrl, get, post } from "../api";
import { t } from "../i18n";
import { may } from "../state";
import { ErrorBox, Field, Pager, ProgressBar, Status, amount, useInterval, when } from "../ui";

export interface Outcomes {
  created: number | null;
  updated: number | null;
  unchanged: number | null;
  failed: number | null;
}

/** The import's outcomes; before the API reported them, what its counters say. */
export function outcomesOf(item: any): Outcomes {
  if (item.outcomes) return item.outcomes;
  return { created: null, updated: null, unchanged: null, failed: item.fail_count ?? null };
}

export function OutcomesView({ item }: { item: any }) {
  const outcomes = outcomesOf(item);
  const cells: [Parameters<typeof t>[0], number | null][] = [
    ["created", outcomes.created],
    ["updated", outcomes.updated],
    ["unchanged", outcomes.unchanged],
    ["failed", outcomes.failed],
  ];
  return (
    <dl class="outcomes" data-testid="outcomes">
      {item.outcomes ? null : (
        <div>
          <dt>{t("succeeded")}</dt>
          <dd data-outcome="succeeded">{amount(item.success_count ?? 0)}</dd>
        </div>
      )}
      {cells
        .filter(([, value]) => value !== null)
        .map(([key, value]) => (
          <div key={key} class={`outcome-${key}`}>
            <dt>{t(key)}</dt>
            <dd data-outcome={key}>{amount(value)}</dd>
          </div>
        ))}
    </dl>
  );
}

const PAGE_SIZE = 25;
// A stopped revert (failed or cancelled) is reverted again to go on where it stopped.
const REVERTABLE = new Set(["completed", "completed_with_errors", "cancelled", "failed", "revert_failed", "revert_cancelled"]);

/** The entries of a list read from the API 100 at a time, as far as asked: `want(entries)` says whether
 * more are needed. The total is the API's `meta.total`. */
function usePagedEntries(path: string, want: (entries: any[]) => boolean) {
  const [state, setState] = useState<{ entries: any[]; cursor: string | null; total: number | null; done: boolean }>({
    entries: [],
    cursor: null,
    total: null,
    done: false,
  });
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(false);
  useEffect(() => {
    if (state.done || loading || error || (state.total !== null && !want(state.entries))) return;
    setLoading(true);
    const joiner = path.includes("?") ? "&" : "?";
    get<Page<any>>(`${path}${joiner}per_page=100${state.cursor ? `&cursor=${encodeURIComponent(state.cursor)}` : ""}`)
      .then(
        (page) =>
          setState({
            entries: [...state.entries, ...page.data],
            cursor: page.meta.next_cursor,
            total: page.meta.total,
            done: !page.meta.next_cursor,
          }),
        setError,
      )
      .finally(() => setLoading(false));
  });
  return { ...state, error };
}

/** An import's failures, from the API as the user pages and filters: the count is the API's total,
 * and every entry can be reached (a filter reads on through the list until its page is full). */
export function FailuresTable({ importId }: { importId: string }) {
  const [code, setCode] = useState("");
  const [field, setField] = useState("");
  const [page, setPage] = useState(1);
  const filtered = !!(code || field);
  const matches = (f: any) => (!code || f.code === code) && (!field || (f.field ?? "") === field);
  const list = usePagedEntries(`/imports/${importId}/failures`, (entries) =>
    filtered ? entries.filter(matches).length < page * PAGE_SIZE : entries.length < page * PAGE_SIZE,
  );
  const codes = useMemo(() => [...new Set(list.entries.map((f) => f.code))].sort(), [list.entries]);
  const fields = useMemo(() => [...new Set(list.entries.map((f) => f.field ?? ""))].sort(), [list.entries]);
  if (list.error) return <ErrorBox error={list.error} />;
  if (list.total === null) return <p>{t("loading")}</p>;
  if (!list.total) return <p>{t("no_failures")}</p>;
  const shown = filtered ? list.entries.filter(matches) : list.entries;
  // Filtered, the count of pages is known once the whole list was read; until then, one more.
  const pages = filtered
    ? list.done
      ? Math.max(1, Math.ceil(shown.length / PAGE_SIZE))
      : null
    : Math.ceil(list.total / PAGE_SIZE);
  const current = pages === null ? page : Math.min(page, pages);
  const count = !filtered
    ? t("failures_total", { total: list.total })
    : list.done
      ? t("failures_shown", { shown: shown.length, total: list.total })
      : t("failures_searching", { shown: shown.length, read: list.entries.length, total: list.total });
  return (
    <div>
      <div class="filters">
        <Field label={t("filter_code")}>
          <select name="code" value={code} onChange={(e) => (setCode(e.currentTarget.value), setPage(1))}>
            <option value="">{t("all")}</option>
            {codes.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t("filter_field")}>
          <select name="field" value={field} onChange={(e) => (setField(e.currentTarget.value), setPage(1))}>
            <option value="">{t("all")}</option>
            {fields.map((f) => (
              <option key={f} value={f}>
                {f || "—"}
              </option>
            ))}
          </select>
        </Field>
        <span class="hint" data-testid="failures-count">
          {count}
        </span>
      </div>
      <table class="list" data-testid="failures">
        <thead>
          <tr>
            <th>{t("col_row")}</th>
            <th>{t("col_sheet")}</th>
            <th>{t("col_line")}</th>
            <th>{t("col_field")}</th>
            <th>{t("col_code")}</th>
            <th>{t("col_message")}</th>
            <th>{t("col_value")}</th>
          </tr>
        </thead>
        <tbody>
          {shown.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE).map((f, i) => (
            <tr key={`${f.row}-${f.field}-${i}`}>
              <td class="num">{f.row}</td>
              <td>{f.sheet ?? ""}</td>
              <td class="num">{f.source_line ?? ""}</td>
              <td>{f.field ?? ""}</td>
              <td>
                <code>{f.code}</code>
              </td>
              <td class="wrap">{f.message}</td>
              <td class="wrap">{f.value ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager page={current} pages={pages} onPage={setPage} />
    </div>
  );
}

/** A dry run's sample: its first rows as they would be stored, one column per field any of them has. */
export function SampleTable({ sample }: { sample: { row: number; values: Record<string, unknown> }[] }) {
  const fields = [...new Set(sample.flatMap((s) => Object.keys(s.values)))];
  return (
    <table class="list" data-testid="sample">
      <thead>
        <tr>
          <th>{t("col_row")}</th>
          {fields.map((f) => (
            <th key={f}>{f}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {sample.map((s) => (
          <tr key={s.row}>
            <td class="num">{s.row}</td>
            {fields.map((f) => (
              <td key={f} class="wrap">
                {s.values[f] === undefined || s.values[f] === null ? "" : String(s.values[f])}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ImportPage({ id }: { id: string }) {
  const [item, setItem] = useState<any>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const running = !item || RUNNING.has(item.status);

  useInterval(
    () => {
      get(`/imports/${id}`).then(
        (answer) => setItem(answer.data),
        (e) => setError(e),
      );
    },
    1000,
    running,
  );

  async function act(path: string, question: string) {
    if (!confirm(question)) return;
    setBusy(true);
    setError(undefined);
    try {
      const answer = await post(`/imports/${id}/${path}`);
      setItem(answer.data);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function downloadFailures() {
    setError(undefined);
    try {
      download(await failuresCsvUrl(id));
    } catch (e) {
      setError(e);
    }
  }

  if (!item) return error ? <ErrorBox error={error} /> : <p>{t("loading")}</p>;
  const editor = may("editor");
  return (
    <section>
      <p>
        <a href="#/imports">← {t("nav_imports")}</a>
      </p>
      <div class="title-row">
        <h1>{item.file?.name || t("import_title", { id })}</h1>
        <Status status={item.status} />
        {item.dry_run ? <span class="tag">{t("dry_run")}</span> : null}
      </div>
      <div class="card">
        <ProgressBar value={item.progress ?? 0} label={t("progress")} />
        <dl class="facts">
          <div>
            <dt>{t("id")}</dt>
            <dd>
              <code>{item.id}</code>
            </dd>
          </div>
          <div>
            <dt>{t("recipe")}</dt>
            <dd>{item.recipe?.name ?? item.recipe_id}</dd>
          </div>
          <div>
            <dt>{t("table")}</dt>
            <dd>{item.table}</dd>
          </div>
          <div>
            <dt>{t("rows")}</dt>
            <dd data-testid="total">{amount(item.total_count)}</dd>
          </div>
          <div>
            <dt>{t("started")}</dt>
            <dd data-testid="started">{when(item.executed_start_at)}</dd>
          </div>
          <div>
            <dt>{t("ended")}</dt>
            <dd data-testid="ended">{when(item.executed_end_at)}</dd>
          </div>
        </dl>
        <h2>{t("outcomes")}</h2>
        <OutcomesView item={item} />
        {item.error ? (
          <div class="error" role="alert">
            {t("import_error")}: <code>{item.error.code}</code> {item.error.message}
          </div>
        ) : null}
        {item.revert ? (
          <p class="notice" data-testid="revert-result">
            {t("revert_result", {
              deleted: item.revert.deleted,
              restored: item.revert.restored,
              skipped: item.revert.skipped?.length ?? 0,
            })}
          </p>
        ) : null}
        <ErrorBox error={error instanceof ApiError || error instanceof Error ? error : undefined} />
        <div class="actions">
          {TERMINAL.has(item.status) && item.fail_count > 0 ? (
            <button type="button" onClick={downloadFailures}>
              {t("download_failures")}
            </button>
          ) : null}
          {editor && RUNNING.has(item.status) ? (
            <button type="button" disabled={busy} onClick={() => act("cancel", t("cancel_confirm"))}>
              {t(item.status === "reverting" ? "cancel_revert" : "cancel_import")}
            </button>
          ) : null}
          {editor && (item.status === "failed" || item.status === "cancelled") ? (
            <button type="button" disabled={busy} onClick={() => act("restart", t("restart") + "?")}>
              {t("restart")}
            </button>
          ) : null}
          {editor && !item.dry_run && REVERTABLE.has(item.status) ? (
            <button type="button" class="danger" disabled={busy} onClick={() => act("revert", t("revert_confirm"))}>
              {t("revert")}
            </button>
          ) : null}
        </div>
      </div>
      <h2>{t("failures")}</h2>
      {/* A run again (restart, revert) shows its own failures once it settled. */}
      {running ? null : <FailuresTable key={`${item.status}-${item.job_turns}`} importId={id} />}
    </section>
  );
}
