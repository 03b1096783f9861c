// Video2Audio web page: a plain client of the auth and upload HTTP APIs (no framework, no build).
// Every string that comes from a user or the server is inserted with textContent, never as HTML.
import { $, MESSAGES, SessionEnded, api, errorText, fail } from "./session.js";
import { formatBytes, say, send, session } from "./session.js";
import { resumableSupported, uploadResumable } from "./resumable.js";
import { FORMATS_WITH_COVER, prepareUpload } from "./prepare.js";
import { postForm } from "./sending.js";
import { refreshJobs, setJobActions, stopJobs } from "./jobs.js";

const LOSSLESS = new Set(["flac", "wav"]);
const PUBLISH_FIELDS = ["start", "end", "loudness", "title", "artist", "album", "year"];
const config = { auth_url: "", max_upload_bytes: 0, resumable_upload_threshold_bytes: 0 };
let pollTimer = null;
let objectUrl = null;

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
  stopJobs();
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

function uploadFailed(message) {
  $("upload").disabled = false;
  $("progress").hidden = true;
  say(message, "error");
}

function showSent(sent, total) {
  setBar("upload", (sent / total) * 100, `${formatBytes(sent)} of ${formatBytes(total)}`);
}

async function onUpload(event) {
  event.preventDefault();
  const file = $("file").files[0];
  if (!file) {
    say("Choose a video file first.", "error");
    $("file").focus();
    return;
  }
  const format = $("format").value;
  const cover = $("cover").value;
  const image = $("cover-image").files[0];
  if (cover === "upload" && !image) {
    say("Choose a cover image, or pick another cover option.", "error");
    $("cover-image").focus();
    return;
  }
  if (!session.token()) return;
  clearTimeout(pollTimer);
  resetResult();
  say("");
  $("upload-note").textContent = "";
  setBar("upload", 0, "reading the file");
  setBar("convert", 0, "waiting");
  $("progress").hidden = false;
  $("upload").disabled = true;
  let prepared;
  try {
    prepared = await prepareUpload(file, {
      wholeVideo: $("send-video").checked,
      wantCover: cover === "auto" && FORMATS_WITH_COVER.has(format),
      onProgress: (read, total) =>
        setBar("upload", (read / total) * 100, `taking out the sound ${Math.floor((read / total) * 100)}%`),
    });
  } catch (error) {
    uploadFailed(error.message);
    return;
  }
  const { payload } = prepared;
  $("upload-note").textContent = prepared.note;
  if (config.max_upload_bytes && payload.size > config.max_upload_bytes) {
    uploadFailed(MESSAGES[413]);
    return;
  }
  const bearer = session.token(); // the session may have ended while the sound was taken out
  if (!bearer) {
    $("upload").disabled = false;
    return;
  }
  setBar("upload", 0, "0%");
  const form = new FormData();
  form.append("format", format);
  if (!LOSSLESS.has(format)) form.append("bitrate", $("bitrate").value);
  // The publishing options go before the video, so the server refuses bad ones at once.
  for (const name of PUBLISH_FIELDS) {
    const value = $(name).value.trim();
    if (value) form.append(name, value);
  }
  // A frame taken here stands for cover=auto: the sound alone has no picture to take one from.
  if (cover === "upload") form.append("cover_image", image);
  else if (prepared.cover) form.append("cover_image", prepared.cover, "cover.jpg");
  else form.append("cover", cover);
  form.append("file", payload);

  // A large payload goes through tus with the same fields as metadata (a cover image, uploaded
  // or the frame taken here, follows the upload's creation in a request of its own).
  const threshold = config.resumable_upload_threshold_bytes;
  if (threshold && payload.size >= threshold && resumableSupported()) {
    const fields = Object.fromEntries(
      [...form.entries()].filter(([name]) => name !== "file" && name !== "cover_image"),
    );
    uploadLarge(payload, fields, bearer, cover === "upload" ? image : prepared.cover || null);
    return;
  }
  let answer;
  try {
    answer = await postForm(form, bearer, showSent);
  } catch {
    $("upload").disabled = false;
    say(MESSAGES.interrupted, "error");
    return;
  }
  $("upload").disabled = false;
  const { status, body } = answer;
  if (status === 202) {
    setBar("upload", 100, `done (${formatBytes(payload.size)})`);
    say(`Uploaded ${file.name}. Converting…`);
    refreshJobs();
    pollJob(body.job_id);
  } else if (status === 401) {
    session.end(MESSAGES.expired, "error");
  } else {
    const detail = body.error ? `: ${body.error}` : ".";
    const known = status === 400 ? null : MESSAGES[status];
    uploadFailed(known || `${MESSAGES[400]}${detail}`);
  }
}

// A large file goes through tus: it survives a dropped connection, and a reload resumes it.
function uploadLarge(file, fields, bearer, coverImage) {
  uploadResumable(file, fields, bearer, showSent, coverImage).then(
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
  setJobActions({
    play: (job) => showResult(job).then(() => $("download").focus()).catch(fail),
    deleted: (job) => {
      if ($("download").download && job.status === "done") resetResult();
    },
  });
  if (session.token()) showSignedIn();
}

start();
