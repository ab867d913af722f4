// A session: its label, subject, rate, duration, its channels (what each column holds, in which
// unit, and what a run reads it as), the unit checks' warnings, and its signals over time.
import { el, fixed, getJSON, pageData, section, start, table } from "./api.js";
import { deleteThing } from "./actions.js";
import { signalChart } from "./signals.js";

async function render(main) {
  const id = encodeURIComponent(pageData().sessionId);
  const [session, samples] = await Promise.all([
    getJSON(`/v1/sessions/${id}`),
    getJSON(`/v1/sessions/${id}/samples`),
  ]);
  section(
    main,
    "Session",
    table(
      ["activity", "subject", "split", "sample rate (Hz)", "rows", "duration (s)", "source"],
      [[session.activity, session.subject ?? "–", session.split ?? "–", fixed(session.sample_rate_hz, 1), String(session.row_count), fixed(session.duration_s, 1), session.source ?? "–"]],
      { id: "session-facts" },
    ),
  );
  section(
    main,
    "Channels",
    table(
      ["column", "sensor", "axis", "unit", "feature", "trained in"],
      session.channels.map((c) => [c.column, c.sensor, c.axis ?? "–", c.unit || "–", c.name, c.canonical_unit || "–"]),
      { id: "session-channels" },
    ),
    session.warnings.length
      ? el("ul", { id: "session-warnings", class: "warnings" }, session.warnings.map((w) => el("li", {}, w)))
      : el("p", { id: "session-warnings" }, "No warnings: the values look like their units."),
  );
  const { box } = signalChart("signals", samples);
  section(main, `Signals (${session.features.length} features)`, box);
  main.append(el("p", {}, el("a", { href: "/" }, "← all data"), " ",
    el("button", { id: "delete-session", onclick: () =>
      deleteThing(`/v1/sessions/${id}`, `session ${session.id}`, () => (location.href = "/")) }, "Delete this session")));
}

start(render);
