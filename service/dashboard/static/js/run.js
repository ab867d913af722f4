// A run: live progress (SSE), training curves, the confusion matrix, per-class scores, its
// parameters and data fingerprint, downloads, predictions on a dropped recording, and live
// classification of a replayed session.
import { download, el, fixed, getJSON, pageData, section, start, streamEvents, table, when } from "./api.js";
import { chartBox, color, curveSeries, lineChart } from "./charts.js";
import { metricsView } from "./metrics.js";
import { deleteThing, registerForm } from "./actions.js";
import { livePanel } from "./live.js";
import { predictPanel } from "./predict.js";

const FINISHED = ["succeeded", "failed", "canceled"];

function flatten(value, prefix = "") {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return [[prefix, Array.isArray(value) ? value.join(", ") : value === null ? "–" : String(value)]];
  }
  return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

function statusLine(run) {
  return el("p", { id: "status-line" },
    el("span", { id: "status", class: `status ${run.status}` }, run.status),
    ` · ${run.engine} · experiment ${run.experiment} · created ${when(run.created_at)}` +
      (run.duration_s ? ` · ${fixed(run.duration_s, 1)} s` : ""),
    el("span", { id: "iteration" }, ""),
    el("span", { id: "batch" }, ""),
    el("progress", { id: "epoch-progress", hidden: true }));
}

// The epoch in progress (SSE `batch`, or the run's live_progress): how many of its batches
// have trained and their loss so far, so that a long first epoch shows a sign of life; before
// it, the data loading (SSE `preparing`).
function showEpoch(status, live, finishedIterations) {
  const batch = status.querySelector("#batch");
  const bar = status.querySelector("#epoch-progress");
  if (live?.phase === "preparing") {
    batch.textContent = ` · preparing data: ${live.sessions_loaded} of ${live.sessions_total} sessions loaded`;
    bar.hidden = !live.sessions_total;
    bar.max = live.sessions_total || 1;
    bar.value = live.sessions_loaded;
    return;
  }
  if (!live || live.iteration <= finishedIterations) {
    batch.textContent = "";
    delete batch.dataset.batchesDone;
    bar.hidden = true;
    return;
  }
  const of = live.batches_total ? `, batch ${live.batches_done}/${live.batches_total}` : "";
  const loss = live.train_loss == null ? "" : `, loss ${fixed(live.train_loss, 3)}`;
  batch.textContent = ` · training iteration ${live.iteration}${of}${loss}`;
  batch.dataset.iteration = live.iteration;
  batch.dataset.batchesDone = live.batches_done ?? "";
  bar.hidden = !live.batches_total;
  if (live.batches_total) {
    bar.max = live.batches_total;
    bar.value = live.batches_done;
  }
}

function curves(main, progress) {
  const charts = el("div", { class: "charts" });
  section(main, "Training curves", charts);
  const made = {};
  for (const metric of ["accuracy", "loss"]) {
    const { box, canvas } = chartBox(`curve-${metric}`, `${metric} per iteration`);
    charts.append(box);
    made[metric] = lineChart(canvas, { title: metric, xTitle: "iteration", yTitle: metric, series: curveSeries(progress, metric) });
  }
  return (rows) => {
    for (const metric of ["accuracy", "loss"]) {
      const chart = made[metric];
      const series = curveSeries(rows, metric);
      series.forEach((s, i) => {
        if (chart.data.datasets[i]) chart.data.datasets[i].data = s.points;
        else chart.data.datasets.push({ label: s.label, data: s.points, borderColor: color(i), backgroundColor: color(i), borderDash: s.dashed ? [6, 4] : undefined, borderWidth: 1.5 });
      });
      chart.update();
    }
  };
}

async function render(main) {
  const id = encodeURIComponent(pageData().runId);
  let run = await getJSON(`/v1/runs/${id}`);
  const progress = await getJSON(`/v1/runs/${id}/progress`);
  const status = statusLine(run);
  section(main, "Status", status);
  if (run.error_message) main.append(el("p", { class: "error" }, run.error_message));
  if (run.warnings?.length) main.append(el("ul", { class: "warnings" }, run.warnings.map((w) => el("li", {}, w))));
  const redraw = curves(main, progress);
  const setIteration = () => {
    const last = progress.at(-1);
    status.querySelector("#iteration").textContent = last
      ? ` · iteration ${last.iteration}/${run.params.max_iterations}` : "";
    status.querySelector("#iteration").dataset.iteration = last ? last.iteration : 0;
  };
  setIteration();
  const finished = () => progress.at(-1)?.iteration ?? 0;
  showEpoch(status, run.live_progress, finished());
  const results = section(main, "Metrics", el("p", { id: "metrics-pending" }, "When the run has succeeded."));
  const downloads = section(main, "Downloads");
  const showResults = async (metrics) => {
    results.replaceChildren(el("h2", {}, "Metrics"), metricsView(metrics ?? (await getJSON(`/v1/runs/${id}/metrics`))));
    const model = run.params.model?.name ?? "model";
    downloads.replaceChildren(el("h2", {}, "Downloads"),
      el("button", { id: "download-mlmodel", onclick: () => download(`/v1/runs/${id}/model.mlmodel`, `${model}-${id}.mlmodel`) }, "Core ML model (.mlmodel)"), " ",
      el("button", { id: "download-mlpackage", onclick: () => download(`/v1/runs/${id}/model.mlpackage.zip`, `${model}-${id}.mlpackage.zip`) }, "Core ML ML Program (.mlpackage)"), " ",
      el("button", { id: "download-onnx", onclick: () => download(`/v1/runs/${id}/model.onnx`, `${model}-${id}.onnx`) }, "ONNX (.onnx)"), " ",
      el("button", { id: "download-native", onclick: () => download(`/v1/runs/${id}/model`, `${model}-${id}`) }, `native ${run.engine} model`),
      el("div", {}, el("h2", {}, "Predict"), predictPanel(run)),
      el("div", {}, el("h2", {}, "Live"), livePanel(run)),
      el("div", {}, el("h2", {}, "Register"), registerForm(run.id)));
  };
  section(main, "Delete", el("button", { id: "delete-run", onclick: () =>
    deleteThing(`/v1/runs/${id}`, `run ${run.id} and its artifacts`, () => (location.href = "/runs")) }, "Delete this run"));
  section(main, "Parameters", table(["parameter", "value"], flatten(run.params), { id: "params" }));
  section(main, "Data", table(["", ""], [
    ["data fingerprint", el("code", { id: "fingerprint" }, run.data_fingerprint)],
    ...Object.entries(run.sessions_per_part ?? {}).map(([part, n]) => [`sessions in ${part}`, String(n)]),
    ...Object.entries(run.versions ?? {}).map(([name, version]) => [name, String(version)]),
  ]));
  if (run.status === "succeeded") return showResults();
  if (FINISHED.includes(run.status)) return;
  downloads.append(el("p", {}, "When the run has succeeded."));
  await streamEvents(`/v1/runs/${id}/events`, (event, data) => {
    if (event === "progress") {
      if (!progress.some((row) => row.iteration === data.iteration)) progress.push(data);
      redraw(progress);
      setIteration();
      showEpoch(status, null, finished());
    } else if (event === "batch" || event === "preparing") {
      showEpoch(status, data, finished());
    } else if (event === "status") {
      run = { ...run, status: data.status };
      const badge = status.querySelector("#status");
      badge.textContent = data.status;
      badge.className = `status ${data.status}`;
      if (data.error_message) status.after(el("p", { class: "error" }, data.error_message));
      if (FINISHED.includes(data.status)) showEpoch(status, null, finished());
    } else if (event === "metrics") {
      showResults(data);
    }
  });
}

start(render);
