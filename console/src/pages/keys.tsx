// API keys of the tenant (admins): create one (its secret shown once), list, revoke.
import { useState } from "preact/hooks";
import { allPages, del, post } from "../api";
import { t } from "../i18n";
import { may } from "../state";
import { ErrorBox, Field, useLoad, when } from "../ui";

export function KeysPage() {
  const [keys, loadError, reload] = useLoad(() => allPages("/keys"));
  const [name, setName] = useState("");
  const [role, setRole] = useState("editor");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<unknown>();
  if (!may("admin")) return <p>{t("admin_only")}</p>;

  async function create(event: Event) {
    event.preventDefault();
    setError(undefined);
    try {
      setSecret((await post("/keys", { name: name || null, role })).data.key);
      setName("");
      reload();
    } catch (e) {
      setError(e);
    }
  }
  async function revoke(id: string) {
    if (!confirm(t("revoke_confirm"))) return;
    try {
      await del(`/keys/${id}`);
      reload();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <section>
      <h1>{t("nav_keys")}</h1>
      <form class="card" onSubmit={create}>
        <h2>{t("new_key")}</h2>
        <div class="filters">
          <Field label={t("name")}>
            <input name="key-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </Field>
          <Field label={t("role")}>
            <select name="key-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
              <option>viewer</option>
              <option>editor</option>
              <option>admin</option>
            </select>
          </Field>
          <button type="submit" class="primary">
            {t("create")}
          </button>
        </div>
        {secret ? (
          <p class="notice">
            {t("key_created")} <code data-testid="new-key">{secret}</code>
          </p>
        ) : null}
        <ErrorBox error={error || loadError} />
      </form>
      <table class="list" data-testid="keys">
        <thead>
          <tr>
            <th>{t("name")}</th>
            <th>{t("role")}</th>
            <th>{t("created_at")}</th>
            <th>{t("last_used")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(keys ?? []).map((key: any) => (
            <tr key={key.id}>
              <td>{key.name ?? <code>{key.id}</code>}</td>
              <td>{key.role}</td>
              <td>{when(key.created_at)}</td>
              <td>{when(key.last_used_at)}</td>
              <td>
                {key.revoked_at ? (
                  t("revoked")
                ) : (
                  <button type="button" onClick={() => revoke(key.id)}>
                    {t("revoke")}
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
