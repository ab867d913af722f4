// What the dashboard does, not only shows: upload files, start a run, register a run, delete a
// session or a run. Each needs its scope; a refusal (401/403) is said by api.js with the scope
// the route needs, any other failure (a 409's reasons, a 422's detail) here.
import { el, notify, request, sendJSON, token } from "./api.js";

export const reportFailure = (error) => [401, 403].includes(error.status) || notify(error.message);

// Files as one multipart upload (all stored or none; with several files each file's name is
// its session id by default), with progress: XHR, since fetch() reports no upload progress.
function uploadFiles(files, query, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/sessions${query ? `?${query}` : ""}`);
    if (token()) xhr.setRequestHeader("Authorization", `Bearer ${token()}`);
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    xhr.onload = () => {
      let answer = {};
      try {
        answer = JSON.parse(xhr.responseText);
      } catch {
        answer = { detail: `HTTP ${xhr.status}` };
      }
      if (xhr.status < 300) return resolve(answer);
      reject(Object.assign(new Error(answer.detail || `HTTP ${xhr.status}`), { status: xhr.status }));
    };
    xhr.onerror = () => reject(new Error("the network failed during the upload"));
    const body = new FormData();
    for (const file of files) body.append("files", file, file.name);
    xhr.send(body);
  });
}

// Drop files (or choose them): one upload with a progress bar, then what was stored.
export function uploadPanel(onUploaded) {
  const activity = el("input", { id: "upload-activity", placeholder: "from the file" });
  const subject = el("input", { id: "upload-subject", placeholder: "from the file" });
  const files = el("input", { id: "upload-files", type: "file", multiple: true, accept: ".csv,.json,.cbor,.zip,.gz" });
  const list = el("ul", { id: "upload-list" });
  const send = async (chosen) => {
    const query = new URLSearchParams(Object.entries({ activity: activity.value, subject: subject.value }).filter(([, v]) => v));
    const names = [...chosen].map((file) => file.name).join(", ");
    const bar = el("progress", { max: 1, value: 0 });
    const line = el("li", {}, `${names} `, bar, " ");
    list.append(line);
    try {
      const answer = await uploadFiles(chosen, query.toString(), (done) => (bar.value = done));
      bar.value = 1;
      line.dataset.state = "stored";
      line.append(`stored: ${answer.sessions.map((s) => s.id).join(", ")}`);
      onUploaded();
    } catch (error) {
      line.dataset.state = "refused";
      line.append(el("span", { class: "error" }, error.message));
      const scope = [401, 403].includes(error.status) ? " Enter a token with that scope above." : "";
      notify(`${error.message}.${scope}`, scope ? "warning" : "error");
    }
  };
  files.addEventListener("change", () => send(files.files));
  const zone = el("div", { id: "drop-zone", class: "drop-zone" }, "Drop CSV, JSON, Edge Impulse or Sensor Logger files here, or ", files);
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    send(event.dataTransfer.files);
  });
  return el("div", {}, el("p", {}, el("label", {}, "Activity ", activity), " ", el("label", {}, "Subject ", subject)), zone, list);
}

const listOf = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);

// A run from a form: data filters, features, window, recipe, split, iterations; or a sweep of
// that run over several windows (one run each, the best picked on validation), on its page.
export function runForm() {
  const field = (id, label, attributes = {}) => {
    const input = el("input", { id, ...attributes });
    return [input, el("label", {}, `${label} `, input)];
  };
  const [experiment, experimentLabel] = field("run-experiment", "Experiment", { value: "default", required: true });
  const [name, nameLabel] = field("run-name", "Name");
  const [activities, activitiesLabel] = field("run-activities", "Activities", { placeholder: "all" });
  const [features, featuresLabel] = field("run-features", "Features", { placeholder: "shared by the sessions" });
  const [windowSize, windowLabel] = field("run-window", "Window", { type: "number", min: 1, value: 50 });
  const [iterations, iterationsLabel] = field("run-iterations", "Iterations", { type: "number", min: 1, placeholder: "default" });
  const [valid, validLabel] = field("run-valid", "Validation fraction", { type: "number", min: 0, max: 0.9, step: 0.05, value: 0 });
  const [windows, windowsLabel] = field("sweep-windows", "Sweep windows", { placeholder: "10, 20, 50" });
  const recipe = el("select", { id: "run-recipe" }, ["", "motionlab", "turicreate"].map((r) => el("option", { value: r }, r || "default")));
  const split = el("select", { id: "run-split" }, ["auto", "column", "session", "subject", "none"].map((s) => el("option", { value: s }, s)));
  const run = () => ({
    ...(name.value ? { name: name.value } : {}),
    ...(activities.value ? { data: { activities: listOf(activities.value) } } : {}),
    ...(features.value ? { features: listOf(features.value) } : {}),
    prediction_window: Number(windowSize.value),
    ...(iterations.value ? { max_iterations: Number(iterations.value) } : {}),
    ...(recipe.value ? { recipe: recipe.value } : {}),
    split: { strategy: split.value, valid_fraction: Number(valid.value) },
  });
  const submit = (make) => async (event) => {
    event.preventDefault();
    try {
      location.href = await make();
    } catch (error) {
      reportFailure(error);
    }
  };
  const startRun = async () => `/runs/${(await sendJSON("POST", "/v1/runs", { experiment: experiment.value, ...run() })).id}`;
  const startSweep = async () => {
    const { prediction_window: _, ...base } = run();
    const grid = { prediction_window: listOf(windows.value).map(Number) };
    return `/sweeps/${(await sendJSON("POST", "/v1/sweeps", { experiment: experiment.value, run: base, grid })).id}`;
  };
  return el("form", { id: "run-form", onsubmit: submit(startRun) },
    experimentLabel, " ", nameLabel, " ", activitiesLabel, " ", featuresLabel, " ", windowLabel, " ",
    iterationsLabel, " ", el("label", {}, "Recipe ", recipe), " ", el("label", {}, "Split ", split), " ", validLabel, " ",
    el("button", { id: "run-start", type: "submit" }, "Start run"),
    el("p", {}, windowsLabel, " ", el("button", { id: "sweep-start", type: "button", onclick: submit(startSweep) }, "Start sweep")));
}

// DELETE with a confirmation; the API's 409 says what still holds the thing.
export async function deleteThing(path, what, then) {
  if (!confirm(`Delete ${what}? This cannot be undone.`)) return;
  try {
    await request(path, { method: "DELETE" });
    then();
  } catch (error) {
    reportFailure(error);
  }
}

// Register a succeeded run as a new version of a model (admin).
export function registerForm(runId) {
  const name = el("input", { id: "register-model", required: true, placeholder: "walk-run", pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]*" });
  return el("form", { id: "register", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const version = await sendJSON("POST", `/v1/models/${encodeURIComponent(name.value)}/versions`, { run_id: runId });
      notify(`Registered as ${version.name ?? name.value} version ${version.version}: promote it on the Models page.`, "success");
    } catch (error) {
      reportFailure(error);
    }
  } }, "Register as a version of model ", name, " ", el("button", { id: "register-run", type: "submit" }, "Register"));
}
