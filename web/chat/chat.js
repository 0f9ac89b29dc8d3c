// The citizen's chat page (also the widget's iframe). Plain ES module, no build step, no inline
// code (strict CSP). Text only: every message is set with textContent, never parsed as HTML.
// The conversation's token lives in sessionStorage only while the chat is open; ending the chat,
// or "Leave quickly", removes it, the page's messages and any storage of ours.

// Where the API is and where "Leave quickly" goes are fixed when the page is published (its
// <meta> tags), never taken from the address: a crafted link cannot send a young person's words
// to another server, nor their exit to another site.
const params = new URLSearchParams(location.search);
const meta = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
const API = (meta("chat-api") || location.origin).replace(/\/+$/, "");
const EXIT = safeExit(meta("chat-exit")) || "https://www.dr.dk/";
const EMBEDDED = params.get("embedded") === "1" && window.parent !== window;
const KEY = "eg-chat";
const $ = (id) => document.getElementById(id);

const asked = params.get("lang") || (navigator.language || "da").slice(0, 2);
let language = asked === "en" ? "en" : "da";
let token = null;
let last = null;
let polling = false;
let lastTyping = 0;
const shown = new Set();
let words = {}; // the page's texts, for what is drawn later (the satisfaction card)

function safeExit(value) {
  try {
    const url = new URL(value);
    return url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function stored() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

async function call(method, path, body) {
  const init = { method, headers: {}, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const answer = await fetch(API + path, init);
  const text = await answer.text();
  return { status: answer.status, body: text ? JSON.parse(text) : null };
}

async function loadTexts() {
  const answer = await call("GET", `/chat/texts?language=${language}`);
  if (answer.status !== 200) return;
  const t = answer.body.texts;
  words = t;
  document.documentElement.lang = answer.body.language;
  document.title = t["chat.ui_title"];
  $("title").textContent = t["chat.ui_title"];
  $("leave").textContent = t["chat.ui_leave"];
  $("send").textContent = t["chat.ui_send"];
  $("body-label").textContent = t["chat.ui_label"];
  $("body").placeholder = t["chat.ui_label"];
  $("end").textContent = t["chat.ui_end"];
  $("typing").textContent = t["chat.ui_typing"];
  $("end").dataset.ended = t["chat.ended"];
  $("follow-up-offer").textContent = t["chat.ui_follow_up"];
  $("consent-label").textContent = t["chat.ui_consent"];
  $("address").placeholder = t["chat.ui_address"];
  $("follow-up-send").textContent = t["chat.ui_follow_up_send"];
  $("follow-up").dataset.done = t["chat.ui_follow_up_done"];
}

function show(message) {
  if (shown.has(message.id)) return;
  shown.add(message.id);
  const item = document.createElement("li");
  item.className = ["citizen", "practitioner", "service"].includes(message.from) ? message.from : "service";
  item.textContent = message.body;
  item.dataset.id = message.id;
  if (message.survey && Array.isArray(message.survey.ratings)) item.append(card(message.survey.ratings));
  $("log").append(item);
  $("log").scrollTop = $("log").scrollHeight;
  // the cursor is the conversation's sequence number: ids are times and may land out of order
  if (message.seq != null && (last === null || message.seq > last)) last = message.seq;
}

// The satisfaction question's card, drawn from the message's structured `survey` field (never
// from markup in a message): one button per rating, an optional comment, sent once.
function card(ratings) {
  const form = document.createElement("form");
  form.className = "survey";
  const scale = document.createElement("div");
  scale.className = "ratings";
  scale.setAttribute("role", "group");
  let chosen = null;
  for (const value of ratings.filter((r) => Number.isInteger(r) && r >= 1 && r <= 5)) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = String(value);
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", () => {
      chosen = value;
      scale.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      send.disabled = false;
    });
    scale.append(button);
  }
  const label = document.createElement("label");
  label.textContent = words["survey.comment"] || "";
  const comment = document.createElement("textarea");
  comment.maxLength = 1000;
  comment.rows = 2;
  label.append(comment);
  const send = document.createElement("button");
  send.type = "submit";
  send.className = "survey-send";
  send.textContent = words["survey.send"] || "Send";
  send.disabled = true;
  form.append(scale, label, send);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!token || chosen === null) return;
    send.disabled = true;
    const body = { rating: chosen };
    if (comment.value.trim()) body.comment = comment.value.trim();
    const answer = await call("POST", `/chat/conversations/${token}/rating`, body);
    if (answer.status === 204 || (answer.body && answer.body.error && answer.body.error.code === "already_rated")) {
      const thanks = document.createElement("p");
      thanks.className = "survey-thanks";
      thanks.textContent = words["survey.thanks"] || "";
      form.replaceWith(thanks);
    } else {
      send.disabled = false;
      $("status").textContent = answer.body && answer.body.error ? answer.body.error.message : "";
    }
  });
  return form;
}

async function poll() {
  if (polling) return;
  polling = true;
  while (token) {
    const after = last ? `&after=${encodeURIComponent(last)}` : "";
    let answer;
    try {
      const shown = `&typing=${!$("typing").hidden}`; // a change of it answers at once
      answer = await call("GET", `/chat/conversations/${token}/messages?wait=20${after}${shown}`);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      continue;
    }
    if (answer.status === 404) {
      forget();
      break;
    }
    if (answer.status !== 200) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      continue;
    }
    answer.body.messages.forEach(show);
    $("typing").hidden = !answer.body.typing;
  }
  polling = false;
}

async function send(event) {
  event.preventDefault();
  const body = $("body").value.trim();
  if (!body) return;
  $("send").disabled = true;
  try {
    let answer;
    if (!token) {
      answer = await call("POST", "/chat/conversations", { language, body });
      if (answer.status === 201) {
        token = answer.body.token;
        sessionStorage.setItem(KEY, JSON.stringify({ token, language }));
        if (answer.body.notice) {
          $("notice").textContent = answer.body.notice;
          $("notice").hidden = false;
          $("follow-up").hidden = false; // out of hours: offer SMS or email, only with consent
        }
        show(answer.body.message);
        poll();
      }
    } else {
      answer = await call("POST", `/chat/conversations/${token}/messages`, { body });
      if (answer.status === 201) show({ id: answer.body.id, from: "citizen", body });
    }
    if (answer.status >= 400) {
      $("status").textContent = answer.body && answer.body.error ? answer.body.error.message : "";
    } else {
      $("status").textContent = "";
      $("body").value = "";
    }
  } finally {
    $("send").disabled = false;
  }
}

async function followUp(event) {
  event.preventDefault();
  const address = $("address").value.trim();
  if (!token || !$("consent").checked || !address) return;
  const kind = /^[+0-9]/.test(address) ? "sms" : "email";
  const answer = await call("POST", `/chat/conversations/${token}/follow-up`, { consent: true, [kind]: address });
  if (answer.status === 204) {
    $("follow-up").replaceChildren();
    $("follow-up").textContent = $("follow-up").dataset.done || "";
  } else {
    $("status").textContent = answer.body && answer.body.error ? answer.body.error.message : "";
  }
}

function typing() {
  const now = Date.now();
  if (!token || now - lastTyping < 3000) return;
  lastTyping = now;
  call("POST", `/chat/conversations/${token}/typing`).catch(() => {});
}

function forget() {
  token = null;
  last = null;
  shown.clear();
  try {
    sessionStorage.clear();
    localStorage.clear();
  } catch {
    // storage may be blocked; nothing of ours is in it then
  }
}

function endRequest() {
  if (!token) return;
  // keepalive: the request outlives the page we are about to leave
  fetch(`${API}/chat/conversations/${token}/end`, {
    method: "POST",
    keepalive: true,
    credentials: "omit",
    referrerPolicy: "no-referrer",
  }).catch(() => {});
}

async function end() {
  endRequest();
  forget();
  $("log").replaceChildren();
  $("notice").hidden = true;
  $("follow-up").hidden = true;
  $("status").textContent = $("end").dataset.ended || "";
}

function leave() {
  endRequest();
  forget();
  document.body.replaceChildren();
  if (EMBEDDED) {
    window.parent.postMessage({ type: "eg-chat-leave" }, "*"); // the widget leaves its page
  }
  location.replace(EXIT);
}

function main() {
  const saved = stored();
  if (saved && typeof saved.token === "string") {
    token = saved.token;
    language = saved.language === "en" ? "en" : "da";
  }
  $("leave").addEventListener("click", leave);
  $("end").addEventListener("click", end);
  $("form").addEventListener("submit", send);
  $("follow-up").addEventListener("submit", followUp);
  $("body").addEventListener("input", typing);
  $("body").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) send(event);
  });
  loadTexts();
  if (token) poll();
}

main();
