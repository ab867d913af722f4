// Drop a CSV of one recording on the run page: the predicted class of each window, drawn over
// the recording's signals.
import { el, notify, request, table } from "./api.js";
import { signalChart } from "./signals.js";

const LABEL_COLUMNS = ["sessionId", "activity", "subject", "split"];

function parseCsv(text) {
  const lines = text.trim().split(/\r?\n/);
  const columns = lines[0].split(",").map((c) => c.trim().replace(/^"|"$/g, ""));
  const samples = lines.slice(1).map((line) => line.split(",").map(Number));
  return { columns, samples };
}

export function predictPanel(run) {
  const result = el("div", { id: "prediction" });
  const input = el("input", { id: "predict-file", type: "file", accept: ".csv,text/csv" });
  const zone = el("div", { id: "drop-zone", class: "drop-zone" },
    "Drop a CSV of one recording here (columns: ", run.params.features?.join(", ") ?? "the features", ") or ", input);
  const handle = async (file) => {
    if (!file) return;
    const text = await file.text();
    const response = await request(`/v1/runs/${run.id}/predict?output_frequency=per_window`, {
      method: "POST",
      body: text,
      headers: { "Content-Type": "text/csv" },
    });
    show(result, parseCsv(text), await response.json(), file.name);
  };
  const failed = (error) => notify(`Prediction failed: ${error.message}`);
  input.addEventListener("change", () => handle(input.files[0]).catch(failed));
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    handle(event.dataTransfer.files[0]).catch(failed);
  });
  return el("div", {}, zone, result);
}

function show(into, recording, answer, filename) {
  const p = answer.predictions;
  // The recording's numbers: not its session id or label columns.
  const keep = recording.columns.map((_, i) => i).filter((i) => !LABEL_COLUMNS.includes(recording.columns[i]));
  const document = {
    columns: keep.map((i) => recording.columns[i]),
    samples: recording.samples.map((row) => keep.map((i) => row[i])),
  };
  const time = document.columns.indexOf("timestamp");
  const x = (row) => (time >= 0 ? document.samples[row]?.[time] ?? row : row);
  const last = document.samples.length - 1;
  const windows = p.window.map((_, i) => ({
    start: x(p.first_row[i]),
    end: x(Math.min(p.first_row[i] + p.num_rows[i], last)),
    label: p.class[i],
  }));
  const { box } = signalChart("prediction-signals", document, { windows, classes: answer.classes });
  into.replaceChildren(
    el("h3", {}, `${filename}: ${answer.num_predictions} windows of ${answer.num_rows} rows`),
    box,
    table(["window", "first row", "rows", "predicted class"],
      p.window.map((w, i) => [String(w), String(p.first_row[i]), String(p.num_rows[i]), p.class[i]]),
      { id: "window-predictions" }),
  );
}
