// The weekly report as a page people read: labelled figures with the change from the previous
// week, two SVG charts with axes and values (drawn here from the JSON), and the CSV download.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { download, get } from "./api.js";
import { t } from "./i18n.js";
import { ErrorText } from "./ui.js";

const KINDS = ["sms", "call", "voicemail", "email", "webinar_booking"];
const COLOURS = ["#1b6ca8", "#b35900", "#2e7d4f", "#a33a37", "#6a4c93"];

// ISO 8601 week of a date ("2026-W47"), and the week `offset` weeks from a week.
export function isoWeek(date) {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const start = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((d - start) / 86400000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

export function shiftWeek(week, offset) {
  const [year, n] = week.split("-W").map(Number);
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const monday = new Date(jan4);
  monday.setUTCDate(jan4.getUTCDate() - ((jan4.getUTCDay() || 7) - 1) + (n - 1 + offset) * 7);
  return isoWeek(new Date(monday.getUTCFullYear(), monday.getUTCMonth(), monday.getUTCDate()));
}

export const lastWeek = () => shiftWeek(isoWeek(new Date()), -1);

const pick = (figures, path) => path.split(".").reduce((v, k) => (v == null ? v : v[k]), figures);

const SECTIONS = [
  ["report.hours", ["hours.scheduled", "hours.covered", "hours.uncovered", "hours.staffed"]],
  ["report.contacts", ["contacts.total", "contacts.unique_citizens"]],
  ["report.cases", ["cases.opened", "cases.closed", "cases.opened_and_still_open"]],
  ["report.calls", ["calls.answered", "calls.missed", "calls.talk_minutes", "calls.voicemails", "calls.callbacks_requested", "calls.callbacks_completed"]],
  ["report.webinars", ["webinars.sessions", "webinars.bookings", "webinars.attended"]],
];

// Issue 22's headline figures: each with last week's value and the change (from the JSON's
// `headline`), and a link that lists the cases behind it.
const HEADLINE = ["service_level_text", "service_level_calls", "abandonment_rate", "average_handle_minutes",
  "occupancy", "resolution_median_hours", "reopen_rate", "satisfaction_average", "satisfaction_response_rate", "backlog"];
const SHARES = new Set(["service_level_text", "service_level_calls", "abandonment_rate", "occupancy", "reopen_rate", "satisfaction_response_rate"]);
const SERVICE_CHANNELS = ["sms", "call", "email", "chat", "webinar", "total"];
const SERVICE_ROWS = ["service_level_text", "service_level_calls", "abandonment_rate", "average_handle_minutes", "resolution_median_hours", "reopen_rate"];

export function showFigure(name, value) {
  if (value == null) return "–";
  return SHARES.has(name) ? `${Math.round(value * 1000) / 10} %` : `${value}`;
}

export function showChange(name, delta) {
  if (delta == null) return "–";
  const n = SHARES.has(name) ? Math.round(delta * 1000) / 10 : Math.round(delta * 100) / 100;
  const text = n > 0 ? `+${n}` : n === 0 ? "±0" : `${n}`;
  return SHARES.has(name) ? `${text} ${t("report.points")}` : text;
}

function Headline({ week, figures }) {
  const [cases, setCases] = useState(null);
  const [error, setError] = useState(null);
  const open = (name) => get(`/reports/weekly/${week}/cases?figure=${encodeURIComponent(name)}`)
    .then((answer) => setCases({ name, ids: answer.cases }), setError);
  return html`<div class="scroll"><table class="figures headline">
      <caption>${t("report.headline")}</caption>
      <thead><tr><th scope="col">${t("report.figure")}</th><th scope="col">${t("report.value")}</th>
        <th scope="col">${t("report.prevValue")}</th><th scope="col">${t("report.change")}</th><th scope="col">${t("report.casesCol")}</th></tr></thead>
      <tbody>${HEADLINE.filter((name) => figures.headline[name]).map((name) => {
        const f = figures.headline[name];
        return html`<tr><th scope="row">${t(`report.h.${name}`)}</th><td>${showFigure(name, f.value)}</td>
          <td>${showFigure(name, f.previous)}</td><td>${showChange(name, f.change)}</td>
          <td><button type="button" class="link show-cases" aria-label=${`${t("report.showCases")}: ${t(`report.h.${name}`)}`} onClick=${() => open(name)}>${t("report.showCases")}</button></td></tr>`;
      })}</tbody></table></div>
    <${ErrorText} error=${error} />
    ${cases && html`<section class="case-list" aria-live="polite"><h2>${t(`report.h.${cases.name}`)}: ${cases.ids.length} ${t("report.casesCol").toLowerCase()}</h2>
      <ul>${cases.ids.map((id) => html`<li><a href=${`#/inbox/${id}`}>${id}</a></li>`)}</ul></section>`}
    <div class="scroll"><table class="figures">
      <caption>${t("report.byChannel")}</caption>
      <thead><tr><th scope="col">${t("report.figure")}</th>${SERVICE_CHANNELS.map((c) => html`<th scope="col">${t(`report.ch.${c}`)}</th>`)}</tr></thead>
      <tbody>${SERVICE_ROWS.map((name) => html`<tr><th scope="row">${t(`report.h.${name}`)}</th>
        ${SERVICE_CHANNELS.map((c) => html`<td>${showFigure(name, pick(figures.service, c === "total" ? `total.${name}` : `by_channel.${c}.${name}`))}</td>`)}</tr>`)}
        <tr><th scope="row">${t("report.h.satisfaction_average")}</th>
        ${SERVICE_CHANNELS.map((c) => html`<td>${showFigure("satisfaction_average", pick(figures.service, c === "total" ? "total.satisfaction.average" : `by_channel.${c}.satisfaction.average`))}</td>`)}</tr>
      </tbody></table></div>`;
}

function change(now, before) {
  if (typeof now !== "number" || typeof before !== "number") return "–";
  const delta = Math.round((now - before) * 10) / 10;
  return delta > 0 ? `+${delta}` : delta === 0 ? "±0" : `${delta}`;
}

export function Report({ week, go }) {
  const [figures, setFigures] = useState(null);
  const [previous, setPrevious] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setFigures(null);
    get(`/reports/weekly/${week}`).then(setFigures, setError);
    get(`/reports/weekly/${shiftWeek(week, -1)}`).then(setPrevious, () => setPrevious(null));
  }, [week]);
  const row = (path, label) => {
    const now = pick(figures, path);
    const before = previous && pick(previous, path);
    return html`<tr><th scope="row">${label}</th><td>${now ?? "–"}</td><td>${before ?? "–"}</td><td>${change(now, before)}</td></tr>`;
  };
  return html`<section class="report" aria-labelledby="report-title">
    <h1 id="report-title">${t("report.title")} ${week} ${figures && !figures.complete ? `(${t("report.soFar")})` : ""}</h1>
    <div class="actions">
      <button type="button" onClick=${() => go(`/report/${shiftWeek(week, -1)}`)}>← ${t("report.previous")}</button>
      <button type="button" onClick=${() => go(`/report/${shiftWeek(week, 1)}`)}>${t("report.next")} →</button>
      <button type="button" onClick=${() => download(`/reports/weekly/${week}`, `service-report-${week}.csv`, "text/csv").catch(setError)}>${t("report.csv")}</button>
    </div>
    <${ErrorText} error=${error} />
    ${figures && figures.headline && html`<${Headline} week=${week} figures=${figures} />`}
    ${figures && html`
      <div class="charts">
        <${Bars} title=${t("report.chart.contacts")} yLabel=${t("report.chart.count")} days=${figures.by_day}
          series=${KINDS.map((k, n) => ({ label: t(`kind.${k}`), colour: COLOURS[n], value: (d) => d.contacts[k] }))} />
        <${Bars} title=${t("report.chart.hours")} yLabel=${t("report.chart.hoursAxis")} days=${figures.by_day}
          series=${[
            { label: t("report.chart.scheduled"), colour: COLOURS[0], value: (d) => d.scheduled_hours },
            { label: t("report.chart.covered"), colour: COLOURS[2], value: (d) => d.covered_hours },
          ]} />
      </div>
      ${SECTIONS.map(([title, paths]) => html`<table class="figures">
        <caption>${t(title)}</caption>
        <thead><tr><th scope="col">${t("report.figure")}</th><th scope="col">${t("report.value")}</th>
          <th scope="col">${t("report.prevValue")}</th><th scope="col">${t("report.change")}</th></tr></thead>
        <tbody>${paths.map((p) => row(p, t(`report.${p}`)))}
          ${title === "report.contacts" && KINDS.map((k) => row(`contacts.by_channel.${k}.total`, t(`kind.${k}`)))}
        </tbody></table>`)}
      <table class="figures">
        <caption>${t("report.firstResponse")}</caption>
        <thead><tr><th scope="col">${t("report.figure")}</th><th scope="col">${t("report.value")}</th>
          <th scope="col">${t("report.prevValue")}</th><th scope="col">${t("report.change")}</th></tr></thead>
        <tbody>${Object.keys(figures.cases.first_response || {}).flatMap((k) => [
          row(`cases.first_response.${k}.median_open_minutes`, `${t(`kind.${k}`)}: ${t("report.median")}`),
          row(`cases.first_response.${k}.p90_open_minutes`, `${t(`kind.${k}`)}: ${t("report.p90")}`),
        ])}</tbody></table>`}
  </section>`;
}

// Grouped bars per day, with a y axis (ticks and values), day labels and each bar's value.
function Bars({ title, yLabel, days, series }) {
  const W = 640, H = 260, left = 44, bottom = 40, top = 16;
  const max = Math.max(1, ...days.flatMap((d) => series.map((s) => s.value(d) || 0)));
  const step = Math.max(1, Math.ceil(max / 4));
  const ticks = [0, 1, 2, 3, 4].map((n) => n * step);
  const scale = (v) => ((H - bottom - top) * v) / ticks[4];
  const slot = (W - left) / days.length;
  const bar = (slot - 12) / series.length;
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${title}>
      ${ticks.map((v) => html`<g><line x1=${left} x2=${W} y1=${H - bottom - scale(v)} y2=${H - bottom - scale(v)} class="grid" />
        <text x=${left - 6} y=${H - bottom - scale(v) + 4} text-anchor="end">${v}</text></g>`)}
      <text x="12" y=${(H - bottom) / 2} transform=${`rotate(-90 12 ${(H - bottom) / 2})`} text-anchor="middle">${yLabel}</text>
      ${days.map((d, i) => html`<g>
        ${series.map((s, j) => {
          const v = s.value(d) || 0;
          const x = left + i * slot + 6 + j * bar;
          return html`<rect x=${x} y=${H - bottom - scale(v)} width=${bar - 1} height=${scale(v)} fill=${s.colour}><title>${s.label}: ${v}</title></rect>
            ${v > 0 && html`<text x=${x + bar / 2} y=${H - bottom - scale(v) - 3} text-anchor="middle" class="value">${v}</text>`}`;
        })}
        <text x=${left + i * slot + slot / 2} y=${H - bottom + 16} text-anchor="middle">${t(`day.${d.day.slice(0, 3).toLowerCase()}`).slice(0, 3)}</text>
      </g>`)}
    </svg>
    <ul class="legend">${series.map((s) => html`<li><svg class="swatch" width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill=${s.colour} /></svg>${s.label}</li>`)}</ul>
  </figure>`;
}
