// The run page's live panel: replay a stored session through the run's live classification
// WebSocket (WS /v1/runs/{id}/live) at recording speed, and show each window's prediction as
// it arrives, the way a phone streaming its sensors would see them.
import { apiPath, el, getJSON, notify, token } from "./api.js";

const SPEEDS = [1, 10, 100];
const DEFAULT_RATE_HZ = 10; // a session without a sample rate is replayed at 10 rows a second

function liveUrl(runId) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${apiPath(`/v1/runs/${encodeURIComponent(runId)}/live`)}`;
}

// A browser's WebSocket cannot send an Authorization header: the token travels as a second
// subprotocol; the server selects the first and never echoes the token.
const protocols = () => ["motionlab.live.v1", ...(token() ? [`bearer.${token()}`] : [])];

// Rows as objects keyed by column: the server takes the model's features, ignores the rest.
function rowObjects(samples) {
  return samples.samples.map((row) => Object.fromEntries(samples.columns.map((c, i) => [c, row[i]])));
}

function replay(runId, samples, speed, view) {
  const rows = rowObjects(samples);
  const intervalMs = 1000 / ((samples.sample_rate_hz || DEFAULT_RATE_HZ) * speed);
  const socket = new WebSocket(liveUrl(runId), protocols());
  let timer = null;
  let classes = [];
  const sendDueRows = (started, sent) => {
    // Every row whose time has come, in one frame (timers are coarser than fast replays).
    const due = Math.min(rows.length, Math.floor((performance.now() - started) / intervalMs) + 1);
    if (due > sent) socket.send(JSON.stringify({ rows: rows.slice(sent, due) }));
    if (due >= rows.length) return socket.send(JSON.stringify({ end: true }));
    timer = setTimeout(() => sendDueRows(started, due), intervalMs);
  };
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "ready") {
      classes = message.classes;
      view.state("streaming", `streaming ${rows.length} rows at ${speed}× …`);
      sendDueRows(performance.now(), 0);
    } else if (message.type === "prediction") {
      view.prediction(message, classes);
    } else if (message.type === "end") {
      view.state("ended", `${message.num_windows} windows of ${message.num_rows} rows`);
      socket.close(1000);
    } else if (message.type === "error") {
      notify(`Live classification stopped: ${message.detail}`);
    }
  });
  socket.addEventListener("close", (event) => {
    clearTimeout(timer);
    if (event.code !== 1000) view.state("closed", `closed (${event.code}) ${event.reason}`);
  });
  socket.addEventListener("error", () =>
    notify("The live stream could not open: it needs a token with the 'train' scope, entered above."));
  return socket;
}

function windowsView() {
  const current = el("div", { id: "live-current", class: "live-current" }, "–");
  const bars = el("div", { id: "live-bars", class: "live-bars" });
  const body = el("tbody");
  const columns = ["window", "first row", "rows", "class", "probability"];
  const windows = el("table", { id: "live-predictions" },
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", {}, c)))), body);
  const stateLine = el("span", { id: "live-state", dataset: { state: "idle" } }, "");
  return {
    nodes: [stateLine, current, bars, windows],
    clear: () => body.replaceChildren(),
    state(state, text) {
      stateLine.dataset.state = state;
      stateLine.textContent = text;
    },
    prediction(message, classes) {
      const p = message.probability_vector;
      const best = p[classes.indexOf(message.class)];
      current.textContent = `${message.class} (${(100 * best).toFixed(0)}%)`;
      bars.replaceChildren(...classes.map((name, i) =>
        el("div", { class: "live-bar" }, el("span", {}, name),
          el("span", { class: "bar", style: `width: ${(100 * p[i]).toFixed(1)}%` }))));
      body.append(el("tr", { dataset: { probabilities: JSON.stringify(p) } },
        [message.window, message.first_row, message.num_rows, message.class, best.toFixed(3)]
          .map((cell) => el("td", {}, String(cell)))));
    },
  };
}

export function livePanel(run) {
  const sessions = el("select", { id: "live-session" });
  const speed = el("select", { id: "live-speed" }, SPEEDS.map((s) => el("option", { value: s }, `${s}×`)));
  const view = windowsView();
  let socket = null;
  const stop = () => {
    socket?.close(1000);
    socket = null;
  };
  const start = async () => {
    stop();
    view.clear();
    const samples = await getJSON(`/v1/sessions/${encodeURIComponent(sessions.value)}/samples`);
    socket = replay(run.id, samples, Number(speed.value), view);
  };
  getJSON("/v1/sessions?limit=1000").then((page) =>
    sessions.append(...page.items.map((s) => el("option", { value: s.id }, `${s.id} (${s.activity})`))));
  return el("div", { class: "live" },
    el("p", {}, "Replay a stored session through live classification, window by window: ",
      sessions, " at ", speed, " ",
      el("button", { id: "live-replay", onclick: () => start().catch((e) => notify(e.message)) }, "Replay"), " ",
      el("button", { id: "live-stop", onclick: stop }, "Stop")),
    ...view.nodes);
}
