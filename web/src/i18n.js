// UI strings are data (i18n/da.json, i18n/en.json, same keys: a test checks). The user's choice
// is kept in localStorage (not personal data); the default follows the browser.
import { signal } from "./state.js";
import da from "./i18n/da.json";
import en from "./i18n/en.json";

const TABLES = { da, en };
const saved = localStorage.getItem("lang");
export const lang = signal(saved in TABLES ? saved : navigator.language?.startsWith("da") ? "da" : "en");

export function setLang(value) {
  localStorage.setItem("lang", value);
  document.documentElement.lang = value;
  lang.set(value);
}

export function t(key) {
  return TABLES[lang.get()][key] ?? key;
}

export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(lang.get() === "da" ? "da-DK" : "en-GB", {
    dateStyle: "short",
    timeStyle: "short",
  });
}
