// A metric set (GET /v1/runs/{id}/metrics, one part): the confusion matrix as a heat-map and
// precision / recall / F1 per class.
import { el, fixed, table } from "./api.js";

const f1 = (p, r) => (p === null || r === null || p + r === 0 ? null : (2 * p * r) / (p + r));

export function confusionHeatmap(metrics) {
  const classes = metrics.report_by_class.map((row) => row.class);
  for (const cell of metrics.confusion_matrix) {
    for (const name of [cell.class, cell.predicted_class]) if (!classes.includes(name)) classes.push(name);
  }
  const count = new Map(metrics.confusion_matrix.map((c) => [`${c.class}\u0000${c.predicted_class}`, c.count]));
  const rows = classes.map((actual) => {
    const counts = classes.map((predicted) => count.get(`${actual}\u0000${predicted}`) ?? 0);
    const total = counts.reduce((a, b) => a + b, 0) || 1;
    return el("tr", {}, el("th", { scope: "row" }, actual), counts.map((n, i) => {
      const share = n / total; // the row's share: how the actual class was predicted
      return el("td", {
        class: "cell",
        dataset: { actual, predicted: classes[i], count: n },
        style: `background: rgba(31, 119, 180, ${share.toFixed(3)}); color: ${share > 0.5 ? "#fff" : "#222"}`,
        title: `${actual} predicted as ${classes[i]}: ${n} (${(share * 100).toFixed(1)}% of ${actual})`,
      }, String(n));
    }));
  });
  return el(
    "table",
    { class: "confusion" },
    el("thead", {}, el("tr", {}, el("th", {}, "actual \\ predicted"), classes.map((c) => el("th", {}, c)))),
    el("tbody", {}, rows),
  );
}

export function perClassTable(metrics) {
  return table(
    ["class", "examples", "precision", "recall", "F1"],
    metrics.report_by_class.map((row) => [
      row.class, String(row.actual_count), fixed(row.precision), fixed(row.recall), fixed(f1(row.precision, row.recall)),
    ]),
    { class: "per-class" },
  );
}

export function summaryLine(metrics) {
  return el("p", { class: "summary" },
    `accuracy ${fixed(metrics.accuracy)} · precision ${fixed(metrics.precision)} · recall ${fixed(metrics.recall)} · ` +
    `F1 ${fixed(metrics.f1_score)} · log loss ${fixed(metrics.log_loss)} · AUC ${fixed(metrics.auc)} · ${metrics.num_examples} examples`);
}

// Every part of a run's metrics (train, validation, test), with a chooser; the test part first.
export function metricsView(allMetrics) {
  const parts = ["test", "validation", "valid", "train"].filter((p) => allMetrics[p]);
  const body = el("div", { id: "metrics-part" });
  const show = (part) => {
    const m = allMetrics[part];
    body.replaceChildren(
      summaryLine(m),
      el("div", { class: "side-by-side" },
        el("div", {}, el("h3", {}, "Confusion matrix"), confusionHeatmap(m)),
        el("div", {}, el("h3", {}, "Per class"), perClassTable(m))),
    );
    body.dataset.part = part;
  };
  const chooser = el("div", { class: "tabs" }, parts.map((part) =>
    el("button", { dataset: { part }, onclick: (e) => {
      chooser.querySelectorAll("button").forEach((b) => b.classList.toggle("current", b === e.target));
      show(part);
    } }, part)));
  chooser.querySelector("button")?.classList.add("current");
  if (parts.length) show(parts[0]);
  return el("div", { id: "metrics" }, chooser, body);
}
