// Video2Audio web page: a plain client of the auth and upload HTTP APIs (no framework, no build).
// Every string that comes from a user or the server is inserted with textContent, never as HTML.
import { $, MESSAGES, SessionEnded, api, errorText, fail } from "./session.js";
import { formatBytes, say, send, session } from "./session.js";
import { resumableSupported, uploadResumable } from "./resumable.js";

const LOSSLESS = new Set(["flac", "wav"]);
const PUBLISH_FIELDS = ["start", "end", "loudness", "title", "artist", "album", "year"];
const config = { auth_url: "", max_upload_bytes: 0, resumable_upload_threshold_bytes: 0 };
let pollTimer = null;
let objectUrl = null;
let jobsTimer = null;

function showSignedIn() {
  session.watchExpiry();
  $("session-user").textContent = session.username;
  $("session").hidden = false;
  $("auth-section").hidden = true;
  $("convert-section").hidden = false;
  $("jobs-section").hidden = false;
  $("password").value = "";
  refreshJobs();
}

function showSignedOut() {
  clearTimeout(pollTimer);
  clearTimeout(jobsTimer);
  $("session").hidden = true;
  $("convert-section").hidden = true;
  $("jobs-section").hidden = true;
  $("auth-section").hidden = false;
  $("progress").hidden = true;
  $("jobs").replaceChildren();
  resetResult();
}

// ---- register / log in ---------------------------------------------------------------------
async function onAuth(event) {
  event.preventDefault();
  const action = event.submitter && event.submitter.value === "register" ? "register" : "login";
  const body = { username: $("username").value.trim(), password: $("password").value };
  if (action === "register" && $("email").value.trim()) body.email = $("email").value.trim();
  if (!body.username || !body.password) {
    say("Enter a username and a password.", "error");
    (body.username ? $("password") : $("username")).focus();
    return;
  }
  const response = await send(`${config.auth_url}/${action}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  }).catch((error) => say(error.message, "error"));
  if (!response) return;
  if (action === "register") {
    if (response.status === 201) say("Account created. You can log in now.", "ok");
    else say(await errorText(response), "error");
  } else if (response.ok) {
    say("");
    session.start(body.username, await response.json());
    showSignedIn();
    $("file").focus(); // the login form is gone: keep keyboard users in the flow
  } else if (response.status === 401) {
    say("Wrong username or password.", "error");
  } else {
    say(await errorText(response), "error");
  }
}

// ---- upload and conversion -----------------------------------------------------------------
function setBar(name, percent, text) {
  $(`${name}-progress`).value = Math.max(0, Math.min(100, percent));
  $(`${name}-text`).textContent = text;
}

function resetResult() {
  $("result").hidden = true;
  $("player").removeAttribute("src");
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = null;
}

function onUpload(event) {
  event.preventDefault();
  const file = $("file").files[0];
  if (!file) {
    say("Choose a video file first.", "error");
    $("file").focus();
    return;
  }
  if (config.max_upload_bytes && file.size > config.max_upload_bytes) {
    say(MESSAGES[413], "error");
    return;
  }
  const bearer = session.token();
  if (!bearer) return;
  const form = new FormData();
  form.append("format", $("format").value);
  if (!LOSSLESS.has($("format").value)) form.append("bitrate", $("bitrate").value);
  // The publishing options go before the video, so the server refuses bad ones at once.
  for (const name of PUBLISH_FIELDS) {
    const value = $(name).value.trim();
    if (value) form.append(name, value);
  }
  const cover = $("cover").value;
  const image = $("cover-image").files[0];
  if (cover === "upload") {
    if (!image) {
      say("Choose a cover image, or pick another cover option.", "error");
      $("cover-image").focus();
      return;
    }
    form.append("cover_image", image);
  } else {
    form.append("cover", cover);
  }
  form.append("file", file);
  clearTimeout(pollTimer);
  resetResult();
  say("");
  setBar("upload", 0, "0%");
  setBar("convert", 0, "waiting");
  $("progress").hidden = false;
  $("upload").disabled = true;

  // A large file goes through tus with the same fields as metadata (a cover image follows the
  // upload's creation in a request of its own, before the last byte).
  const threshold = config.resumable_upload_threshold_bytes;
  if (threshold && file.size >= threshold && resumableSupported()) {
    const fields = Object.fromEntries(
      [...form.entries()].filter(([name]) => name !== "file" && name !== "cover_image"),
    );
    uploadLarge(file, fields, bearer, cover === "upload" ? image : null);
    return;
  }

  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/upload");
  xhr.setRequestHeader("Authorization", `Bearer ${bearer}`);
  xhr.upload.onprogress = (progress) => {
    if (!progress.lengthComputable) return;
    const percent = (progress.loaded / progress.total) * 100;
    setBar("upload", percent, `${formatBytes(progress.loaded)} of ${formatBytes(progress.total)}`);
  };
  xhr.onerror = () => {
    $("upload").disabled = false;
    say(MESSAGES.interrupted, "error");
  };
  xhr.onload = () => {
    $("upload").disabled = false;
    let body = {};
    try {
      body = JSON.parse(xhr.responseText || "{}");
    } catch {
      body = {};
    }
    if (xhr.status === 202) {
      setBar("upload", 100, `done (${formatBytes(file.size)})`);
      say(`Uploaded ${file.name}. Converting…`);
      refreshJobs();
      pollJob(body.job_id);
    } else if (xhr.status === 401) {
      session.end(MESSAGES.expired, "error");
    } else {
      $("progress").hidden = true;
      const detail = body.error ? `: ${body.error}` : ".";
      const known = xhr.status === 400 ? null : MESSAGES[xhr.status];
      say(known || `${MESSAGES[400]}${detail}`, "error");
    }
  };
  xhr.send(form);
}

// A large file goes through tus: it survives a dropped connection, and a reload resumes it.
function uploadLarge(file, fields, bearer, coverImage) {
  const progress = (sent, total) => {
    setBar("upload", (sent / total) * 100, `${formatBytes(sent)} of ${formatBytes(total)}`);
  };
  uploadResumable(file, fields, bearer, progress, coverImage).then(
    (jobId) => {
      $("upload").disabled = false;
      setBar("upload", 100, `done (${formatBytes(file.size)})`);
      say(`Uploaded ${file.name}. Converting…`);
      refreshJobs();
      pollJob(jobId);
    },
    ({ status, message }) => {
      $("upload").disabled = false;
      if (status === 401) {
        session.end(MESSAGES.expired, "error");
        return;
      }
      $("progress").hidden = true;
      const known = status === 400 || status === 409 ? null : MESSAGES[status || "interrupted"];
      say(known || `${MESSAGES[400]}${message ? `: ${message}` : "."}`, "error");
    },
  );
}

async function pollJob(jobId) {
  clearTimeout(pollTimer);
  let job;
  try {
    const response = await api(`/jobs/${encodeURIComponent(jobId)}`);
    if (!response.ok) throw new Error(await errorText(response));
    job = await response.json();
  } catch (error) {
    if (error instanceof SessionEnded) return;
    say(error.message, "error");
    pollTimer = setTimeout(() => pollJob(jobId), 3000);
    return;
  }
  if (job.status === "done") {
    setBar("convert", 100, "done");
    refreshJobs();
    showResult(job).catch(fail);
  } else if (job.status === "failed") {
    setBar("convert", job.progress || 0, "failed");
    say(`The conversion failed: ${job.error || "no reason was given"}.`, "error");
    refreshJobs();
  } else if (job.status === "expired") {
    say("This job has expired and its files were deleted.", "error");
  } else {
    setBar("convert", job.progress || 0, `${job.status} ${job.progress || 0}%`);
    pollTimer = setTimeout(() => pollJob(jobId), 1000);
  }
}

function audioName(job) {
  const ext = job.format === "opus" ? "ogg" : job.format || "mp3";
  const base = String(job.filename || "audio").replace(/\.[^.]*$/, "");
  return `${base || "audio"}.${ext}`;
}

// A signed link lets the player stream (and seek, with Range requests) and the browser download
// without the token in any URL; a blob fetched with the token is the fallback.
async function audioUrl(job) {
  const linked = await api(`/jobs/${encodeURIComponent(job.job_id)}/link`, { method: "POST" });
  if (linked.ok) {
    const signed = new URL((await linked.json()).url, location.href);
    return signed.pathname + signed.search; // the page's own origin serves /download
  }
  const response = await api(`/download?fid=${encodeURIComponent(job.audio_fid)}`);
  if (!response.ok) throw new Error(await errorText(response));
  objectUrl = URL.createObjectURL(await response.blob());
  return objectUrl;
}

async function showResult(job) {
  resetResult();
  const url = await audioUrl(job);
  const name = audioName(job);
  $("download").href = url;
  $("download").download = name;
  $("download").textContent = `Download ${name}`;
  $("player").src = url;
  $("result").hidden = false;
  say(`${name} is ready.`, "ok");
}

// ---- jobs list -----------------------------------------------------------------------------
function jobItem(job) {
  const item = document.createElement("li");
  item.dataset.jobId = job.job_id;
  const info = document.createElement("div");
  info.className = "info";
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = job.filename || job.job_id;
  const meta = document.createElement("div");
  meta.className = "meta";
  const status = document.createElement("span");
  status.className = `status status-${job.status}`;
  status.textContent = job.status;
  const facts = [String(job.format || "").toUpperCase()];
  if (job.audio && job.audio.size) facts.push(formatBytes(job.audio.size));
  if (job.expires_at) facts.push(`expires ${new Date(job.expires_at).toLocaleString()}`);
  meta.append(status, ` · ${facts.filter(Boolean).join(" · ")}`);
  info.append(name, meta);
  const buttons = document.createElement("div");
  buttons.className = "buttons";
  if (job.status === "done") {
    buttons.append(button("Play", `Play and download ${name.textContent}`, "secondary", () =>
      showResult(job).then(() => $("download").focus()).catch(fail)));
  }
  buttons.append(button("Delete", `Delete ${name.textContent}`, "danger", () => deleteJob(job, name.textContent)));
  item.append(info, buttons);
  return item;
}

function button(text, label, kind, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = kind;
  element.textContent = text;
  element.setAttribute("aria-label", label);
  element.addEventListener("click", onClick);
  return element;
}

async function refreshJobs() {
  clearTimeout(jobsTimer);
  try {
    const response = await api("/jobs?limit=20");
    if (!response.ok) throw new Error(await errorText(response));
    const jobs = (await response.json()).jobs || [];
    $("jobs").replaceChildren(...jobs.map(jobItem));
    $("jobs-empty").hidden = jobs.length > 0;
    // Keep the list current while something is still converting.
    if (jobs.some((job) => job.status === "queued" || job.status === "processing")) {
      jobsTimer = setTimeout(refreshJobs, 3000);
    }
  } catch (error) {
    fail(error);
  }
}

async function deleteJob(job, label) {
  try {
    const response = await api(`/jobs/${encodeURIComponent(job.job_id)}`, { method: "DELETE" });
    if (!response.ok && response.status !== 404) throw new Error(await errorText(response));
    if ($("download").download && job.status === "done") resetResult();
    say(`Deleted ${label}.`, "ok");
    await refreshJobs();
    $("refresh").focus();
  } catch (error) {
    fail(error);
  }
}

function onFormatChange() {
  const format = $("format").value;
  $("bitrate").disabled = LOSSLESS.has(format);
  $("bitrate").value = format === "opus" ? "128k" : "192k";
}

async function start() {
  try {
    const response = await fetch("/config.json");
    if (response.ok) Object.assign(config, await response.json());
  } catch {
    // fall through to the local default below
  }
  if (!config.auth_url) config.auth_url = `${location.protocol}//${location.hostname}:8081`;
  config.auth_url = config.auth_url.replace(/\/+$/, "");
  $("auth-form").addEventListener("submit", onAuth);
  $("upload-form").addEventListener("submit", onUpload);
  $("format").addEventListener("change", onFormatChange);
  $("cover").addEventListener("change", () => {
    $("cover-image").disabled = $("cover").value !== "upload";
  });
  $("refresh").addEventListener("click", refreshJobs);
  $("logout").addEventListener("click", () => session.end("You have logged out.", "ok"));
  session.onEnd = showSignedOut;
  if (session.token()) showSignedIn();
}

start();
