// Registered models: versions with their metrics, aliases with their history, and promoting a
// version to an alias (a registry write: a token with the admin scope).
import { el, fixed, getJSON, notify, section, sendJSON, start, table, when } from "./api.js";

async function render(main) {
  const models = await getJSON("/v1/models");
  main.querySelector(".loading")?.remove();
  if (!models.length) {
    section(main, "No models yet", el("p", { id: "no-models" }, "Register a succeeded run from its page (", el("a", { href: "/runs" }, "Runs"), " › a run › Register); then promote a version to an alias here."));
    return;
  }
  for (const summary of models) {
    const model = await getJSON(`/v1/models/${encodeURIComponent(summary.name)}`);
    main.append(modelSection(model));
  }
}

function modelSection(model) {
  const name = model.name;
  const versions = table(
    ["version", "aliases", "run", "engine", "window", "test accuracy", "test F1", "registered", "by"],
    model.versions.map((v) => [
      String(v.version),
      v.aliases.join(", "),
      el("a", { href: `/runs/${v.run_id}` }, v.run.name ?? v.run_id),
      v.run.engine,
      String(v.run.prediction_window ?? "–"),
      fixed(v.test_metrics?.accuracy ?? v.run.summary?.test_accuracy),
      fixed(v.test_metrics?.f1_score ?? v.run.summary?.test_f1_score),
      when(v.created_at),
      v.created_by ?? "–",
    ]),
    { class: "versions" },
  );
  const aliases = table(["alias", "version"], Object.entries(model.aliases).map(([a, v]) => [a, String(v)]), { class: "aliases", dataset: {} });
  const history = table(
    ["when", "alias", "from", "to", "by"],
    model.alias_history.map((c) => [when(c.at), c.alias, String(c.previous_version ?? "–"), String(c.version ?? "removed"), c.by]),
    { class: "alias-history" },
  );
  const version = el("select", { class: "promote-version" }, model.versions.map((v) => el("option", { value: v.version }, `version ${v.version}`)));
  const alias = el("input", { class: "promote-alias", value: "production", pattern: "[A-Za-z_][A-Za-z0-9._\\-]{0,63}", required: true });
  const form = el("form", { class: "promote", onsubmit: async (event) => {
    event.preventDefault();
    try {
      await sendJSON("PUT", `/v1/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias.value)}`, { version: Number(version.value) });
      const fresh = await getJSON(`/v1/models/${encodeURIComponent(name)}`);
      node.replaceWith(modelSection(fresh));
      notify(`${name}: ${alias.value} → version ${version.value}`, "success");
    } catch (error) {
      if (![401, 403].includes(error.status)) notify(error.message);
    }
  } }, "Promote ", version, " to alias ", alias, " ", el("button", { type: "submit" }, "Promote"));
  const node = el("section", { class: "model", dataset: { model: name } },
    el("h2", {}, name),
    el("h3", {}, "Versions"), versions,
    el("div", { class: "side-by-side" },
      el("div", {}, el("h3", {}, "Aliases"), aliases, form),
      el("div", {}, el("h3", {}, "Alias history"), history)));
  return node;
}

start(render);
