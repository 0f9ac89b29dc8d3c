// The app's shell: sign-in, the navigation for each role, the hash router, the shortcut list.
import { html } from "htm/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { authMode, cognitoSignIn, finishCognito, loadConfig, localSignIn, localUsers, session, signOut } from "./auth.js";
import { lang, setLang, t } from "./i18n.js";
import { Workspace } from "./inbox.js";
import { Hours, Practitioners, Privacy, Webinars } from "./manage.js";
import { Report, lastWeek } from "./report.js";
import { Templates } from "./templates.js";
import { Terms } from "./terms.js";
import { Dialog, ErrorText, useSignal } from "./ui.js";
import "./style.css";

const route = () => location.hash.replace(/^#/, "") || "/inbox";
const go = (path) => { location.hash = path; };

function SignIn() {
  const [users, setUsers] = useState([]);
  const [user, setUser] = useState("");
  const [error, setError] = useState(null);
  const expired = sessionStorage.getItem("expired");
  useEffect(() => {
    if (authMode() === "local") localUsers().then((u) => { setUsers(u); setUser(u[0]?.id || ""); }, setError);
  }, []);
  async function submit(event) {
    event.preventDefault();
    try {
      await localSignIn(user);
      sessionStorage.removeItem("expired");
    } catch {
      setError({ message: t("signin.failed") });
    }
  }
  return html`<main id="main" class="signin">
    <h1>${t("signin.title")}</h1>
    ${expired && html`<p role="status" class="notice">${t("signin.expired")}</p>`}
    ${authMode() === "local"
      ? html`<form onSubmit=${submit}>
          <p>${t("signin.local")}</p>
          <label>${t("signin.user")}
            <select value=${user} onChange=${(e) => setUser(e.target.value)}>
              ${users.map((u) => html`<option value=${u.id}>${u.name} (${t(`role.${u.role}`)})</option>`)}
            </select></label>
          <button type="submit" disabled=${!user}>${t("signin.submit")}</button>
        </form>`
      : html`<button type="button" onClick=${cognitoSignIn}>${t("signin.cognito")}</button>`}
    <${ErrorText} error=${error} />
  </main>`;
}

const SHORTCUTS = [["j", "shortcuts.next"], ["k", "shortcuts.prev"], ["r", "shortcuts.reply"], ["n", "shortcuts.note"],
  ["c", "shortcuts.close"], ["?", "shortcuts.help"], ["Esc", "shortcuts.escape"]];

function App() {
  const me = useSignal(session);
  useSignal(lang);
  const [path, setPath] = useState(route());
  const [help, setHelp] = useState(false);
  useEffect(() => {
    const onHash = () => setPath(route());
    const onKey = (e) => {
      if (e.key === "?" && !e.target.closest("input, textarea, select")) setHelp(true);
    };
    addEventListener("hashchange", onHash);
    addEventListener("keydown", onKey);
    return () => { removeEventListener("hashchange", onHash); removeEventListener("keydown", onKey); };
  }, []);
  const language = html`<label class="lang">${t("lang.label")}
    <select value=${lang.get()} onChange=${(e) => setLang(e.target.value)}>
      <option value="da">Dansk</option><option value="en">English</option>
    </select></label>`;
  if (!me) return html`<header class="top"><span class="brand">${t("app.title")}</span>${language}</header><${SignIn} />`;
  const [, area, arg] = path.split("/");
  const links = [["inbox", "nav.inbox"]].concat(me.role === "manager"
    ? [["report", "nav.report"], ["practitioners", "nav.practitioners"], ["hours", "nav.hours"], ["webinars", "nav.webinars"], ["templates", "nav.templates"], ["safeguarding", "nav.terms"], ["privacy", "nav.privacy"]]
    : []);
  const page = {
    inbox: () => html`<${Workspace} caseId=${arg} go=${go} />`,
    report: () => html`<${Report} week=${/^\d{4}-W\d{2}$/.test(arg || "") ? arg : lastWeek()} go=${go} />`,
    practitioners: () => html`<${Practitioners} />`,
    hours: () => html`<${Hours} />`,
    webinars: () => html`<${Webinars} />`,
    privacy: () => html`<${Privacy} />`,
    templates: () => html`<${Templates} />`,
    safeguarding: () => html`<${Terms} />`,
  }[area] || (() => html`<${Workspace} go=${go} />`);
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main").focus(); }}>${t("app.skip")}</a>
    <header class="top">
      <span class="brand">${t("app.title")}</span>
      <nav aria-label=${t("nav.label")}><ul>${links.map(([href, key]) => html`<li><a href=${`#/${href}`} aria-current=${area === href ? "page" : undefined}>${t(key)}</a></li>`)}</ul></nav>
      <span class="who">${me.name} (${t(`role.${me.role}`)})</span>
      ${language}
      <button type="button" class="secondary" onClick=${() => setHelp(true)}>${t("nav.shortcuts")}</button>
      <button type="button" class="secondary" onClick=${() => signOut()}>${t("nav.signout")}</button>
    </header>
    <main id="main" tabindex="-1">${page()}</main>
    <${Dialog} title=${t("shortcuts.title")} open=${help} onClose=${() => setHelp(false)}>
      <dl class="shortcuts">${SHORTCUTS.map(([key, label]) => html`<div><dt><kbd>${key}</kbd></dt><dd>${t(label)}</dd></div>`)}</dl>
    <//>`;
}

async function start() {
  document.documentElement.lang = lang.get();
  await loadConfig();
  await finishCognito().catch(() => signOut());
  render(html`<${App} />`, document.getElementById("app"));
}

start();
