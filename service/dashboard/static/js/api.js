// What every page shares: the API with the visitor's token, notices, small DOM helpers.
const TOKEN_KEY = "motionlab.token";

export const token = () => sessionStorage.getItem(TOKEN_KEY) || "";

// The project the dashboard works in, remembered across visits; "" is the default project.
const PROJECT_KEY = "motionlab.project";
export const project = () => localStorage.getItem(PROJECT_KEY) || "";

// Every /v1/… path but the server's own (tokens, projects) is a project's, addressed under
// /v1/projects/{project}/… (the default project's: plain /v1/…), as the Python client does.
const SERVER_WIDE = /^\/v1\/(tokens|collect-tokens|projects)(?=[/?]|$)/;
export const apiPath = (path) =>
  project() && path.startsWith("/v1/") && !SERVER_WIDE.test(path)
    ? `/v1/projects/${encodeURIComponent(project())}${path.slice(3)}`
    : path;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

function headersWith(extra = {}) {
  const headers = { ...extra };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  return headers;
}

// fetch() on the API: the token as a bearer header; a problem+json answer becomes an ApiError.
export async function request(path, { method = "GET", body, headers = {}, accept } = {}) {
  const response = await fetch(apiPath(path), {
    method,
    body,
    headers: headersWith({ ...(accept ? { Accept: accept } : {}), ...headers }),
  });
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      problem = { detail: `${response.status} ${response.statusText}` };
    }
    const error = new ApiError(response.status, problem);
    if (response.status === 401 || response.status === 403) {
      notify(`${error.message}. Enter a token with that scope above.`, "warning");
      document.getElementById("token-input")?.focus();
    }
    throw error;
  }
  return response;
}

export const getJSON = async (path) => (await request(path, { accept: "application/json" })).json();

export async function sendJSON(method, path, document) {
  const response = await request(path, {
    method,
    body: JSON.stringify(document),
    headers: { "Content-Type": "application/json" },
  });
  return response.status === 204 ? null : response.json();
}

// Server-Sent Events over fetch (EventSource cannot send the bearer token): calls
// onEvent(name, data) for each event until the stream ends.
export async function streamEvents(path, onEvent) {
  const response = await request(path, { accept: "text/event-stream" });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice(6))
        .join("\n");
      onEvent(name, data ? JSON.parse(data) : null);
    }
  }
}

// Saves a download made with the token (a plain link cannot send it), under the server's name.
export async function download(path, fallbackName) {
  const response = await request(path);
  const disposition = response.headers.get("content-disposition") ?? "";
  const filename = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const blob = await response.blob();
  const link = el("a", { href: URL.createObjectURL(blob), download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

export function notify(message, kind = "error") {
  const notice = document.getElementById("notice");
  notice.textContent = message;
  notice.className = kind;
  notice.hidden = false;
}

// el("td", {class: "x", dataset: {a: 1}}, "text", child): a DOM element.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null));
  return node;
}

export function table(columns, rows, attributes = {}) {
  return el(
    "table",
    attributes,
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", {}, c)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c))))),
  );
}

export const fixed = (value, digits = 3) =>
  value === null || value === undefined ? "–" : Number(value).toFixed(digits);

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");

export const pageData = () => document.getElementById("page").dataset;

// The page's <main>, emptied, with its heading; `start` renders the page and reports failures.
export function start(render) {
  setUpTokenForm();
  setUpProjectForm();
  const main = document.getElementById("page");
  document.querySelector(`[data-nav="${main.dataset.page}"]`)?.classList.add("current");
  render(main).catch((error) => {
    console.warn(error);
    if (!(error instanceof ApiError && [401, 403].includes(error.status))) notify(error.message);
    main.querySelector(".loading")?.remove();
  });
}

export function section(main, title, ...children) {
  main.querySelector(".loading")?.remove();
  const node = el("section", {}, el("h2", {}, title), ...children);
  main.append(node);
  return node;
}

function setUpTokenForm() {
  const form = document.getElementById("token-form");
  const input = document.getElementById("token-input");
  const state = document.getElementById("token-state");
  const show = () => (state.textContent = token() ? "set for this tab" : "");
  show();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim()) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    else sessionStorage.removeItem(TOKEN_KEY);
    input.value = "";
    show();
    location.reload();
  });
}

// The project switcher: the project's name typed once, kept in this browser; a switch reloads
// the page in that project. (Listing projects needs an admin token, which most tabs lack.)
function setUpProjectForm() {
  const form = document.getElementById("project-form");
  const input = document.getElementById("project-input");
  input.value = project();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = input.value.trim();
    if (chosen && chosen !== "default") localStorage.setItem(PROJECT_KEY, chosen);
    else localStorage.removeItem(PROJECT_KEY);
    location.reload();
  });
}
