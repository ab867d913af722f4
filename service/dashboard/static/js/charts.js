// Chart.js (vendored, window.Chart) set up the same way on every page.
export const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];
export const color = (i) => PALETTE[i % PALETTE.length];

Chart.defaults.animation = false; // charts are read, and screenshotted, as soon as drawn
Chart.defaults.maintainAspectRatio = false;

export function chartBox(id, label) {
  const canvas = document.createElement("canvas");
  canvas.id = id;
  canvas.setAttribute("aria-label", label);
  const box = document.createElement("div");
  box.className = "chart";
  box.append(canvas);
  return { box, canvas };
}

export function barChart(canvas, title, counts) {
  const labels = Object.keys(counts);
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: [
        { label: title, data: labels.map((k) => counts[k]), backgroundColor: labels.map((_, i) => color(i)) },
      ],
    },
    options: {
      plugins: { legend: { display: false }, title: { display: true, text: title } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
}

// Lines over a numeric x axis: series = [{label, points: [{x, y}]}].
export function lineChart(canvas, { title, xTitle, yTitle, series, plugins = [] }) {
  return new Chart(canvas, {
    type: "line",
    data: {
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.points,
        borderColor: s.color ?? color(i),
        backgroundColor: s.color ?? color(i),
        borderDash: s.dashed ? [6, 4] : undefined,
        pointRadius: s.points.length > 60 ? 0 : 2,
        borderWidth: 1.5,
        spanGaps: true,
      })),
    },
    options: {
      parsing: false,
      plugins: { title: { display: !!title, text: title } },
      scales: {
        x: { type: "linear", title: { display: !!xTitle, text: xTitle } },
        y: { title: { display: !!yTitle, text: yTitle } },
      },
    },
    plugins,
  });
}

// Training curves: accuracy or loss per iteration, train solid and validation dashed.
export function curveSeries(progress, metric, prefix = "", colorOf = () => undefined) {
  const series = [];
  for (const part of ["train", "validation"]) {
    const points = progress
      .filter((row) => row[`${part}_${metric}`] !== null)
      .map((row) => ({ x: row.iteration, y: row[`${part}_${metric}`] }));
    if (points.length) {
      series.push({ label: `${prefix}${part} ${metric}`, points, dashed: part === "validation", color: colorOf(part) });
    }
  }
  return series;
}
