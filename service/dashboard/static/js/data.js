// Data: sessions per activity / subject / split and per set of channels, the data checks'
// warnings, every session with its channels.
import { el, getJSON, fixed, section, start, table } from "./api.js";
import { uploadPanel } from "./actions.js";
import { barChart, chartBox } from "./charts.js";

const PAGE_SIZE = 25;

function counts(groups) {
  return Object.fromEntries(Object.entries(groups).map(([k, g]) => [k, g.sessions]));
}

async function render(main) {
  const stats = await getJSON("/v1/stats");
  section(
    main,
    "Stored",
    el("p", { id: "totals" }, `${stats.sessions} sessions · ${stats.rows} rows · ${fixed(stats.seconds, 0)} s`),
  );
  const charts = el("div", { class: "charts" });
  section(main, "Sessions", charts);
  for (const [group, title] of [["by_activity", "per activity"], ["by_subject", "per subject"], ["by_split", "per split"]]) {
    const { box, canvas } = chartBox(`sessions-${group}`, `sessions ${title}`);
    charts.append(box);
    barChart(canvas, `Sessions ${title}`, counts(stats[group]));
  }
  const channelRows = Object.entries(stats.by_channels).map(([features, g]) => [features || "–", String(g.sessions), String(g.rows)]);
  section(main, "Channels", table(["canonical features", "sessions", "rows"], channelRows, { id: "by-channels" }));
  section(
    main,
    "Data checks",
    stats.warnings.length
      ? el("ul", { id: "warnings", class: "warnings" }, stats.warnings.map((w) => el("li", {}, w)))
      : el("p", { id: "warnings" }, "No warnings: the classes are balanced and every session is usable."),
  );
  const list = section(main, "Sessions");
  section(main, "Upload", uploadPanel(() => listSessions(list, 0)));
  await listSessions(list, 0);
}

async function listSessions(into, offset) {
  const page = await getJSON(`/v1/sessions?limit=${PAGE_SIZE}&offset=${offset}`);
  into.querySelector("table")?.remove();
  into.querySelector(".pager")?.remove();
  const rows = page.items.map((s) => [
    el("a", { href: `/sessions/${encodeURIComponent(s.id)}` }, s.id),
    s.activity,
    s.subject ?? "–",
    s.split ?? "–",
    String(s.row_count),
    fixed(s.duration_s, 1),
    channelSummary(s.channels),
    s.warnings.length ? el("span", { class: "warning", title: s.warnings.join("\n") }, `${s.warnings.length} ⚠`) : "",
  ]);
  into.append(table(["session", "activity", "subject", "split", "rows", "seconds", "channels", "warnings"], rows, { id: "sessions" }));
  const pager = el("p", { class: "pager" }, `${offset + 1}–${offset + page.items.length} of ${page.total} `);
  if (offset > 0) pager.append(el("button", { onclick: () => listSessions(into, offset - PAGE_SIZE) }, "previous"));
  if (offset + PAGE_SIZE < page.total) pager.append(el("button", { onclick: () => listSessions(into, offset + PAGE_SIZE) }, "next"));
  into.append(pager);
}

// "accelerometer x y z (m/s2), gyroscope x y z (deg/s), heart_rate": each sensor once, with its
// axes and the unit its values are stored in; `other` columns by name.
function channelSummary(channels) {
  const sensors = new Map();
  for (const c of channels) {
    const key = c.sensor === "other" ? c.column : `${c.sensor}|${c.unit}`;
    if (!sensors.has(key)) sensors.set(key, { ...c, axes: [] });
    if (c.axis) sensors.get(key).axes.push(c.axis);
  }
  return [...sensors.values()]
    .map((c) => (c.sensor === "other" ? c.column + (c.unit ? ` (${c.unit})` : "") : `${c.sensor} ${c.axes.join(" ")} (${c.unit})`))
    .join(", ");
}

start(render);
