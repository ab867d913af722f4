// The runs of an experiment in a sortable table; pick 2–5 of them to compare.
import { el, fixed, getJSON, notify, section, start, when } from "./api.js";
import { runForm } from "./run-form.js";

const MAX_COMPARED = 5;

// column: [heading, value of a run (what sorting compares), how it shows]
const metric = (key) => (run) => run.summary?.[key] ?? null;
const COLUMNS = [
  ["run", (r) => r.name ?? r.id, (r) => el("a", { href: `/runs/${r.id}` }, r.name ?? r.id)],
  ["status", (r) => r.status, (r) => el("span", { class: `status ${r.status}` }, r.status)],
  ["engine", (r) => r.engine],
  ["recipe", (r) => recipeName(r)],
  ["window", (r) => r.params.prediction_window],
  ["iterations", (r) => r.params.max_iterations],
  ["train acc", metric("train_accuracy"), (r) => fixed(metric("train_accuracy")(r))],
  ["valid acc", metric("validation_accuracy"), (r) => fixed(metric("validation_accuracy")(r))],
  ["test acc", metric("test_accuracy"), (r) => fixed(metric("test_accuracy")(r))],
  ["test F1", metric("test_f1_score"), (r) => fixed(metric("test_f1_score")(r))],
  ["created", (r) => r.created_at, (r) => when(r.created_at)],
];

// `recipe` is newer than this page: shown when runs have one (a name, or an object with one).
function recipeName(run) {
  const recipe = run.recipe ?? run.params?.recipe;
  if (recipe === undefined || recipe === null) return null;
  return typeof recipe === "string" ? recipe : recipe.name ?? JSON.stringify(recipe);
}

async function allRuns(experiment) {
  const runs = [];
  for (let offset = 0; ; offset += 500) {
    const query = new URLSearchParams({ limit: 500, offset });
    if (experiment) query.set("experiment", experiment);
    const page = await getJSON(`/v1/runs?${query}`);
    runs.push(...page.items);
    if (runs.length >= page.total || !page.items.length) return runs;
  }
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1; // blanks last, whichever the direction
  if (b === null || b === undefined) return -1;
  return a < b ? -1 : 1;
}

async function render(main) {
  const params = new URLSearchParams(location.search);
  const everything = await allRuns(null);
  const experiments = [...new Set(everything.map((r) => r.experiment))].sort();
  const chosen = params.get("experiment") ?? "";
  const picker = el(
    "select",
    { id: "experiment", onchange: (e) => (location.search = e.target.value ? `?experiment=${encodeURIComponent(e.target.value)}` : "") },
    el("option", { value: "" }, "all experiments"),
    experiments.map((x) => el("option", { value: x, selected: x === chosen }, x)),
  );
  const runs = chosen ? everything.filter((r) => r.experiment === chosen) : everything;
  const columns = COLUMNS.filter(([name]) => name !== "recipe" || runs.some((r) => recipeName(r) !== null));
  const compareButton = el("button", { id: "compare", disabled: true, onclick: () => openCompare(main) }, "Compare selected");
  section(main, "Experiment", el("label", {}, "experiment ", picker), " ", compareButton);
  const body = el("tbody");
  let sort = { column: columns.findIndex(([n]) => n === "created"), descending: true };
  const head = el("tr", {}, el("th", {}, "compare"), columns.map(([name], i) =>
    el("th", { class: "sortable", dataset: { column: name }, onclick: () => {
      sort = { column: i, descending: sort.column === i ? !sort.descending : false };
      draw();
    } }, name)));
  const draw = () => {
    const [, value] = columns[sort.column];
    const sorted = [...runs].sort((a, b) => compare(value(a), value(b)) * (sort.descending ? -1 : 1));
    head.querySelectorAll("th.sortable").forEach((th, i) => {
      th.dataset.sorted = i === sort.column ? (sort.descending ? "descending" : "ascending") : "";
    });
    body.replaceChildren(...sorted.map((run) => el("tr", { dataset: { runId: run.id } },
      el("td", {}, el("input", { type: "checkbox", value: run.id, onchange: () => updateCompare(main, compareButton) })),
      columns.map(([, value, show]) => el("td", {}, show ? show(run) : String(value(run) ?? "–"))))));
  };
  draw();
  section(main, `Runs (${runs.length})`, el("table", { id: "runs" }, el("thead", {}, head), body));
  section(main, "Start a run", runForm());
}

const selected = (main) => [...main.querySelectorAll("#runs input:checked")].map((box) => box.value);

function updateCompare(main, button) {
  const count = selected(main).length;
  button.disabled = count < 2 || count > MAX_COMPARED;
  if (count > MAX_COMPARED) notify(`Compare takes 2 to ${MAX_COMPARED} runs: ${count} are selected.`, "warning");
}

function openCompare(main) {
  location.href = `/compare?runs=${selected(main).join(",")}`;
}

start(render);
