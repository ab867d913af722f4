// 2–5 runs side by side: their curves overlaid, and the parameters and metrics that differ.
import { el, fixed, getJSON, notify, section, start } from "./api.js";
import { chartBox, color, curveSeries, lineChart } from "./charts.js";

const flatten = (value, prefix = "") =>
  value !== null && typeof value === "object" && !Array.isArray(value)
    ? Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k))
    : [[prefix, Array.isArray(value) ? value.join(", ") : value === null ? "–" : String(value)]];

async function render(main) {
  const ids = (new URLSearchParams(location.search).get("runs") ?? "").split(",").filter(Boolean);
  if (ids.length < 2 || ids.length > 5) {
    notify("Compare takes 2 to 5 runs: pick them on the Runs page (?runs=id,id).", "warning");
    main.querySelector(".loading")?.remove();
    return;
  }
  const runs = await Promise.all(ids.map((id) => getJSON(`/v1/runs/${encodeURIComponent(id)}`)));
  const progress = await Promise.all(ids.map((id) => getJSON(`/v1/runs/${encodeURIComponent(id)}/progress`)));
  const name = (run) => run.name ?? run.id;
  section(main, "Runs", el("ul", { id: "compared" }, runs.map((run, i) =>
    el("li", { style: `color: ${color(i)}` }, el("a", { href: `/runs/${run.id}` }, name(run)), ` (${run.status})`))));
  const charts = el("div", { class: "charts" });
  section(main, "Curves", charts);
  for (const metric of ["accuracy", "loss"]) {
    const { box, canvas } = chartBox(`compare-${metric}`, `${metric} of each run`);
    charts.append(box);
    const series = runs.flatMap((run, i) => curveSeries(progress[i], metric, `${name(run)} `, () => color(i)));
    lineChart(canvas, { title: metric, xTitle: "iteration", yTitle: metric, series });
  }
  const rows = new Map();
  runs.forEach((run, i) => {
    const facts = [
      ...flatten({ engine: run.engine, experiment: run.experiment, data_fingerprint: run.data_fingerprint, params: run.params }),
      ...Object.entries(run.summary ?? {}).map(([k, v]) => [`metric.${k}`, fixed(v)]),
    ];
    for (const [key, value] of facts) {
      if (!rows.has(key)) rows.set(key, Array(runs.length).fill("–"));
      rows.get(key)[i] = value;
    }
  });
  const onlyDifferences = el("input", { type: "checkbox", id: "only-differences", checked: true });
  const body = el("tbody");
  const draw = () => body.replaceChildren(...[...rows].filter(([, values]) =>
    !onlyDifferences.checked || new Set(values).size > 1).map(([key, values]) => {
    const differs = new Set(values).size > 1;
    return el("tr", { class: differs ? "differs" : "", dataset: { key } }, el("th", {}, key), values.map((v) => el("td", {}, v)));
  }));
  onlyDifferences.addEventListener("change", draw);
  draw();
  section(main, "Parameters and metrics",
    el("label", {}, onlyDifferences, " only what differs"),
    el("table", { id: "diff" }, el("thead", {}, el("tr", {}, el("th", {}, ""), runs.map((run) => el("th", {}, name(run))))), body));
}

start(render);
