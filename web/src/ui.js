// Shared view helpers: subscribe to a signal, poll while the page is visible, a modal dialog.
import { html } from "htm/preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { t } from "./i18n.js";

export function useSignal(sig) {
  const [value, setValue] = useState(sig.get());
  useEffect(() => sig.subscribe(setValue), [sig]);
  return value;
}

// Calls `load` now and every `ms` while the tab is visible (live updates without reload).
export function usePoll(load, ms, deps) {
  useEffect(() => {
    let stopped = false;
    const tick = () => !stopped && document.visibilityState === "visible" && load();
    tick();
    const timer = setInterval(tick, ms);
    document.addEventListener("visibilitychange", tick);
    return () => {
      stopped = true;
      clearInterval(timer);
      document.removeEventListener("visibilitychange", tick);
    };
  }, deps);
}

// A native <dialog> opened modally: focus is trapped, Escape closes it.
export function Dialog({ title, open, onClose, children }) {
  const ref = useRef(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return html`<dialog ref=${ref} aria-labelledby=${titleId} onClose=${onClose}>
    <h2 id=${titleId}>${title}</h2>
    ${open && children}
    <button type="button" class="secondary" onClick=${onClose}>${t("dialog.close")}</button>
  </dialog>`;
}

export function ErrorText({ error }) {
  if (!error) return null;
  return html`<p role="alert" class="error">${error.message || t("error.generic")}</p>`;
}
