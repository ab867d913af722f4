// /collect: record labelled sessions with a phone's motion sensors, keep or discard each, and
// upload them (queued offline); or classify the sensors live with a chosen model (Live).
import { askPermission, Recording, sensorProblem } from "./collect-sensors.js";
import { enqueue, flush, UploadRefused, waiting } from "./collect-queue.js";
import { startLive } from "./collect-live.js";
import { inProject, keepProject, project } from "./collect-project.js";

const TOKEN_KEY = "motionlab.collect.token";
const RETRY_MS = 15_000;
const $ = (id) => document.getElementById(id);
export const token = () => localStorage.getItem(TOKEN_KEY) || "";

// The dashboard's QR code carries the token in the fragment (never sent to a server): keep it
// on the phone and take it out of the address bar and the history.
function takeTokenFromAddress() {
  const given = new URLSearchParams(location.hash.slice(1));
  const fromAddress = given.get("token");
  if (fromAddress) {
    localStorage.setItem(TOKEN_KEY, fromAddress);
    keepProject(given.get("project")); // the token's project (none: the default one)
  }
  if (location.hash) history.replaceState(null, "", location.pathname);
}

// One line says what stops the user: the sensors' problem, or (kind "upload") the server's.
export function showProblem(message, kind = "sensors") {
  $("problem").textContent = message ?? "";
  $("problem").dataset.kind = kind;
  $("problem").hidden = !message;
}

function show(step) {
  for (const id of ["setup", "recording", "review"]) $(id).hidden = id !== step;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function newSessionId() {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const random = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0"));
  return `phone-${stamp}-${random.join("")}`;
}

// The accelerometer's three axes over the recording, for a look before keeping it.
function drawPreview(canvas, recording) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  const rows = recording.samples;
  if (!rows.length) return;
  const values = rows.flatMap((row) => row.slice(1, 4));
  const low = Math.min(...values), high = Math.max(...values);
  const y = (v) => height - 4 - ((v - low) / (high - low || 1)) * (height - 8);
  ["#1f77b4", "#ff7f0e", "#2ca02c"].forEach((color, axis) => {
    context.strokeStyle = color;
    context.beginPath();
    rows.forEach((row, i) => context.lineTo((i / Math.max(rows.length - 1, 1)) * width, y(row[1 + axis])));
    context.stroke();
  });
}

async function record(settings) {
  const recording = new Recording();
  show("recording");
  for (let left = settings.countdown; left > 0; left -= 1) {
    $("countdown-left").textContent = left;
    await sleep(1000);
  }
  $("countdown-left").textContent = "●";
  recording.reader.start();
  const stopped = new Promise((resolve) => ($("stop").onclick = resolve));
  const timer = setInterval(() => ($("progress").textContent =
    `${recording.seconds.toFixed(1)} s · ${recording.samples.length} samples`), 250);
  await (settings.duration ? Promise.race([stopped, sleep(settings.duration * 1000)]) : stopped);
  clearInterval(timer);
  recording.reader.stop();
  return recording;
}

function review(recording, labels) {
  show("review");
  const session = recording.session({ id: newSessionId(), ...labels });
  drawPreview($("preview"), recording);
  $("summary").textContent = session.samples.length
    ? `${session.activity}: ${(session.samples.length / session.sample_rate_hz).toFixed(1)} s, ${session.samples.length} samples at ` +
      `${session.sample_rate_hz} Hz (${session.columns.length - 1} channels)`
    : "No motion data arrived: this device or browser gives no motion sensors to this page.";
  $("keep").disabled = !session.samples.length;
  return new Promise((resolve) => {
    $("keep").onclick = () => resolve(session);
    $("discard").onclick = () => resolve(null);
  });
}

async function showQueue() {
  const count = (await waiting()).length;
  $("queue-state").dataset.waiting = count;
  $("queue-state").textContent = count ? `${count} recording(s) waiting to upload` : "All recordings uploaded";
}

async function upload() {
  try {
    await flush(token(), (session) => {
      $("uploaded").prepend(Object.assign(document.createElement("li"), {
        textContent: `${session.id} (${session.activity}) stored`,
      }));
    });
    if ($("problem").dataset.kind === "upload") showProblem(null);
  } catch (error) {
    if (error instanceof UploadRefused) {
      const scope = [401, 403].includes(error.status)
        ? " Scan the dashboard's QR code again for a fresh upload token." : "";
      showProblem(`The server refused an upload: ${error.message}.${scope}`, "upload");
    } // else offline: the recordings wait for the network
  }
  await showQueue();
}

async function offerLabels() {
  if (!navigator.onLine) return;
  const response = await fetch(inProject("/v1/labels"), { headers: token() ? { Authorization: `Bearer ${token()}` } : {} });
  if (!response.ok) return; // typing new labels still works
  const labels = await response.json();
  const options = (values) => values.map((value) => Object.assign(document.createElement("option"), { value }));
  $("activities").replaceChildren(...options(labels.activities));
  $("subjects").replaceChildren(...options(labels.subjects));
}

function setUpRecorder() {
  $("setup").addEventListener("submit", async (event) => {
    event.preventDefault();
    const refused = await askPermission(); // inside the tap, as iOS requires
    if (refused) return showProblem(refused);
    const labels = { activity: $("activity").value.trim(), subject: $("subject").value.trim() };
    const recording = await record({ countdown: Number($("countdown").value), duration: Number($("duration").value) });
    const kept = await review(recording, labels);
    show("setup");
    if (kept) {
      await enqueue({ ...kept, project: project() }); // uploaded where it was recorded for
      await upload();
    }
  });
}

function setUpModes() {
  for (const mode of ["record", "live"]) {
    $(`mode-${mode}`).addEventListener("click", () => {
      for (const other of ["record", "live"]) {
        $(other).hidden = other !== mode;
        $(`mode-${other}`).classList.toggle("current", other === mode);
      }
    });
  }
  $("live-setup").addEventListener("submit", (event) => {
    event.preventDefault();
    startLive({ model: $("live-model").value.trim(), ref: $("live-ref").value.trim(), token: token() });
  });
}

function setUpTokenForm() {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    upload();
  });
}

takeTokenFromAddress();
setUpRecorder();
setUpModes();
setUpTokenForm();
const problem = sensorProblem();
if (problem) {
  showProblem(problem);
  $("start").disabled = $("live-start").disabled = true;
}
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/collect.sw.js", { scope: "/collect" }).catch(console.warn);
}
window.addEventListener("online", upload);
setInterval(() => navigator.onLine && upload(), RETRY_MS);
offerLabels().catch(console.warn);
upload();
document.body.dataset.ready = "true"; // the handlers are in place (tests wait for it)
