// The session (token in sessionStorage, ended on logout, expiry or a 401), messages for people,
// and HTTP helpers shared by the page's script. Text is only ever inserted with textContent.

export const MESSAGES = {
  expired: "Your session has expired. Please log in again.",
  network: "The server could not be reached. Check your connection and try again.",
  interrupted: "The upload was interrupted. If the file is very large it may be over the size limit.",
  400: "The request was not accepted",
  409: "That username is already taken. Choose another one.",
  413: "This file is too large to upload. Choose a smaller video.",
  415: "This file is not a video we can read. Choose a video file such as MP4, MKV, MOV or WebM.",
  429: "Too many failed attempts. Wait a few minutes, then try again.",
  503: "The service is temporarily unavailable. Please try again in a moment.",
};

const KEYS = { token: "v2a.token", expires: "v2a.expires", user: "v2a.user" };
let expiryTimer = null;
let onEnd = () => {};

export const $ = (id) => document.getElementById(id);

// Thrown when a call cannot go on because the session ended; the user has already been told.
export class SessionEnded extends Error {}

export function say(text, kind = "") {
  const box = $("message");
  box.textContent = text || "";
  box.className = `message ${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.hidden = !text;
}

export function fail(error) {
  if (!(error instanceof SessionEnded)) say(error.message || String(error), "error");
}

export const session = {
  // Called with no arguments whenever the session ends, to put the page back to "signed out".
  set onEnd(callback) {
    onEnd = callback;
  },

  get username() {
    return sessionStorage.getItem(KEYS.user) || "";
  },

  // The token, or null (and the session ended with the "expired" message) once it has expired.
  token() {
    const value = sessionStorage.getItem(KEYS.token);
    if (!value) return null;
    if (Date.now() >= Number(sessionStorage.getItem(KEYS.expires) || 0)) {
      session.end(MESSAGES.expired, "error");
      return null;
    }
    return value;
  },

  start(username, login) {
    sessionStorage.setItem(KEYS.token, login.token);
    sessionStorage.setItem(KEYS.expires, String(Date.now() + Number(login.expires_in) * 1000));
    sessionStorage.setItem(KEYS.user, username);
    session.watchExpiry();
  },

  // Ends the session by itself when the token expires, even if the page sits idle.
  watchExpiry() {
    const left = Number(sessionStorage.getItem(KEYS.expires)) - Date.now();
    clearTimeout(expiryTimer);
    expiryTimer = setTimeout(() => session.token(), Math.min(Math.max(left, 0), 2 ** 31 - 1));
  },

  end(message, kind) {
    Object.values(KEYS).forEach((key) => sessionStorage.removeItem(key));
    clearTimeout(expiryTimer);
    onEnd();
    say(message, kind);
  },
};

// Words a person understands for an error answer, with the server's detail where it helps.
export async function errorText(response) {
  let detail = "";
  try {
    detail = String((await response.json()).error || "");
  } catch {
    // not JSON: fall back to the status's own words below
  }
  if (response.status === 400 && detail) return `${MESSAGES[400]}: ${detail}`;
  return MESSAGES[response.status] || detail || `The server answered ${response.status}.`;
}

export async function send(url, options) {
  try {
    return await fetch(url, options);
  } catch {
    throw new Error(MESSAGES.network);
  }
}

// A call to the upload API (same origin as the page) with the token; a 401 ends the session.
export async function api(path, options = {}) {
  const bearer = session.token();
  if (!bearer) throw new SessionEnded();
  const headers = { ...options.headers, Authorization: `Bearer ${bearer}` };
  const response = await send(path, { ...options, headers });
  if (response.status === 401) {
    session.end(MESSAGES.expired, "error");
    throw new SessionEnded();
  }
  return response;
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}
