// Exports: pick a table and filters, see how many records match (GET /records/count), export them
// as CSV or XLSX (a batch job) and download the file when it is done.
import { useState } from "preact/hooks";
import { allPages, download, get, post, query } from "../api";
import { t } from "../i18n";
import { ErrorBox, Field, ProgressBar, amount, useInterval, useLoad } from "../ui";

interface Job {
  batch_code: string;
  table: string;
  code?: number;
  process?: number;
  url?: string | null;
  file_name?: string | null;
  total?: number | null;
  error?: { code: string; message: string } | null;
}

const EXPORTS_STORAGE = "bulkimport.exports";

export function ExportsPage() {
  const [tables] = useLoad(() => allPages("/tables"));
  const [table, setTable] = useState("");
  const [filters, setFilters] = useState<[string, string][]>([]);
  const [format, setFormat] = useState("csv");
  const [total, setTotal] = useState<number | null>(null);
  const [jobs, setJobs] = useState<Job[]>(() => JSON.parse(sessionStorage.getItem(EXPORTS_STORAGE) ?? "[]"));
  const [error, setError] = useState<unknown>();
  const fields: any[] = tables?.find((x: any) => x.key === table)?.fields?.filter((f: any) => f.type !== "subtable") ?? [];
  const search = Object.fromEntries(filters.filter(([field]) => field));

  const keep = (next: Job[]) => {
    setJobs(next);
    sessionStorage.setItem(EXPORTS_STORAGE, JSON.stringify(next.map(({ batch_code, table }) => ({ batch_code, table }))));
  };

  async function count() {
    setError(undefined);
    try {
      const params = Object.fromEntries(Object.entries(search).map(([k, v]) => [`filter.${k}`, v]));
      setTotal((await get(`/tables/${table}/records/count${query(params)}`)).data.total);
    } catch (e) {
      setError(e);
    }
  }

  async function exportNow() {
    setError(undefined);
    try {
      const params = Object.fromEntries(Object.entries(search).map(([k, v]) => [`filter.${k}`, v]));
      const matching = (await get(`/tables/${table}/records/count${query(params)}`)).data.total;
      setTotal(matching);
      const answer = await post("/jobs", {
        job_name: "export",
        table,
        ids: "all",
        search_options: search,
        total: matching,
        format,
      });
      keep([{ batch_code: answer.data.batch_code, table }, ...jobs]);
    } catch (e) {
      setError(e);
    }
  }

  const unfinished = jobs.some((job) => job.code === undefined);
  useInterval(
    () => {
      // While a job runs the answer is flat ({batch_code, status, process}); once done, {code, data}.
      const read = (job: Job) =>
        get(`/jobs/${job.batch_code}`).then((a): Job => (a.data ? { ...job, ...a.data, code: a.code } : { ...job, process: a.process }));
      Promise.all(jobs.map(read))
        .then(setJobs)
        .catch(setError);
    },
    1000,
    unfinished,
  );

  return (
    <section>
      <h1>{t("nav_exports")}</h1>
      <div class="card">
        <h2>{t("new_export")}</h2>
        <div class="filters">
          <Field label={t("table")}>
            <select name="export-table" value={table} onChange={(e) => (setTable(e.currentTarget.value), setFilters([]), setTotal(null))}>
              <option value="" />
              {(tables ?? []).map((x: any) => (
                <option key={x.key} value={x.key}>
                  {x.key}
                </option>
              ))}
            </select>
          </Field>
          <Field label={t("format")}>
            <select name="format" value={format} onChange={(e) => setFormat(e.currentTarget.value)}>
              <option value="csv">CSV</option>
              <option value="xlsx">XLSX</option>
            </select>
          </Field>
        </div>
        {table ? (
          <fieldset>
            <legend>{t("filters")}</legend>
            {filters.map(([field, value], i) => (
              <div class="filters" key={i}>
                <select
                  aria-label={t("field")}
                  value={field}
                  onChange={(e) => {
                    const next = [...filters];
                    next[i] = [e.currentTarget.value, value];
                    setFilters(next);
                    setTotal(null);
                  }}
                >
                  <option value="" />
                  {fields.map((f) => (
                    <option key={f.key} value={f.key}>
                      {f.key}
                    </option>
                  ))}
                </select>
                <input
                  aria-label={`${field} =`}
                  value={value}
                  onInput={(e) => {
                    const next = [...filters];
                    next[i] = [field, e.currentTarget.value];
                    setFilters(next);
                    setTotal(null);
                  }}
                />
                <button type="button" onClick={() => setFilters(filters.filter((_, j) => j !== i))}>
                  {t("remove")}
                </button>
              </div>
            ))}
            <button type="button" onClick={() => setFilters([...filters, ["", ""]])}>
              {t("add_filter")}
            </button>
          </fieldset>
        ) : null}
        <div class="actions">
          <button type="button" disabled={!table} onClick={count}>
            {t("count")}
          </button>
          {total !== null ? <span data-testid="matching">{t("matching", { total })}</span> : null}
          <button type="button" class="primary" disabled={!table} onClick={exportNow}>
            {t("export")}
          </button>
        </div>
        <ErrorBox error={error} />
      </div>
      {jobs.length ? (
        <>
          <h2>{t("exports_made")}</h2>
          <table class="list" data-testid="exports">
            <thead>
              <tr>
                <th>{t("job_code")}</th>
                <th>{t("table")}</th>
                <th>{t("progress")}</th>
                <th>{t("records")}</th>
                <th>{t("file")}</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.batch_code}>
                  <td>
                    <code>{job.batch_code}</code>
                  </td>
                  <td>{job.table}</td>
                  <td class="narrow">
                    <ProgressBar value={job.process ?? 0} label={t("progress")} />
                  </td>
                  <td class="num">{amount(job.total)}</td>
                  <td>
                    {job.url ? (
                      <button type="button" onClick={() => download(job.url!, job.file_name ?? undefined)}>
                        {t("download")} {job.file_name}
                      </button>
                    ) : job.code === 204 ? (
                      t("nothing_matched")
                    ) : job.error ? (
                      <span class="error-text">
                        <code>{job.error.code}</code> {job.error.message}
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
