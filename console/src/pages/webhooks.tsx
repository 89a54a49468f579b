// Webhooks of the tenant (admins): create one (its signing secret shown once), test, enable or
// disable, delete; a webhook's deliveries with their attempts, and a retry of one.
import { useState } from "preact/hooks";
import { allPages, del, patch, post } from "../api";
import { language, t } from "../i18n";
import { may, navigate, useSignal } from "../state";
import { ErrorBox, Field, useInterval, useLoad, when } from "../ui";

const EVENTS = ["import.completed", "import.failed", "import.reverted", "job.completed", "record.created"];

// This page's own texts (the shared ones come from i18n.ts through t()).
const TEXTS = {
  en: {
    new_webhook: "New webhook",
    url: "URL (https)",
    events: "Events",
    enabled: "Enabled",
    disabled: "Disabled",
    secret_once: "Its signing secret, shown this once (store it now):",
    test: "Send a test",
    enable: "Enable",
    disable: "Disable",
    delete: "Delete",
    delete_confirm: "Delete this webhook? Its pending deliveries end failed.",
    deliveries: "Deliveries",
    type: "Type",
    attempts: "Attempts",
    last_status: "Last answer",
    last_error: "Last error",
    next_attempt: "Next attempt",
    retry: "Retry",
    st_pending: "Pending",
    st_delivered: "Delivered",
    st_failed: "Failed",
    admin_only: "Only admins manage webhooks.",
    test_sent: "Test delivery {id} sent.",
  },
  "zh-TW": {
    new_webhook: "新增 Webhook",
    url: "網址（https）",
    events: "事件",
    enabled: "啟用中",
    disabled: "已停用",
    secret_once: "簽章密鑰只顯示這一次（請立即保存）：",
    test: "傳送測試",
    enable: "啟用",
    disable: "停用",
    delete: "刪除",
    delete_confirm: "要刪除這個 Webhook 嗎？尚未送達的傳送將標為失敗。",
    deliveries: "傳送紀錄",
    type: "類型",
    attempts: "嘗試次數",
    last_status: "最後回應",
    last_error: "最後錯誤",
    next_attempt: "下次嘗試",
    retry: "重試",
    st_pending: "等待中",
    st_delivered: "已送達",
    st_failed: "失敗",
    admin_only: "只有管理員可以管理 Webhook。",
    test_sent: "已送出測試傳送 {id}。",
  },
};
type Key = keyof (typeof TEXTS)["en"];

function w(key: Key, params: Record<string, string> = {}): string {
  const text = TEXTS[language.value][key] ?? TEXTS.en[key];
  return text.replace(/\{(\w+)\}/g, (_, name) => params[name] ?? "");
}

export function WebhooksPage({ id }: { id?: string }) {
  useSignal(language);
  if (!may("admin")) return <p>{w("admin_only")}</p>;
  return id ? <Deliveries webhookId={id} /> : <Webhooks />;
}

function Webhooks() {
  const [webhooks, loadError, reload] = useLoad(() => allPages("/webhooks"));
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<string[]>(["import.completed", "import.failed"]);
  const [description, setDescription] = useState("");
  const [secret, setSecret] = useState("");
  const [notice, setNotice] = useState("");
  const [error, setError] = useState<unknown>();

  async function act(work: () => Promise<unknown>) {
    setError(undefined);
    setNotice("");
    try {
      await work();
      reload();
    } catch (e) {
      setError(e);
    }
  }
  function create(event: Event) {
    event.preventDefault();
    act(async () => {
      setSecret((await post("/webhooks", { url, events, description: description || null })).data.secret);
      setUrl("");
      setDescription("");
    });
  }
  const toggle = (name: string, on: boolean) =>
    setEvents(on ? EVENTS.filter((e) => e === name || events.includes(e)) : events.filter((e) => e !== name));

  return (
    <section>
      <h1>{t("nav_webhooks")}</h1>
      <form class="card" onSubmit={create}>
        <h2>{w("new_webhook")}</h2>
        <div class="filters">
          <Field label={w("url")}>
            <input name="webhook-url" type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          </Field>
          <Field label={t("description")}>
            <input name="webhook-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </Field>
        </div>
        <fieldset class="filters">
          <legend>{w("events")}</legend>
          {EVENTS.map((name) => (
            <label key={name}>
              <input
                type="checkbox"
                name={`event-${name}`}
                checked={events.includes(name)}
                onChange={(e) => toggle(name, e.currentTarget.checked)}
              />{" "}
              <code>{name}</code>
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={!events.length}>
          {t("create")}
        </button>
        {secret ? (
          <p class="notice">
            {w("secret_once")} <code data-testid="webhook-secret">{secret}</code>
          </p>
        ) : null}
        {notice ? <p class="notice">{notice}</p> : null}
        <ErrorBox error={error || loadError} />
      </form>
      <table class="list" data-testid="webhooks">
        <thead>
          <tr>
            <th>{w("url")}</th>
            <th>{w("events")}</th>
            <th>{t("status")}</th>
            <th>{t("created_at")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(webhooks ?? []).map((hook: any) => (
            <tr key={hook.id} data-webhook={hook.id}>
              <td>
                <a href={`#/webhooks/${hook.id}`}>{hook.url}</a>
                {hook.description ? <div class="muted">{hook.description}</div> : null}
              </td>
              <td>{hook.events.join(", ")}</td>
              <td>
                {hook.enabled ? w("enabled") : w("disabled")}
                {hook.disabled_reason ? <div class="muted">{hook.disabled_reason}</div> : null}
              </td>
              <td>{when(hook.created_at)}</td>
              <td class="actions">
                <button
                  type="button"
                  onClick={() =>
                    act(async () => setNotice(w("test_sent", { id: (await post(`/webhooks/${hook.id}/test`)).data.id })))
                  }
                >
                  {w("test")}
                </button>
                <button type="button" onClick={() => act(() => patch(`/webhooks/${hook.id}`, { enabled: !hook.enabled }))}>
                  {hook.enabled ? w("disable") : w("enable")}
                </button>
                <button type="button" onClick={() => navigate(`/webhooks/${hook.id}`)}>
                  {w("deliveries")}
                </button>
                <button
                  type="button"
                  onClick={() => confirm(w("delete_confirm")) && act(() => del(`/webhooks/${hook.id}`))}
                >
                  {w("delete")}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Deliveries({ webhookId }: { webhookId: string }) {
  const [deliveries, loadError, reload] = useLoad(() => allPages(`/webhooks/${webhookId}/deliveries`), [webhookId]);
  const [error, setError] = useState<unknown>();
  const pending = (deliveries ?? []).some((d: any) => d.status === "pending");
  useInterval(reload, 2000, pending);

  async function retry(deliveryId: string) {
    setError(undefined);
    try {
      await post(`/webhooks/${webhookId}/deliveries/${deliveryId}/retry`);
      reload();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <section>
      <p>
        <a href="#/webhooks">{t("back")}</a>
      </p>
      <h1>
        {w("deliveries")} <code>{webhookId}</code>
      </h1>
      <button type="button" onClick={reload}>
        {t("refresh")}
      </button>
      <ErrorBox error={error || loadError} />
      {deliveries && !deliveries.length ? <p>{t("none")}</p> : null}
      <table class="list" data-testid="deliveries">
        <thead>
          <tr>
            <th>{t("id")}</th>
            <th>{w("type")}</th>
            <th>{t("status")}</th>
            <th>{w("attempts")}</th>
            <th>{w("last_status")}</th>
            <th>{w("last_error")}</th>
            <th>{w("next_attempt")}</th>
            <th>{t("created_at")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(deliveries ?? []).map((d: any) => (
            <tr key={d.id} data-status={d.status}>
              <td>
                <code>{d.id}</code>
              </td>
              <td>{d.type}</td>
              <td>{w(`st_${d.status}` as Key)}</td>
              <td>{d.attempts}</td>
              <td>{d.last_status_code ?? ""}</td>
              <td>{d.last_error ?? ""}</td>
              <td>{when(d.next_attempt_at)}</td>
              <td>{when(d.created_at)}</td>
              <td>
                {d.status === "pending" ? null : (
                  <button type="button" onClick={() => retry(d.id)}>
                    {w("retry")}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
