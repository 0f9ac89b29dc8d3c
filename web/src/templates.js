// The managers' Templates page: every citizen-facing text per language and key, the current
// wording beside the shipped default, a live preview (for SMS: encoding and parts), the version
// history, and saving with the version read so nobody silently overwrites a colleague's edit.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { get, post, put } from "./api.js";
import { t, when } from "./i18n.js";
import { ErrorText } from "./ui.js";

const PREVIEW_MS = 400;
const conflict = (e) => e.status === 409; // another manager saved since we read it

export function Templates() {
  const [listing, setListing] = useState(null);
  const [language, setLanguage] = useState("");
  const [key, setKey] = useState("");
  const [error, setError] = useState(null);
  const load = () =>
    get("/templates").then((answer) => {
      setListing(answer);
      setLanguage((l) => l || answer.default_language);
      setKey((k) => k || Object.keys(answer.templates[answer.default_language]).sort().find((n) => n.startsWith("sms.")) || "");
      setError(null);
    }, setError);
  useEffect(() => { load(); }, []);
  if (!listing) return html`<${ErrorText} error=${error} />${!error && html`<p>${t("loading")}</p>`}`;
  const keys = Object.keys(listing.templates[language] || {}).sort();
  const current = listing.templates[language]?.[key];
  return html`<section aria-labelledby="templates-title">
    <h1 id="templates-title">${t("templates.title")}</h1>
    <p>${t("templates.intro")}</p>
    <div class="inline">
      <span class="field"><label for="template-language">${t("templates.language")}</label>
      <select id="template-language" value=${language} onChange=${(e) => setLanguage(e.target.value)}>
        ${listing.languages.map((l) => html`<option value=${l}>${t(`language.${l}`)}</option>`)}
      </select></span>
      <span class="field"><label for="template-key">${t("templates.key")}</label>
      <select id="template-key" value=${key} onChange=${(e) => setKey(e.target.value)}>
        ${keys.map((k) => html`<option value=${k}>${k}${listing.templates[language][k].version ? ` (${t("templates.edited")})` : ""}</option>`)}
      </select></span>
    </div>
    <${ErrorText} error=${error} />
    ${current && html`<${Editor} key=${`${language}/${key}/${current.version}`} language=${language} name=${key} template=${current} onSaved=${load} />`}
  </section>`;
}

function Editor({ language, name, template, onSaved }) {
  const [text, setText] = useState(template.text);
  const [preview, setPreview] = useState(null);
  const [problem, setProblem] = useState(null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const [history, setHistory] = useState(null);
  const [stale, setStale] = useState(false);
  const path = `/templates/${encodeURIComponent(language)}/${encodeURIComponent(name)}`;
  useEffect(() => {
    if (!text.trim()) return undefined;
    const timer = setTimeout(
      () => post("/templates/preview", { language, key: name, text }).then((p) => { setPreview(p); setProblem(null); }, setProblem),
      PREVIEW_MS,
    );
    return () => clearTimeout(timer);
  }, [text]);
  async function save(event) {
    event.preventDefault();
    try {
      await put(path, { text, version: template.version });
      setSaved(true);
      setError(null);
      onSaved();
    } catch (e) {
      setSaved(false);
      setStale(conflict(e));
      setError(conflict(e) ? { message: t("templates.conflict") } : e);
    }
  }
  const sms = preview?.sms;
  return html`<div class="editor">
    <h2>${name}</h2>
    <p class="muted">${t("templates.version")} ${template.version}${template.edited_by ? ` · ${template.edited_by} · ${when(template.edited_at)}` : ` · ${t("templates.shipped")}`}
      ${template.placeholders?.length > 0 && html` · ${t("templates.placeholders")}: ${template.placeholders.map((p) => `{${p}}`).join(" ")}`}</p>
    <div class="side-by-side">
      <form onSubmit=${save}>
        <label for="template-text">${t("templates.current")}</label>
        <textarea id="template-text" rows="5" value=${text} required maxlength="1600" onInput=${(e) => { setText(e.target.value); setSaved(false); }}></textarea>
        <div class="actions">
          <button type="submit" disabled=${text === template.text}>${t("templates.save")}</button>
          <button type="button" class="secondary" disabled=${text === template.default} onClick=${() => setText(template.default)}>${t("templates.useDefault")}</button>
        </div>
        ${saved && html`<p role="status">${t("templates.saved")}</p>`}
        <${ErrorText} error=${error} />
        ${stale && html`<button type="button" class="secondary" onClick=${onSaved}>${t("templates.reload")}</button>`}
      </form>
      <div>
        <h3>${t("templates.default")}</h3>
        <p class="quote">${template.default}</p>
      </div>
    </div>
    <section aria-labelledby="preview-title" aria-live="polite">
      <h3 id="preview-title">${t("templates.preview")}</h3>
      <${ErrorText} error=${problem} />
      ${preview && !problem && html`<p class="quote">${preview.text}</p>`}
      ${sms && !problem && html`<p class="sms-facts">${t("templates.encoding")}: ${sms.encoding} · ${t("templates.length")}: ${sms.length} · ${t("templates.segments")}: ${sms.segments}${sms.single_segment ? "" : ` · ${t("templates.multipart")}`}</p>`}
    </section>
    <details onToggle=${(e) => e.target.open && !history && get(`${path}/versions`).then((r) => setHistory(r.versions), setError)}>
      <summary>${t("templates.history")}</summary>
      ${history && !history.length && html`<p>${t("templates.noHistory")}</p>`}
      ${history && html`<ol class="versions">${[...history].reverse().map((v) => html`<li key=${v.version}>
        <p class="muted">${t("templates.version")} ${v.version} · ${v.by} · ${when(v.at)}</p><p class="quote">${v.text}</p></li>`)}</ol>`}
    </details>
  </div>`;
}
