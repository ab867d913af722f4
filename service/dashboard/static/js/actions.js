// What the dashboard does, not only shows: upload files, register a run, delete a session or a
// run (run-form.js starts runs and sweeps). Each needs its scope; a refusal (401/403) is said
// by api.js with the scope the route needs, any other failure (a 409's reasons, a 422's detail)
// here.
import { apiPath, el, notify, request, sendJSON, token } from "./api.js";

export const reportFailure = (error) => [401, 403].includes(error.status) || notify(error.message);

// Files as one multipart upload (all stored or none; with several files each file's name is
// its session id by default), with progress: XHR, since fetch() reports no upload progress.
function uploadFiles(files, query, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", apiPath(`/v1/sessions${query ? `?${query}` : ""}`));
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
  // Files dragged over the zone are accepted (no default: the browser would open the file).
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    send(event.dataTransfer.files);
  });
  return el("div", {}, el("p", {}, el("label", {}, "Activity ", activity), " ", el("label", {}, "Subject ", subject)), zone, list);
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
