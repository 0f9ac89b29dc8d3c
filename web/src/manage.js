// The managers' pages: practitioners, opening hours and holidays, webinars with bookings and
// attendance, a contact's export and erasure (behind a typed confirmation).
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { call, download, get, post, put } from "./api.js";
import { t, when } from "./i18n.js";
import { Dialog, ErrorText } from "./ui.js";

const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);

export function Practitioners() {
  const [people, setPeople] = useState([]);
  const [error, setError] = useState(null);
  const load = () => get("/practitioners").then((r) => setPeople(r.practitioners), setError);
  useEffect(() => { load(); }, []);
  const [form, setForm] = useState({ id: "", display_name: "", queues: "general", languages: "da", max_active_cases: 5 });
  async function create(event) {
    event.preventDefault();
    try {
      await post("/practitioners", { ...form, queues: list(form.queues), languages: list(form.languages), max_active_cases: Number(form.max_active_cases) });
      setError(null);
      load();
    } catch (e) { setError(e); }
  }
  const field = (name, label, type = "text") => html`<label>${label}
    <input type=${type} value=${form[name]} required onInput=${(e) => setForm({ ...form, [name]: e.target.value })} /></label>`;
  return html`<section aria-labelledby="staff-title">
    <h1 id="staff-title">${t("staff.title")}</h1>
    <${ErrorText} error=${error} />
    <div class="scroll"><table>
      <thead><tr><th scope="col">${t("staff.id")}</th><th scope="col">${t("staff.name")}</th><th scope="col">${t("staff.queues")}</th>
        <th scope="col">${t("staff.capacity")}</th><th scope="col">${t("staff.active")}</th><th scope="col">${t("staff.onDuty")}</th></tr></thead>
      <tbody>${people.map((p) => html`<${StaffRow} key=${p.id} person=${p} onSaved=${load} onError=${setError} />`)}</tbody>
    </table></div>
    <form class="grid-form" onSubmit=${create}>
      <h2>${t("staff.create")}</h2>
      ${field("id", t("staff.id"))}${field("display_name", t("staff.name"))}${field("queues", t("staff.queues"))}
      ${field("languages", t("staff.languages"))}${field("max_active_cases", t("staff.capacity"), "number")}
      <button type="submit">${t("staff.create")}</button>
    </form>
  </section>`;
}

function StaffRow({ person, onSaved, onError }) {
  const [queues, setQueues] = useState(person.queues.join(", "));
  const [capacity, setCapacity] = useState(person.max_active_cases);
  const save = () =>
    put(`/practitioners/${encodeURIComponent(person.id)}`, { queues: list(queues), max_active_cases: Number(capacity) }).then(onSaved, onError);
  return html`<tr>
    <th scope="row">${person.id}</th><td>${person.display_name}</td>
    <td><input aria-label=${`${t("staff.queues")}: ${person.id}`} value=${queues} onInput=${(e) => setQueues(e.target.value)} /></td>
    <td><input aria-label=${`${t("staff.capacity")}: ${person.id}`} type="number" min="1" max="50" value=${capacity} onInput=${(e) => setCapacity(e.target.value)} />
      <button type="button" onClick=${save}>${t("staff.save")}</button></td>
    <td>${person.active_cases}</td><td>${person.on_duty ? t("staff.yes") : t("staff.no")}</td>
  </tr>`;
}

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export function Hours() {
  const [hours, setHours] = useState(null);
  const [text, setText] = useState(null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  function show(answer) {
    setHours(answer);
    const h = answer.hours;
    setText({
      timezone: h.timezone,
      closed: (h.closed_dates || []).join(", "),
      ...Object.fromEntries(DAYS.map((d) => [d, (h.weekly[d] || []).map((w) => w.join("-")).join(", ")])),
    });
  }
  useEffect(() => { fetch("/hours").then((r) => r.json()).then(show, setError); }, []);
  async function publish(event) {
    event.preventDefault();
    const weekly = Object.fromEntries(DAYS.map((d) => [d, list(text[d]).map((w) => w.split("-").map((s) => s.trim()))]));
    const body = { timezone: text.timezone, weekly, closed_dates: list(text.closed) };
    if (hours.hours.special) body.special = hours.hours.special;
    try {
      show(await put("/hours", body));
      setSaved(true);
      setError(null);
    } catch (e) { setError(e); setSaved(false); }
  }
  if (!text) return html`<p>${t("loading")}</p>`;
  const field = (name, label) => html`<label>${label}<input value=${text[name]} onInput=${(e) => setText({ ...text, [name]: e.target.value })} /></label>`;
  return html`<section aria-labelledby="hours-title">
    <h1 id="hours-title">${t("hours.title")}</h1>
    <p>${t("hours.openNow")}: ${hours.open_now ? t("staff.yes") : t("staff.no")}. ${t("hours.nextOpening")}: ${when(hours.next_opening)}</p>
    <form class="grid-form" onSubmit=${publish}>
      ${field("timezone", t("hours.timezone"))}
      <fieldset><legend>${t("hours.weekly")}</legend>${DAYS.map((d) => field(d, t(`day.${d}`)))}</fieldset>
      ${field("closed", t("hours.closed"))}
      <button type="submit">${t("hours.save")}</button>
      ${saved && html`<span role="status">${t("hours.saved")}</span>`}
      <${ErrorText} error=${error} />
    </form>
  </section>`;
}

export function Webinars() {
  const [webinars, setWebinars] = useState([]);
  const [open, setOpen] = useState(null);
  const [bookings, setBookings] = useState([]);
  const [error, setError] = useState(null);
  useEffect(() => { get("/webinars").then((r) => setWebinars(r.webinars), setError); }, []);
  const show = (id) => get(`/webinars/${encodeURIComponent(id)}/bookings`).then((r) => { setOpen(id); setBookings(r.bookings || r.attendees || []); }, setError);
  const mark = (b, attended) =>
    post(`/webinars/${encodeURIComponent(open)}/bookings/${encodeURIComponent(b.id)}/attendance`, { attended }).then(() => show(open), setError);
  return html`<section aria-labelledby="webinars-title">
    <h1 id="webinars-title">${t("webinars.title")}</h1>
    <${ErrorText} error=${error} />
    <ul class="cards">${webinars.map((w) => html`<li key=${w.id}>
      <h2>${w.title}</h2><p>${t("webinars.starts")}: ${when(w.starts_at)} · ${t("webinars.seatsLeft")}: ${w.seats_left} · ${t("webinars.status")}: ${w.status}</p>
      <button type="button" onClick=${() => show(w.id)}>${t("webinars.show")}</button>
      ${open === w.id && html`<table><caption>${t("webinars.bookings")}</caption><tbody>${bookings.map((b) => html`<tr key=${b.id}>
        <th scope="row">${b.first_name || b.id}</th><td>${b.status}</td>
        <td><label class="check"><input type="checkbox" checked=${!!b.attended} onChange=${(e) => mark(b, e.target.checked)} /> ${t("webinars.attended")}</label></td>
      </tr>`)}</tbody></table>`}
    </li>`)}</ul>
  </section>`;
}

export function Privacy() {
  const [contact, setContact] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState("");
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const path = `/contacts/${encodeURIComponent(contact.trim())}`;
  async function erase(event) {
    event.preventDefault();
    if (typed.trim() !== contact.trim()) return;
    try {
      setResult(await call("POST", `${path}/erase`));
      setConfirming(false);
      setError(null);
    } catch (e) { setError(e); }
  }
  return html`<section aria-labelledby="privacy-title">
    <h1 id="privacy-title">${t("privacy.title")}</h1>
    <form class="grid-form" onSubmit=${(e) => e.preventDefault()}>
      <label>${t("privacy.contact")}<input value=${contact} required onInput=${(e) => setContact(e.target.value)} /></label>
      <div class="actions">
        <button type="button" disabled=${!contact.trim()} onClick=${() => download(`${path}/export`, `contact-${contact.trim()}.json`, "application/json").catch(setError)}>${t("privacy.export")}</button>
        <button type="button" class="danger" disabled=${!contact.trim()} onClick=${() => { setTyped(""); setConfirming(true); }}>${t("privacy.erase")}</button>
      </div>
    </form>
    <${ErrorText} error=${error} />
    ${result && html`<p role="status">${t("privacy.erased")}: ${result.erased}</p>`}
    <${Dialog} title=${t("privacy.erase")} open=${confirming} onClose=${() => setConfirming(false)}>
      <form onSubmit=${erase}>
        <p>${t("privacy.confirm")}</p>
        <label>${t("privacy.confirmLabel")}<input value=${typed} onInput=${(e) => setTyped(e.target.value)} /></label>
        <button type="submit" class="danger" disabled=${typed.trim() !== contact.trim()}>${t("privacy.erase")}</button>
      </form>
    <//>
  </section>`;
}
