// A sweep: its runs with their statuses and validation metric, and the best by validation.
import { el, fixed, getJSON, pageData, section, start, table } from "./api.js";

const REFRESH_MS = 2000;

function show(main, sweep) {
  main.querySelectorAll("section").forEach((node) => node.remove());
  const counts = Object.entries(sweep.status_counts).map(([status, n]) => `${n} ${status}`).join(" · ");
  const best = sweep.best
    ? el("p", { id: "sweep-best" }, "Best by ", sweep.metric, ": ",
      el("a", { href: `/runs/${sweep.best.run_id}` }, sweep.best.run_id), ` (${fixed(sweep.best.value)}) with `,
      Object.entries(sweep.best.values).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", "))
    : el("p", { id: "sweep-best" }, "No run has succeeded yet.");
  section(main, "Sweep", el("p", { id: "sweep-counts" }, `${sweep.experiment}: ${counts}`), best);
  const grid = Object.keys(sweep.grid);
  section(main, "Runs", table(["run", "status", ...grid, sweep.metric], sweep.runs.map((run) => [
    el("a", { href: `/runs/${run.id}` }, run.name ?? run.id),
    el("span", { class: `status ${run.status}` }, run.status),
    ...grid.map((key) => JSON.stringify(run.params?.[key] ?? run[key] ?? "–")),
    fixed(run.summary?.[sweep.metric]),
  ]), { id: "sweep-runs" }));
}

async function render(main) {
  const path = `/v1/sweeps/${encodeURIComponent(pageData().sweepId)}`;
  for (;;) {
    const sweep = await getJSON(path);
    show(main, sweep);
    if (!["queued", "running"].some((status) => sweep.status_counts[status])) return;
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
  }
}

start(render);
