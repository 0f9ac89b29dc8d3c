// Every call to the API: the bearer token, JSON in and out, our one error shape. A 401 (or an
// expired token) signs out and leads back to sign-in; drafts are in sessionStorage meanwhile.
import { apiBase, session, signOut } from "./auth.js";

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code;
    this.details = error;
  }
}

export async function call(method, path, body, accept = "application/json") {
  const current = session.get();
  if (!current || current.expires < Date.now()) {
    signOut(true);
    throw new ApiError(401, { code: "expired" });
  }
  const headers = { Authorization: `Bearer ${current.token}`, Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(apiBase() + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (answer.status === 401) {
    signOut(true);
    throw new ApiError(401, { code: "expired" });
  }
  if (!answer.ok) {
    const payload = await answer.json().catch(() => ({}));
    throw new ApiError(answer.status, payload.error);
  }
  if (answer.status === 204) return null;
  return accept === "application/json" ? answer.json() : answer.blob();
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);
export const put = (path, body) => call("PUT", path, body);

// A file the page cannot link to (it needs the bearer header): fetched, then saved.
export async function download(path, filename, accept) {
  const blob = await call("GET", path, undefined, accept);
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Drafts survive a sign-out (sessionStorage, this tab only).
export const draft = {
  get: (key) => sessionStorage.getItem(`draft:${key}`) || "",
  set: (key, value) =>
    value ? sessionStorage.setItem(`draft:${key}`, value) : sessionStorage.removeItem(`draft:${key}`),
};
