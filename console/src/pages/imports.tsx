// The imports list: newest first, filtered by status and recipe, refreshed every few seconds.
import { useState } from "preact/hooks";
import { type Page, allPages, get, query } from "../api";
import { statusLabel, t } from "../i18n";
import { ErrorBox, Field, ProgressBar, Status, amount, useInterval, useLoad, when } from "../ui";

const STATUSES = [
  "waiting_upload",
  "scheduled",
  "queued",
  "parsing",
  "importing",
  "completed",
  "completed_with_errors",
  "failed",
  "cancelled",
  "reverting",
  "reverted",
];

export function ImportsPage() {
  const [status, setStatus] = useState("");
  const [recipeId, setRecipeId] = useState("");
  const [page, setPage] = useState<Page<any>>();
  const [error, setError] = useState<unknown>();
  const [recipes] = useLoad(() => allPages("/recipes"));
  const recipeName = (id: string) => recipes?.find((r: any) => r.id === id)?.name ?? id;

  useInterval(
    () => {
      get<Page<any>>(`/imports${query({ status, recipe_id: recipeId, per_page: 50 })}`).then(
        (answer) => (setPage(answer), setError(undefined)),
        setError,
      );
    },
    3000,
    true,
  );
  // A filter change reloads at once (the interval keeps its rhythm).
  const reload = (next: () => void) => {
    next();
    setPage(undefined);
  };

  return (
    <section>
      <div class="title-row">
        <h1>{t("nav_imports")}</h1>
        <span class="hint">{t("auto_refresh")}</span>
      </div>
      <div class="filters">
        <Field label={t("status")}>
          <select value={status} onChange={(e) => reload(() => setStatus(e.currentTarget.value))}>
            <option value="">{t("all")}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t("recipe")}>
          <select value={recipeId} onChange={(e) => reload(() => setRecipeId(e.currentTarget.value))}>
            <option value="">{t("all")}</option>
            {(recipes ?? []).map((r: any) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <ErrorBox error={error} />
      {!page ? (
        <p>{t("loading")}</p>
      ) : page.data.length === 0 ? (
        <p>{t("none")}</p>
      ) : (
        <table class="list" data-testid="imports">
          <thead>
            <tr>
              <th>{t("file")}</th>
              <th>{t("recipe")}</th>
              <th>{t("status")}</th>
              <th>{t("progress")}</th>
              <th>{t("rows")}</th>
              <th>{t("succeeded")}</th>
              <th>{t("failed_rows")}</th>
              <th>{t("created_at")}</th>
            </tr>
          </thead>
          <tbody>
            {page.data.map((item) => (
              <tr key={item.id}>
                <td>
                  <a href={`#/imports/${item.id}`}>{item.file?.name || item.id}</a>
                  {item.dry_run ? <span class="tag">{t("dry_run")}</span> : null}
                </td>
                <td>{recipeName(item.recipe_id)}</td>
                <td>
                  <Status status={item.status} />
                </td>
                <td class="narrow">
                  <ProgressBar value={item.progress ?? 0} label={t("progress")} />
                </td>
                <td class="num">{amount(item.total_count)}</td>
                <td class="num">{amount(item.success_count)}</td>
                <td class="num">{amount(item.fail_count)}</td>
                <td>{when(item.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
