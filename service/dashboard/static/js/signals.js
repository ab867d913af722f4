// A recording's signals over time, one line per feature; optionally the predicted class of
// each window drawn as coloured bands behind the lines.
import { chartBox, color, lineChart } from "./charts.js";

// document: {columns, samples, sample_rate_hz}: upload JSON (GET …/samples, Accept: JSON).
export function signalSeries(document) {
  const time = document.columns.indexOf("timestamp");
  const rate = document.sample_rate_hz;
  const x = (row, i) => (time >= 0 ? row[time] : rate ? i / rate : i);
  return document.columns
    .map((name, column) => ({ name, column }))
    .filter(({ column }) => column !== time)
    .map(({ name, column }) => ({
      label: name,
      points: document.samples.map((row, i) => ({ x: x(row, i), y: row[column] })),
    }));
}

export function timeTitle(document) {
  if (document.columns.includes("timestamp")) return "time (s)";
  return document.sample_rate_hz ? "time (s)" : "sample";
}

// windows: [{start, end, label}] in x units; classes: every class, for stable colours.
function windowBands(windows, classes) {
  return {
    id: "windowBands",
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      for (const w of windows) {
        const left = scales.x.getPixelForValue(w.start);
        const right = scales.x.getPixelForValue(w.end);
        ctx.fillStyle = color(classes.indexOf(w.label)) + "33";
        ctx.fillRect(left, chartArea.top, right - left, chartArea.bottom - chartArea.top);
        ctx.fillStyle = "#333";
        ctx.font = "11px sans-serif";
        ctx.fillText(w.label, left + 3, chartArea.top + 12, right - left - 4);
      }
      ctx.restore();
    },
  };
}

export function signalChart(id, document, { windows = [], classes = [] } = {}) {
  const { box, canvas } = chartBox(id, "signals over time");
  box.classList.add("wide");
  const chart = lineChart(canvas, {
    xTitle: timeTitle(document),
    yTitle: "value",
    series: signalSeries(document),
    plugins: windows.length ? [windowBands(windows, classes)] : [],
  });
  return { box, chart };
}
