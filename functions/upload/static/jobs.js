// The list of recent jobs (GET /jobs), kept current while something converts, each with its
// Play and Delete buttons. Every string from the server is inserted with textContent.
import { $, api, errorText, fail, formatBytes, say } from "./session.js";

let timer = null;
// What the page does when a job is to be played, and once one is deleted.
const actions = { play: () => {}, deleted: () => {} };

export function setJobActions({ play, deleted }) {
  Object.assign(actions, { play, deleted });
}

export function stopJobs() {
  clearTimeout(timer);
}

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
  if (job.received === "audio_only") facts.push("only the sound was uploaded");
  if (job.expires_at) facts.push(`expires ${new Date(job.expires_at).toLocaleString()}`);
  meta.append(status, ` · ${facts.filter(Boolean).join(" · ")}`);
  info.append(name, meta);
  const buttons = document.createElement("div");
  buttons.className = "buttons";
  if (job.status === "done") {
    buttons.append(button("Play", `Play and download ${name.textContent}`, "secondary", () => actions.play(job)));
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

export async function refreshJobs() {
  clearTimeout(timer);
  try {
    const response = await api("/jobs?limit=20");
    if (!response.ok) throw new Error(await errorText(response));
    const jobs = (await response.json()).jobs || [];
    $("jobs").replaceChildren(...jobs.map(jobItem));
    $("jobs-empty").hidden = jobs.length > 0;
    // Keep the list current while something is still converting.
    if (jobs.some((job) => job.status === "queued" || job.status === "processing")) {
      timer = setTimeout(refreshJobs, 3000);
    }
  } catch (error) {
    fail(error);
  }
}

async function deleteJob(job, label) {
  try {
    const response = await api(`/jobs/${encodeURIComponent(job.job_id)}`, { method: "DELETE" });
    if (!response.ok && response.status !== 404) throw new Error(await errorText(response));
    actions.deleted(job);
    say(`Deleted ${label}.`, "ok");
    await refreshJobs();
    $("refresh").focus();
  } catch (error) {
    fail(error);
  }
}
