import { render } from "preact";
import { useState } from "preact/hooks";
import { get, storedKey, storeKey } from "./api";
import { type Language, language, setLanguage, t } from "./i18n";
import { ExportsPage } from "./pages/exports";
import { ImportPage } from "./pages/import";
import { ImportsPage } from "./pages/imports";
import { KeysPage } from "./pages/keys";
import { NewImportPage } from "./pages/new-import";
import { RecipesPage } from "./pages/recipes";
import { TablesPage } from "./pages/tables";
import { WebhooksPage } from "./pages/webhooks";
import { type Caller, caller, may, navigate, route, useSignal } from "./state";
import { ErrorBox, Field } from "./ui";
import "./style.css";

function SignIn() {
  const [key, setKey] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    storeKey(key.trim());
    try {
      caller.value = (await get<{ data: Caller }>("/me")).data;
    } catch (e) {
      storeKey(null);
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="sign-in">
      <h1>{t("app_title")}</h1>
      <form onSubmit={submit} class="card">
        <h2>{t("sign_in")}</h2>
        <p>{t("sign_in_intro")}</p>
        <Field label={t("api_key")}>
          <input
            name="api-key"
            type="password"
            autocomplete="off"
            required
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
        </Field>
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {t("sign_in")}
        </button>
      </form>
      <LanguageSwitch />
    </main>
  );
}

function LanguageSwitch() {
  const current = useSignal(language);
  return (
    <label class="language">
      <span>{t("language")}</span>
      <select value={current} onChange={(e) => setLanguage(e.currentTarget.value as Language)}>
        <option value="en">English</option>
        <option value="zh-TW">繁體中文</option>
      </select>
    </label>
  );
}

const NAV: [string, Parameters<typeof t>[0], Caller["role"]][] = [
  ["/imports", "nav_imports", "viewer"],
  ["/new-import", "nav_new_import", "editor"],
  ["/tables", "nav_tables", "viewer"],
  ["/recipes", "nav_recipes", "viewer"],
  ["/exports", "nav_exports", "editor"],
  ["/keys", "nav_keys", "admin"],
  ["/webhooks", "nav_webhooks", "admin"],
];

function Page({ path }: { path: string }) {
  const [, section, id] = path.split("/");
  switch (section) {
    case "imports":
      return id ? <ImportPage id={id} /> : <ImportsPage />;
    case "new-import":
      return <NewImportPage />;
    case "tables":
      return <TablesPage />;
    case "recipes":
      return <RecipesPage />;
    case "exports":
      return <ExportsPage />;
    case "keys":
      return <KeysPage />;
    case "webhooks":
      return <WebhooksPage id={id} />;
    default:
      return <ImportsPage />;
  }
}

function App() {
  useSignal(language);
  const me = useSignal(caller);
  const path = useSignal(route);
  if (!me) return <SignIn />;
  const section = `/${path.split("/")[1]}`;
  return (
    <div class="shell">
      <header class="top">
        <strong class="brand">{t("app_title")}</strong>
        <nav class="main-nav" aria-label="main">
          {NAV.filter(([, , role]) => may(role)).map(([href, label]) => (
            <a key={href} href={`#${href}`} aria-current={section === href ? "page" : undefined}>
              {t(label)}
            </a>
          ))}
        </nav>
        <div class="who">
          <span>
            {t("tenant")}: <b data-testid="tenant">{me.tenant}</b>
          </span>
          <span>
            {t("role")}: <b data-testid="role">{me.role}</b>
          </span>
          <LanguageSwitch />
          <button
            type="button"
            onClick={() => {
              storeKey(null);
              caller.value = null;
              navigate("/imports");
            }}
          >
            {t("sign_out")}
          </button>
        </div>
      </header>
      <main class="content">
        <Page key={path} path={path} />
      </main>
    </div>
  );
}

async function start() {
  document.documentElement.lang = language.value;
  // A key kept in this tab's session (a reload) signs in again without asking.
  if (storedKey()) {
    try {
      caller.value = (await get<{ data: Caller }>("/me")).data;
    } catch {
      storeKey(null);
    }
  }
  render(<App />, document.getElementById("app")!);
}

start();
