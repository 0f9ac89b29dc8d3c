// The one script tag a service embeds:
//   <script type="module" src="https://<our host>/chat/widget.js" data-lang="da"></script>
// It adds a "Chat" button and, when pressed, our chat page in an iframe inside a shadow root
// (so neither page's styles leak into the other). "Leave quickly" in the chat asks this page
// to remove the chat and go to a neutral site without a history entry.

const script = document.currentScript || document.querySelector('script[src*="/chat/widget.js"]');
const here = new URL(import.meta.url);
const origin = here.origin;
const lang = (script && script.dataset.lang) === "en" ? "en" : "da";
// The embedding page's own neutral site for "Leave quickly" (https only).
const wanted = (script && script.dataset.exit) || "";
const exit = wanted.startsWith("https://") ? wanted : "https://www.dr.dk/";

const host = document.createElement("div");
host.id = "eg-chat-widget";
const root = host.attachShadow({ mode: "open" });
const sheet = new CSSStyleSheet();
sheet.replaceSync(`
  .open { position: fixed; right: 1rem; bottom: 1rem; z-index: 2147483646; background: #1d4ed8;
          color: #fff; border: 0; border-radius: 2rem; padding: .8rem 1.2rem; font: bold 1rem system-ui; cursor: pointer; }
  iframe { position: fixed; right: 1rem; bottom: 4.5rem; z-index: 2147483647; width: min(24rem, 95vw);
           height: min(36rem, 80vh); border: 1px solid #ccc; border-radius: .6rem; background: #fff; }
`);
root.adoptedStyleSheets = [sheet];
const button = document.createElement("button");
button.className = "open";
button.type = "button";
button.textContent = lang === "en" ? "Chat" : "Chat";
root.append(button);
document.body.append(host);

let frame = null;
button.addEventListener("click", () => {
  if (frame) {
    frame.hidden = !frame.hidden;
    return;
  }
  const url = new URL("/chat/chat.html", origin);
  url.searchParams.set("embedded", "1");
  url.searchParams.set("lang", lang);
  frame = document.createElement("iframe");
  frame.title = "Chat";
  frame.src = url.href;
  frame.referrerPolicy = "no-referrer";
  root.append(frame);
});

window.addEventListener("message", (event) => {
  if (event.origin !== origin || !event.data || event.data.type !== "eg-chat-leave") return;
  host.remove();
  location.replace(exit);
});
