// A session: its label, subject, rate, duration, and its signals over time.
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
  const { box } = signalChart("signals", samples);
  section(main, `Signals (${session.features.length} features)`, box);
  main.append(el("p", {}, el("a", { href: "/" }, "← all data"), " ",
    el("button", { id: "delete-session", onclick: () =>
      deleteThing(`/v1/sessions/${id}`, `session ${session.id}`, () => (location.href = "/")) }, "Delete this session")));
}

start(render);
