// The managers' Safeguarding terms page: the phrases and patterns that raise a case's risk, their
// weights and the thresholds. Saved with the version read: a save over a colleague's is refused
// (409) and said so; a pattern the server refuses (400 invalid_terms) is named in its message.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { get, put } from "./api.js";
import { t, when } from "./i18n.js";
import { ErrorText } from "./ui.js";

const KINDS = ["phrase", "pattern"];

export function Terms() {
  const [list, setList] = useState(null);
  const [rows, setRows] = useState([]);
  const [thresholds, setThresholds] = useState({});
  const [filter, setFilter] = useState("");
  const [error, setError] = useState(null);
  const [stale, setStale] = useState(false);
  const [saved, setSaved] = useState(false);
  function show(answer) {
    setList(answer);
    setThresholds(answer.thresholds);
    setRows(answer.terms.map((term, n) => ({ n, kind: term.pattern ? "pattern" : "phrase", text: term.pattern || term.phrase, weight: term.weight, lang: term.lang || "" })));
    setStale(false);
  }
  const load = () => get("/safeguarding/terms").then((answer) => { show(answer); setError(null); }, setError);
  useEffect(() => { load(); }, []);
  if (!list) return html`<${ErrorText} error=${error} />${!error && html`<p>${t("loading")}</p>`}`;
  const edit = (n, change) => { setRows(rows.map((r) => (r.n === n ? { ...r, ...change } : r))); setSaved(false); };
  const add = () => setRows([{ n: Math.max(-1, ...rows.map((r) => r.n)) + 1, kind: "phrase", text: "", weight: 5, lang: "" }, ...rows]);
  async function save(event) {
    event.preventDefault();
    const terms = rows.map((r) => ({ [r.kind]: r.text.trim(), weight: Number(r.weight), ...(r.lang ? { lang: r.lang } : {}) }));
    try {
      show(await put("/safeguarding/terms", { version: list.version, terms, thresholds, emoji: list.emoji }));
      setSaved(true);
      setError(null);
    } catch (e) {
      setSaved(false);
      setStale(e.status === 409);
      setError(e.status === 409 ? { message: t("terms.conflict") } : e);
    }
  }
  const needle = filter.trim().toLowerCase();
  const shown = needle ? rows.filter((r) => r.text.toLowerCase().includes(needle)) : rows;
  return html`<section aria-labelledby="terms-title">
    <h1 id="terms-title">${t("terms.title")}</h1>
    <p>${t("terms.intro")}</p>
    <p class="muted">${t("templates.version")} ${list.version}${list.updated_by ? ` · ${list.updated_by} · ${when(list.updated_at)}` : ` · ${t("templates.shipped")}`}</p>
    <form onSubmit=${save}>
      <fieldset class="inline fit"><legend>${t("terms.thresholds")}</legend>
        ${["elevated", "high"].map((level) => html`<label>${t(`risk.${level}`)}
          <input type="number" min="1" max="100" required value=${thresholds[level]} onInput=${(e) => setThresholds({ ...thresholds, [level]: Number(e.target.value) })} /></label>`)}
      </fieldset>
      <div class="actions">
        <label>${t("terms.filter")} <input type="search" value=${filter} onInput=${(e) => setFilter(e.target.value)} /></label>
        <button type="button" class="secondary" onClick=${add}>${t("terms.add")}</button>
        <button type="submit">${t("terms.save")}</button>
      </div>
      ${saved && html`<p role="status">${t("terms.saved")}</p>`}
      <${ErrorText} error=${error} />
      ${stale && html`<button type="button" class="secondary" onClick=${load}>${t("templates.reload")}</button>`}
      <div class="scroll"><table>
        <caption class="muted">${t("terms.showing").replace("{shown}", shown.length).replace("{all}", rows.length)}</caption>
        <thead><tr><th scope="col">${t("terms.kind")}</th><th scope="col">${t("terms.text")}</th><th scope="col">${t("terms.weight")}</th>
          <th scope="col">${t("terms.lang")}</th><th scope="col"><span class="visually-hidden">${t("terms.remove")}</span></th></tr></thead>
        <tbody>${shown.map((r) => html`<tr key=${r.n}>
          <td><select aria-label=${`${t("terms.kind")} ${r.n + 1}`} value=${r.kind} onChange=${(e) => edit(r.n, { kind: e.target.value })}>
            ${KINDS.map((k) => html`<option value=${k}>${t(`terms.${k}`)}</option>`)}</select></td>
          <td><input class="term" aria-label=${`${t("terms.text")} ${r.n + 1}`} value=${r.text} required maxlength=${r.kind === "pattern" ? 120 : 100} onInput=${(e) => edit(r.n, { text: e.target.value })} /></td>
          <td><input class="weight" aria-label=${`${t("terms.weight")} ${r.n + 1}`} type="number" min="-50" max="50" required value=${r.weight} onInput=${(e) => edit(r.n, { weight: e.target.value })} /></td>
          <td><select aria-label=${`${t("terms.lang")} ${r.n + 1}`} value=${r.lang} onChange=${(e) => edit(r.n, { lang: e.target.value })}>
            <option value="">${t("terms.anyLang")}</option><option value="da">da</option><option value="en">en</option></select></td>
          <td><button type="button" class="secondary" onClick=${() => { setRows(rows.filter((x) => x.n !== r.n)); setSaved(false); }}>${t("terms.remove")}</button></td>
        </tr>`)}</tbody>
      </table></div>
    </form>
  </section>`;
}
