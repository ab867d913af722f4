// Start a run from a form with the fields of `motionlab train`: engine (as GET /v1/engines
// lists them), recipe, target, window, iterations, batch size, seed, the data filters, the split,
// the overfit check and the exported model's name, metadata, device units and inputs.
// Or a sweep of that run: each "vary" field given several values becomes a grid field, one run
// per combination (the best picked on validation), shown on the sweep's page.
import { el, getJSON, sendJSON } from "./api.js";
import { reportFailure } from "./actions.js";

const listOf = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
const numberOr = (input) => (input.value === "" ? undefined : Number(input.value));
// "rotX=deg/s, rotZ=alpha" → {rotX: "deg/s", rotZ: "alpha"} (as `train --input-units` reads it).
const pairsOf = (text) => (text.trim() ? Object.fromEntries(listOf(text).map((pair) => {
  const at = pair.indexOf("=");
  return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
})) : undefined);

function field(id, label, attributes = {}) {
  const input = el("input", { id, ...attributes });
  return [input, el("label", {}, `${label} `, input)];
}

function choice(id, label, values, naming = (value) => value) {
  const select = el("select", { id }, values.map((value) => el("option", { value }, naming(value))));
  return [select, el("label", {}, `${label} `, select)];
}

// Every engine the server knows; one not installed here stays selectable (workers elsewhere may
// run it) and says so; the API's 422 says what is missing if none does.
async function fillEngines(select) {
  const listed = await getJSON("/v1/engines");
  select.replaceChildren(...listed.map((engine) =>
    el("option", { value: engine.name, selected: engine.name === "torch", title: engine.detail },
      engine.available ? engine.name : `${engine.name} (not on this server)`)));
}

// A JSON object without the fields left blank (the API's defaults apply).
const given = (fields) => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));

export function runForm() {
  const [experiment, experimentLabel] = field("run-experiment", "Experiment", { value: "default", required: true });
  const [name, nameLabel] = field("run-name", "Name");
  const [engine, engineLabel] = choice("run-engine", "Engine", ["torch"]);
  const [recipe, recipeLabel] = choice("run-recipe", "Recipe", ["", "motionlab", "turicreate"], (r) => r || "default");
  const [target, targetLabel] = choice("run-target", "Target", ["activity", "subject"]);
  const [features, featuresLabel] = field("run-features", "Features", { placeholder: "shared by the sessions" });
  const [windowSize, windowLabel] = field("run-window", "Window", { type: "number", min: 1, value: 50 });
  const [iterations, iterationsLabel] = field("run-iterations", "Iterations", { type: "number", min: 1, placeholder: "default" });
  const [batch, batchLabel] = field("run-batch-size", "Batch size", { type: "number", min: 1, placeholder: "default" });
  const [seed, seedLabel] = field("run-seed", "Random seed", { type: "number", min: 0, placeholder: "random, recorded" });
  const filters = ["activities", "subjects", "sessions", "splits"].map((f) => field(`run-${f}`, f[0].toUpperCase() + f.slice(1), { placeholder: "all" }));
  const [split, splitLabel] = choice("run-split", "Split", ["auto", "column", "session", "subject", "none"]);
  const [valid, validLabel] = field("run-valid", "Validation fraction", { type: "number", min: 0, max: 0.9, step: 0.05, value: 0 });
  const [test, testLabel] = field("run-test", "Test fraction", { type: "number", min: 0, max: 0.9, step: 0.05, value: 0 });
  const [overfit, overfitLabel] = field("run-overfit", "Overfit check: sessions", { type: "number", min: 1, placeholder: "off" });
  const modelText = [
    ["name", "Model name", "GestureClassifier"], ["short_description", "Description", ""],
    ["author", "Author", ""], ["license", "License", ""], ["version", "Version", ""],
  ].map(([key, label, placeholder]) => [key, ...field(`model-${key.replace("_", "-")}`, label, { placeholder })]);
  const [deviceUnits, deviceUnitsLabel] = choice("model-device-units", "Device units", ["core-motion", "android", "web"]);
  const [inputUnits, inputUnitsLabel] = field("model-input-units", "Input units", { placeholder: "rotX=deg/s" });
  const [inputNames, inputNamesLabel] = field("model-input-names", "Input names", { placeholder: "rotZ=alpha" });
  fillEngines(engine).catch(reportFailure);

  const run = () => given({
    engine: engine.value,
    name: name.value || undefined,
    recipe: recipe.value || undefined,
    target: target.value,
    features: features.value ? listOf(features.value) : undefined,
    prediction_window: Number(windowSize.value),
    max_iterations: numberOr(iterations),
    batch_size: numberOr(batch),
    random_seed: numberOr(seed),
    data: given(Object.fromEntries(filters.map(([input]) => [input.id.slice(4), input.value ? listOf(input.value) : undefined]))),
    split: { strategy: split.value, valid_fraction: Number(valid.value), test_fraction: Number(test.value) },
    overfit_check: overfit.value ? { sessions: Number(overfit.value) } : undefined,
    model: given({
      ...Object.fromEntries(modelText.map(([key, input]) => [key, input.value || undefined])),
      device_units: deviceUnits.value,
      input_units: pairsOf(inputUnits.value),
      input_names: pairsOf(inputNames.value),
    }),
  });

  // The sweep's grid: the run fields given as lists, each replacing the form's single value.
  const varied = [
    ["prediction_window", ...field("sweep-windows", "Windows", { placeholder: "10, 20, 50" }), Number],
    ["recipe", ...field("sweep-recipes", "Recipes", { placeholder: "motionlab, turicreate" }), String],
    ["engine", ...field("sweep-engines", "Engines", { placeholder: "torch, turicreate" }), String],
    ["max_iterations", ...field("sweep-iterations", "Iterations", { placeholder: "5, 10" }), Number],
    ["random_seed", ...field("sweep-seeds", "Random seeds", { placeholder: "1, 2, 3" }), Number],
  ];
  const startSweep = async () => {
    const grid = Object.fromEntries(varied.filter(([, input]) => input.value)
      .map(([key, input, , parse]) => [key, listOf(input.value).map(parse)]));
    const base = Object.fromEntries(Object.entries(run()).filter(([key]) => !(key in grid)));
    return `/sweeps/${(await sendJSON("POST", "/v1/sweeps", { experiment: experiment.value, run: base, grid })).id}`;
  };
  const startRun = async () => `/runs/${(await sendJSON("POST", "/v1/runs", { experiment: experiment.value, ...run() })).id}`;
  const submit = (make) => async (event) => {
    event.preventDefault();
    try {
      location.href = await make();
    } catch (error) {
      reportFailure(error);
    }
  };
  const line = (...labels) => el("p", {}, labels.flatMap((label) => [label, " "]));
  return el("form", { id: "run-form", onsubmit: submit(startRun) },
    line(experimentLabel, nameLabel, engineLabel, recipeLabel, targetLabel),
    line(featuresLabel, windowLabel, iterationsLabel, batchLabel, seedLabel),
    line(...filters.map(([, label]) => label)),
    line(splitLabel, validLabel, testLabel, overfitLabel),
    line(...modelText.map(([, , label]) => label), deviceUnitsLabel, inputUnitsLabel, inputNamesLabel),
    line(el("button", { id: "run-start", type: "submit" }, "Start run")),
    line("Sweep: vary", ...varied.map(([, , label]) => label),
      el("button", { id: "sweep-start", type: "button", onclick: submit(startSweep) }, "Start sweep")));
}
