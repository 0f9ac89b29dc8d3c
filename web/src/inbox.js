// The practitioners' workspace: the inbox (live), the open case's timeline, reply, note, actions.
// Every text from a citizen is rendered as text (Preact escapes it); nothing is ever set as HTML.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { call, download, draft, get, post, put } from "./api.js";
import { session } from "./auth.js";
import { t, when } from "./i18n.js";
import { Dialog, ErrorText, usePoll, useSignal } from "./ui.js";

const POLL_MS = 2500;
const CHANNELS = ["sms", "voice", "email", "webinar", "chat"];
const CITIZEN = "citizen"; // a chat's citizen typing shows among the case's others as this user
const WRITING_MS = 2000; // "writing" again at most this often while typing (the citizen sees it 5 s)
const OUTCOMES = ["answered", "referred", "no_reply_needed", "unreachable", "duplicate", "other"];
const RISK_LEVELS = ["none", "elevated", "high"];
const RISK_RANK = { high: 0, elevated: 1 };
export const LANGUAGES = ["da", "en"];

// High risk first, then elevated, each keeping the server's order (Array.sort is stable).
const byRisk = (cases) => [...cases].sort((a, b) => (RISK_RANK[a.risk?.level] ?? 2) - (RISK_RANK[b.risk?.level] ?? 2));

// The risk as words, not colour alone; nothing for a case without risk.
function RiskBadge({ risk }) {
  if (!risk || !(risk.level in RISK_RANK)) return null;
  return html`<span class=${`badge risk-${risk.level}`}>${risk.level === "high" ? "⚠ " : ""}${t(`risk.${risk.level}`)}</span>`;
}

export function Workspace({ caseId, go }) {
  const me = useSignal(session);
  const [filters, setFilters] = useState({ channel: "", needs_reply: false, status: "" });
  const [inbox, setInbox] = useState(null);
  const [updated, setUpdated] = useState(null);
  const query = new URLSearchParams();
  if (filters.channel) query.set("channel", filters.channel);
  if (filters.needs_reply) query.set("needs_reply", "true");
  if (filters.status) query.set("status", filters.status);
  const qs = query.toString();
  usePoll(
    () =>
      get(`/inbox${qs ? `?${qs}` : ""}`)
        .then((answer) => {
          setInbox(answer);
          setUpdated(new Date());
        })
        .catch(() => {}),
    POLL_MS,
    [qs],
  );
  const cases = byRisk(inbox?.cases || []);

  useEffect(() => {
    function onKey(event) {
      if (event.target.closest("input, textarea, select, dialog") || event.ctrlKey || event.metaKey || event.altKey) return;
      const at = cases.findIndex((c) => c.id === caseId);
      if (event.key === "j" || event.key === "k") {
        const next = cases[event.key === "j" ? Math.min(at + 1, cases.length - 1) : Math.max(at - 1, 0)];
        if (next) {
          go(`/inbox/${next.id}`);
          requestAnimationFrame(() => document.getElementById(`case-${next.id}`)?.focus());
        }
        event.preventDefault();
      }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [cases, caseId]);

  return html`<div class=${caseId ? "workspace has-case" : "workspace"}>
    <section class="inbox" aria-labelledby="inbox-title">
      <h1 id="inbox-title">${t("inbox.title")}</h1>
      ${me.role === "practitioner" && html`<${Duty} />`}
      <${Counts} counts=${inbox?.counts} role=${me.role} />
      <${Mentions} />
      <fieldset class="filters">
        <legend>${t("inbox.views")}</legend>
        <label>${t("inbox.channel")}
          <select value=${filters.channel} onChange=${(e) => setFilters({ ...filters, channel: e.target.value })}>
            <option value="">${t("inbox.anyChannel")}</option>
            ${CHANNELS.map((c) => html`<option value=${c}>${t(`channel.${c}`)}</option>`)}
          </select>
        </label>
        <label class="check"><input type="checkbox" checked=${filters.needs_reply}
          onChange=${(e) => setFilters({ ...filters, needs_reply: e.target.checked })} /> ${t("inbox.needsReply")}</label>
        ${me.role === "manager" &&
        html`<label>${t("inbox.status")}
          <select value=${filters.status} onChange=${(e) => setFilters({ ...filters, status: e.target.value })}>
            <option value="">${t("inbox.open")}</option><option value="closed">${t("inbox.closed")}</option>
          </select></label>`}
      </fieldset>
      <p class="muted" aria-live="off">${updated ? `${t("inbox.live")} ${updated.toLocaleTimeString()}` : t("loading")}</p>
      ${inbox && !cases.length && html`<p>${t("inbox.empty")}</p>`}
      <ul class="cases" aria-label=${t("inbox.list")}>
        ${cases.map(
          (c) => html`<li key=${c.id}>
            <a id=${`case-${c.id}`} href=${`#/inbox/${c.id}`} aria-current=${c.id === caseId ? "page" : undefined}
               class=${c.unread ? "unread" : ""}>
              <span class="row"><${RiskBadge} risk=${c.risk} /><span class="badge">${t(`channel.${c.channel}`)}</span>
                <span class="badge" title=${t("case.language")}>${(c.language || "").toUpperCase()}</span>
                <span>${c.queue}</span>${c.needs_reply && html`<span class="badge warn">${t("inbox.needsReply")}</span>`}
                ${c.unread && html`<span class="badge info">${t("inbox.unread")}</span>`}
                <time class="muted">${when(c.last_activity_at)}</time></span>
              <span class="preview">${c.preview}</span>
              ${c.others?.some((o) => o.user_id !== CITIZEN) && html`<span class="muted">👁 ${colleagues(c.others).join(", ")}</span>`}
            </a>
          </li>`,
        )}
      </ul>
    </section>
    <section class="case" aria-label=${t("case.title")} id="main-case">
      ${caseId && html`<a class="back" href="#/inbox">← ${t("nav.inbox")}</a>`}
      ${caseId ? html`<${CaseView} key=${caseId} id=${caseId} me=${me} />` : html`<p>${t("case.none")}</p>`}
    </section>
  </div>`;
}

function Counts({ counts, role }) {
  if (!counts) return null;
  const items =
    role === "manager"
      ? [[t("inbox.open"), counts.open], ...Object.entries(counts.waiting || {}).map(([q, n]) => [`${t("inbox.waiting")}: ${q}`, n])]
      : [[t("inbox.mine"), counts.mine], [t("inbox.waiting"), counts.waiting], [t("inbox.mentions"), counts.mentions]];
  return html`<dl class="counts">${items.map(([label, n]) => html`<div><dt>${label}</dt><dd>${n}</dd></div>`)}</dl>`;
}

function Duty() {
  const [profile, setProfile] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { get("/practitioners/me").then(setProfile, setError); }, []);
  const onDuty = profile ? profile.on_duty : null;
  async function choose(value) {
    try {
      setProfile(await put("/practitioners/me/status", { on_duty: value }));
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  return html`<div class="duty" role="group" aria-label=${t("duty.label")}>
    <span>${t("duty.label")}:</span>
    <button type="button" aria-pressed=${onDuty === true} onClick=${() => choose(true)}>${t("duty.on")}</button>
    <button type="button" aria-pressed=${onDuty === false} onClick=${() => choose(false)}>${t("duty.off")}</button>
    ${profile && html`<span class="muted">${t("staff.active")}: ${profile.active_cases}/${profile.max_active_cases}</span>`}
    <${ErrorText} error=${error} />
  </div>`;
}

function CaseView({ id, me }) {
  const [item, setItem] = useState(null);
  const [error, setError] = useState(null);
  const [closing, setClosing] = useState(false);
  const [reads, setReads] = useState(null);
  const load = () => get(`/cases/${encodeURIComponent(id)}`).then(setItem, setError);
  usePoll(load, POLL_MS, [id]);
  usePoll(() => post(`/cases/${encodeURIComponent(id)}/presence`, { activity: "viewing" }).catch(() => {}), 15000, [id]);
  const replyRef = useRef(null);
  const noteRef = useRef(null);

  useEffect(() => {
    function onKey(event) {
      if (event.target.closest("input, textarea, select, dialog") || event.ctrlKey || event.metaKey || event.altKey) return;
      const focus = { r: replyRef, n: noteRef }[event.key];
      if (focus?.current) {
        event.preventDefault();
        focus.current.focus();
      } else if (event.key === "c" && item?.status !== "closed") {
        event.preventDefault();
        setClosing(true);
      }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [item]);

  if (!item) return html`<${ErrorText} error=${error} />${!error && html`<p>${t("loading")}</p>`}`;
  const latest = item.timeline[item.timeline.length - 1]?.id;
  const act = (path, body) =>
    post(`/cases/${encodeURIComponent(id)}/${path}`, body).then(() => { setError(null); return load(); }, setError);
  const replyChannel = item.reply_to?.channel || (item.channel === "voice" ? "sms" : item.channel);
  const citizenTyping = item.others?.some((o) => o.user_id === CITIZEN);
  return html`<article>
    <h2>${t("case.title")} ${item.id}</h2>
    <dl class="facts">
      <div><dt>${t("case.status")}</dt><dd>${item.status}${item.outcome ? ` (${t(`outcome.${item.outcome}`)})` : ""}</dd></div>
      <div><dt>${t("case.queue")}</dt><dd>${item.queue}</dd></div>
      <div><dt>${t("case.assignee")}</dt><dd>${item.assignee || t("case.nobody")}</dd></div>
      <div><dt>${t("case.risk")}</dt><dd><${RiskBadge} risk=${item.risk} />${item.risk.level === "none" ? t("risk.none") : ""}</dd></div>
      ${item.callback && html`<div><dt>${t("case.callbackPending")}</dt><dd>${when(item.callback.requested_at)}</dd></div>`}
      <div><dt>${t("case.channel")}</dt><dd>${t(`channel.${item.channel}`)}</dd></div>
      ${item.reply_to?.address && html`<div><dt>${t("case.replyTo")}</dt><dd>${t(`channel.${item.reply_to.channel}`)}: ${item.reply_to.address}</dd></div>`}
      ${item.others?.some((o) => o.user_id !== CITIZEN) && html`<div><dt>${t("case.others")}</dt><dd>${colleagues(item.others, true).join(", ")}</dd></div>`}
      <div><${Language} id=${id} language=${item.language} onSaved=${load} /></div>
    </dl>
    <${Safeguarding} id=${id} risk=${item.risk} seen=${latest} me=${me} onSaved=${load} />
    <div class="actions">
      ${item.status === "queued" && me.role === "practitioner" && html`<button type="button" onClick=${() => act("claim")}>${t("case.claim")}</button>`}
      ${item.callback && item.status !== "closed" && me.role === "practitioner" && html`<button type="button" onClick=${() => act("callback")}>${t("case.callback")}</button>`}
      ${item.status !== "closed" && html`<button type="button" onClick=${() => setClosing(true)}>${t("case.close")} (c)</button>`}
      ${item.status === "closed" && html`<button type="button" onClick=${() => act("reopen")}>${t("case.reopen")}</button>`}
      ${item.status !== "closed" && html`<${Transfer} onTransfer=${(target) => act("transfer", target)} />`}
      ${me.role === "manager" && html`<button type="button" class="secondary" onClick=${() => get(`/cases/${encodeURIComponent(id)}/reads`).then((r) => setReads(r.reads), setError)}>${t("case.reads")}</button>`}
    </div>
    <${ErrorText} error=${error} />
    ${reads && html`<ul class="reads" aria-label=${t("case.reads")}>${reads.map((r) => html`<li>${r.user_id} (${r.role}) ${when(r.at)}</li>`)}</ul>`}
    <h3>${t("case.timeline")}</h3>
    <ol class="timeline">${item.timeline.map((entry) => html`<${Entry} key=${entry.id} entry=${entry} caseId=${id} />`)}</ol>
    ${citizenTyping && html`<p class="typing muted" role="status">${t("case.citizenTyping")}</p>`}
    ${item.status !== "closed" && html`<${Reply} id=${id} seen=${latest} channel=${replyChannel} inputRef=${replyRef} onSent=${load} />`}
    <${Note} id=${id} inputRef=${noteRef} onSent=${load} />
    <${Dialog} title=${t("case.close")} open=${closing} onClose=${() => setClosing(false)}>
      <${CloseForm} onClose=${(outcome) => act("close", { outcome, seen: latest }).then(() => setClosing(false))} />
    <//>
  </article>`;
}

// The case's language (the citizen's): every later automatic text and routing follow it.
// Other practitioners on the case (the chat's citizen typing is shown apart, in words).
function colleagues(others, activity = false) {
  return others.filter((o) => o.user_id !== CITIZEN).map((o) => (activity ? `${o.user_id} (${o.activity})` : o.user_id));
}

function Language({ id, language, onSaved }) {
  const [error, setError] = useState(null);
  async function choose(value) {
    try {
      await put(`/cases/${encodeURIComponent(id)}/language`, { language: value });
      setError(null);
      onSaved();
    } catch (e) { setError(e); }
  }
  return html`<div class="inline">
    <label>${t("case.language")}
      <select value=${language} onChange=${(e) => choose(e.target.value)}>
        ${[...new Set([...LANGUAGES, language])].map((l) => html`<option value=${l}>${t(`language.${l}`)}</option>`)}
      </select></label>
    <${ErrorText} error=${error} />
  </div>`;
}

// Safeguarding on the case: why it is flagged (the matched terms, as text), the alert's state,
// acknowledging it (supervisors, safeguarding practitioners, managers), raising or lowering the
// risk with a reason. A lowering carries `seen` (the newest event on screen): when the citizen
// wrote after it, the server refuses (409 unseen_messages) and the form shows those messages.
function Safeguarding({ id, risk, seen, me, onSaved }) {
  const [profile, setProfile] = useState(null);
  const [level, setLevel] = useState(risk.level);
  const [unseen, setUnseen] = useState([]);
  useEffect(() => setLevel(risk.level), [risk.level]);
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  useEffect(() => { if (me.role === "practitioner") get("/practitioners/me").then(setProfile, () => {}); }, []);
  const mayAcknowledge = me.role === "manager" || (profile?.skills || []).some((s) => s === "supervisor" || s === "safeguarding");
  const path = `/cases/${encodeURIComponent(id)}/risk`;
  async function acknowledge() {
    try {
      await post(`${path}/acknowledge`);
      setError(null);
      onSaved();
    } catch (e) { setError(e.status === 404 ? { message: t("risk.noAlert") } : e); }
  }
  async function change(event) {
    event.preventDefault();
    try {
      await put(path, { level, reason: reason.trim(), seen });
      setReason("");
      setError(null);
      setUnseen([]);
      onSaved();
    } catch (e) {
      const refused = e.code === "unseen_messages";
      setError(refused ? { message: t("risk.unseen") } : e);
      setUnseen(refused ? e.details?.unseen || [] : []);
      if (refused) onSaved();
    }
  }
  const alerted = risk.level === "high" || risk.acknowledged_by;
  return html`<section class=${`safeguarding risk-${risk.level}`} aria-labelledby="risk-title">
    <h3 id="risk-title">${t("risk.title")}: ${t(`risk.${risk.level}`)}</h3>
    ${risk.reasons?.length > 0 && html`<p>${t("risk.reasons")}: ${risk.reasons.join(", ")}</p>`}
    ${risk.level !== "none" && html`<p class="muted">${t("risk.by")}: ${risk.by === "rules" ? t("risk.rules") : risk.by}${risk.at ? ` · ${when(risk.at)}` : ""}${risk.note ? ` · ${risk.note}` : ""}</p>`}
    ${alerted && html`<p role="status" class="alert-state">${risk.acknowledged_by
      ? `${t("risk.acknowledgedBy")} ${risk.acknowledged_by} · ${when(risk.acknowledged_at)}`
      : `${t("risk.alertRaised")}${risk.at ? ` · ${when(risk.at)}` : ""}`}</p>`}
    ${alerted && !risk.acknowledged_by && mayAcknowledge && html`<button type="button" onClick=${acknowledge}>${t("risk.acknowledge")}</button>`}
    <form class="inline" onSubmit=${change}>
      <label>${t("risk.level")}
        <select value=${level} onChange=${(e) => setLevel(e.target.value)}>
          ${RISK_LEVELS.map((l) => html`<option value=${l}>${t(`risk.${l}`)}</option>`)}
        </select></label>
      <label>${t("risk.reason")} <input value=${reason} required minlength="3" maxlength="500" onInput=${(e) => setReason(e.target.value)} /></label>
      <button type="submit">${t("risk.change")}</button>
    </form>
    <${ErrorText} error=${error} />
    ${unseen.length > 0 && html`<ul class="unseen" aria-label=${t("risk.unseenList")}>${unseen.map((m) => html`<li key=${m.id}>${when(m.at)} · ${m.body || t(`channel.${m.channel}`)}</li>`)}</ul>`}
  </section>`;
}

function Transfer({ onTransfer }) {
  const [kind, setKind] = useState("queue");
  const [target, setTarget] = useState("");
  function submit(event) {
    event.preventDefault();
    const value = target.trim();
    if (value) onTransfer(kind === "queue" ? { queue: value } : { practitioner_id: value });
  }
  return html`<form class="inline" onSubmit=${submit}>
    <label>${t("case.transfer")}
      <select value=${kind} onChange=${(e) => setKind(e.target.value)}>
        <option value="queue">${t("case.queue")}</option><option value="practitioner">${t("case.practitioner")}</option>
      </select></label>
    <label>${t("case.transferTo")} <input value=${target} required onInput=${(e) => setTarget(e.target.value)} /></label>
    <button type="submit">${t("case.transfer")}</button>
  </form>`;
}

function Mentions() {
  const [mentions, setMentions] = useState([]);
  usePoll(() => get("/mentions").then((r) => setMentions(r.mentions), () => {}), 15000, []);
  if (!mentions.length) return null;
  return html`<details class="mentions"><summary>${t("inbox.mentions")} (${mentions.length})</summary>
    <ul>${mentions.map((m) => html`<li key=${m.note_id}><a href=${`#/inbox/${m.case_id}`}>${m.author}: ${m.case_id}</a> <time class="muted">${when(m.at)}</time></li>`)}</ul>
  </details>`;
}

function CloseForm({ onClose }) {
  const [outcome, setOutcome] = useState("answered");
  return html`<form method="dialog" onSubmit=${(e) => { e.preventDefault(); onClose(outcome); }}>
    <label>${t("case.outcome")}
      <select value=${outcome} onChange=${(e) => setOutcome(e.target.value)}>
        ${OUTCOMES.map((o) => html`<option value=${o}>${t(`outcome.${o}`)}</option>`)}
      </select></label>
    <button type="submit">${t("case.confirmClose")}</button>
  </form>`;
}

function Entry({ entry, caseId }) {
  const side = entry.channel === "note" ? "note" : entry.direction === "in" ? "in" : "out";
  const who = entry.channel === "note" ? entry.author : entry.direction === "in" ? t("case.in") : entry.author || t("case.out");
  return html`<li class=${`entry ${side}`}>
    <p class="meta"><span class="badge">${t(`channel.${entry.channel}`)}</span> <strong>${who}</strong>
      <time>${when(entry.at)}</time>
      ${entry.status && html`<span class="status" data-status=${entry.status}>${entry.status}</span>`}
      ${entry.automated && html`<span class="muted">${t("case.automated")}</span>`}</p>
    ${entry.email?.subject && html`<p class="subject">${entry.email.subject}</p>`}
    ${entry.body && html`<p class="body">${entry.channel === "note" ? mentions(entry.body) : entry.body}</p>`}
    ${entry.duration_seconds != null && html`<p>${t("case.duration")}: ${Math.floor(entry.duration_seconds / 60)}:${String(entry.duration_seconds % 60).padStart(2, "0")}</p>`}
    ${entry.email?.attachments?.map((a) => html`<p><button type="button" class="link"
      onClick=${() => download(`/cases/${encodeURIComponent(caseId)}/emails/${encodeURIComponent(entry.id)}/attachments/${a.index}`, a.filename, "application/octet-stream")}>
      ${t("case.attachment")}: ${a.filename} (${Math.ceil(a.size / 1024)} KB)</button></p>`)}
    ${entry.media?.map((m, n) => entry.status === "voicemail" && m.url.startsWith("/")
      ? html`<${Voicemail} url=${m.url} />`
      : html`<p><button type="button" class="link" onClick=${() => saveMedia(m, n)}>
      ${m.content_type?.startsWith("audio") ? t("case.voicemail") : t("case.attachment")} (${m.content_type})</button></p>`)}
  </li>`;
}

function mentions(body) {
  return body.split(/(@[a-z0-9][a-z0-9._-]{1,63})/g).map((part, n) => (n % 2 ? html`<mark>${part}</mark>` : part));
}

// A voicemail plays from our API (which fetches it from Twilio with the account's credentials).
// An <audio> element cannot send the bearer token, so the recording is fetched with it, on the
// practitioner's click (each listen is recorded as a read of the case), and played from a blob:
// URL (the CSP allows media from blob:). No token or signed link ever appears in a URL.
function Voicemail({ url }) {
  const [src, setSrc] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => () => src && URL.revokeObjectURL(src), [src]);
  const listen = async () => {
    setError(null);
    try {
      setSrc(URL.createObjectURL(await call("GET", url, undefined, "audio/mpeg")));
    } catch (failed) {
      setError(failed);
    }
  };
  if (src) return html`<p><audio controls autoplay src=${src} aria-label=${t("case.voicemail")}></audio></p>`;
  return html`<p><button type="button" class="link" onClick=${listen}>${t("case.voicemail_play")}</button></p>
    <${ErrorText} error=${error} />`;
}

function saveMedia(media, n) {
  const url = media.url;
  if (/^https:\/\//.test(url)) window.open(url, "_blank", "noopener");
  else download(url, `attachment-${n + 1}`, media.content_type || "application/octet-stream");
}

function Reply({ id, seen, channel, inputRef, onSent }) {
  const key = `reply:${id}`;
  const [body, setBody] = useState(draft.get(key));
  const [canned, setCanned] = useState([]);
  const [cannedId, setCannedId] = useState("");
  const [firstName, setFirstName] = useState("");
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(null);
  useEffect(() => { get("/canned").then((r) => setCanned(r.canned), () => {}); }, []);
  const wrote = useRef(0);
  // "writing" on focus and again while typing (at most every WRITING_MS): colleagues see it, and
  // a chat's citizen sees "typing" for 5 s after each.
  function writing() {
    if (Date.now() - wrote.current < WRITING_MS) return;
    wrote.current = Date.now();
    post(`/cases/${encodeURIComponent(id)}/presence`, { activity: "writing" }).catch(() => {});
  }
  const typing = (value) => { setBody(value); draft.set(key, value); };
  function pick(value) {
    setCannedId(value);
    const chosen = canned.find((c) => c.id === value);
    if (chosen) typing(chosen.body);
  }
  async function send(event) {
    event.preventDefault();
    const payload = { body, seen };
    if (cannedId) payload.canned_id = cannedId;
    if (cannedId && firstName) payload.first_name = firstName;
    try {
      const answer = await post(`/cases/${encodeURIComponent(id)}/replies`, payload);
      typing("");
      setCannedId("");
      setSent(answer.status);
      setError(null);
      onSent();
    } catch (e) {
      setError(e.code === "unseen_messages" ? { message: t("case.unseen") } : e);
      onSent();
    }
  }
  return html`<form class="compose" onSubmit=${send}>
    <h3>${t("case.reply")}</h3>
    <label>${t("case.canned")}
      <select value=${cannedId} onChange=${(e) => pick(e.target.value)}>
        <option value="">${t("case.cannedNone")}</option>
        ${canned.map((c) => html`<option value=${c.id}>${c.title}</option>`)}
      </select></label>
    ${body.includes("{first_name}") && html`<label>${t("case.firstName")} <input value=${firstName} onInput=${(e) => setFirstName(e.target.value)} /></label>`}
    <label for="reply-body">${t("case.replyLabel")} ${t(`channel.${channel}`)} (r)</label>
    <textarea id="reply-body" ref=${inputRef} rows="3" value=${body} onInput=${(e) => { typing(e.target.value); writing(); }}
      onFocus=${writing}
      onKeyDown=${(e) => e.key === "Escape" && e.target.blur()} required maxlength="1600"></textarea>
    <button type="submit">${t("case.send")}</button>
    ${sent && html`<span role="status">${t("case.sent")}: ${sent}</span>`}
    <${ErrorText} error=${error} />
  </form>`;
}

function Note({ id, inputRef, onSent }) {
  const key = `note:${id}`;
  const [body, setBody] = useState(draft.get(key));
  const [error, setError] = useState(null);
  const typing = (value) => { setBody(value); draft.set(key, value); };
  async function add(event) {
    event.preventDefault();
    try {
      await post(`/cases/${encodeURIComponent(id)}/notes`, { body });
      typing("");
      setError(null);
      onSent();
    } catch (e) {
      setError(e);
    }
  }
  return html`<form class="compose" onSubmit=${add}>
    <label for="note-body">${t("case.noteLabel")} (n)</label>
    <textarea id="note-body" ref=${inputRef} rows="2" value=${body} onInput=${(e) => typing(e.target.value)}
      onKeyDown=${(e) => e.key === "Escape" && e.target.blur()} required maxlength="10000"></textarea>
    <button type="submit">${t("case.addNote")}</button>
    <${ErrorText} error=${error} />
  </form>`;
}
