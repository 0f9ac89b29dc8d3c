// Sign-in. Tokens live in sessionStorage (gone with the tab), never in a URL.
// Local stage: a demo user picked on /local/sign-in (minted by the local server only).
// Deployed: Cognito's hosted UI, authorization code flow with PKCE (S256).
import { signal } from "./state.js";

const KEY = "session";
export const session = signal(JSON.parse(sessionStorage.getItem(KEY) || "null"));
let config = { auth: "local", api: "" };

export async function loadConfig() {
  const answer = await fetch("/app/config.json", { cache: "no-store" });
  if (answer.ok) config = await answer.json();
  return config;
}

export const apiBase = () => config.api || "";
export const authMode = () => config.auth;

function keep(value) {
  if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
  else sessionStorage.removeItem(KEY);
  session.set(value);
}

export function signOut(expired = false) {
  keep(null);
  if (expired) sessionStorage.setItem("expired", "1");
}

export async function localUsers() {
  const answer = await fetch("/local/sign-in");
  if (!answer.ok) throw new Error("no local sign-in");
  return (await answer.json()).users;
}

export async function localSignIn(user) {
  const answer = await fetch("/local/sign-in", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user }),
  });
  if (!answer.ok) throw new Error("sign-in refused");
  const body = await answer.json();
  keep({ token: body.token, user: body.id, name: body.name, role: body.role, expires: Date.now() + body.expires_in * 1000 });
}

// --- Cognito hosted UI, authorization code + PKCE ---
const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export async function cognitoSignIn() {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("pkce", JSON.stringify({ verifier, state }));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: config.redirect_uri,
    scope: "openid",
    state,
    code_challenge_method: "S256",
    code_challenge: challenge,
  });
  location.assign(`${config.domain}/oauth2/authorize?${query}`);
}

function claims(jwt) {
  const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part));
}

export async function finishCognito() {
  const query = new URLSearchParams(location.search);
  const code = query.get("code");
  if (!code) return;
  history.replaceState(null, "", location.pathname + location.hash); // the code leaves the URL
  const pending = JSON.parse(sessionStorage.getItem("pkce") || "null");
  sessionStorage.removeItem("pkce");
  if (!pending || pending.state !== query.get("state")) throw new Error("state mismatch");
  const answer = await fetch(`${config.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.client_id,
      code,
      redirect_uri: config.redirect_uri,
      code_verifier: pending.verifier,
    }),
  });
  if (!answer.ok) throw new Error("token exchange refused");
  const tokens = await answer.json();
  const c = claims(tokens.access_token);
  const role = (c["cognito:groups"] || []).includes("manager") ? "manager" : "practitioner";
  keep({ token: tokens.access_token, user: c.username, name: c.username, role, expires: c.exp * 1000 });
}
