// Live mode: the phone's sensors streamed to a model's live classification WebSocket
// (WS /v1/models/{name}/{ref}/live), the predicted activity and its probability shown large.
// Rows go in the model's canonical units (g, rad/s), keyed by feature name, every FRAME_MS.
import { inProject } from "./collect-project.js";
import { MotionReader, TO_CANONICAL } from "./collect-sensors.js";

const FRAME_MS = 100;
const $ = (id) => document.getElementById(id);
let stopCurrent = () => {};

function liveUrl(model, ref) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${inProject(`/v1/models/${encodeURIComponent(model)}/${encodeURIComponent(ref)}/live`)}`;
}

function state(name, text) {
  $("live-state").dataset.state = name;
  $("live-state").textContent = text;
}

export function startLive({ model, ref, token }) {
  stopCurrent();
  const reader = new MotionReader((row) => pending.push(row));
  let pending = [];
  let timer = null;
  // A browser's WebSocket cannot send headers: the token is a second subprotocol.
  const socket = new WebSocket(liveUrl(model, ref), ["motionlab.live.v1", ...(token ? [`bearer.${token}`] : [])]);
  const scales = () => Object.values(reader.channels).map((channel) => TO_CANONICAL[channel.split(":")[1]]);
  const send = () => {
    if (!pending.length) return;
    const names = reader.names, factors = scales();
    const rows = pending.map((row) => Object.fromEntries(names.map((name, i) => [name, row[i] * factors[i]])));
    pending = [];
    socket.send(JSON.stringify({ rows }));
  };
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "ready") {
      state("streaming", `${model} ${ref}: ${message.classes.join(", ")} · every ${message.prediction_window} samples`);
      reader.start();
      timer = setInterval(send, FRAME_MS);
    } else if (message.type === "prediction") {
      const best = Math.max(...message.probability_vector);
      $("live-class").textContent = message.class;
      $("live-probability").textContent = `${(100 * best).toFixed(0)}%`;
      Object.assign($("live-class").dataset, { window: message.window, probabilities: JSON.stringify(message.probability_vector) });
    } else if (message.type === "error") {
      state("error", `Live classification stopped: ${message.detail}`);
    }
  });
  socket.addEventListener("close", (event) => {
    clearInterval(timer);
    reader.stop();
    if ($("live-state").dataset.state !== "error" && event.code !== 1000) {
      state("closed", `The live stream closed (${event.code}${event.reason ? `: ${event.reason}` : ""}): ` +
        "it needs a token with the 'train' scope (Token below) and a model with that alias or version.");
    }
  });
  stopCurrent = () => {
    send();
    socket.close(1000);
    state("idle", "stopped");
  };
  $("live-stop").onclick = () => stopCurrent();
}
