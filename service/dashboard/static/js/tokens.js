// Tokens (admin): a QR code that opens /collect on a phone with an upload-only token that
// expires; every token with its scopes and expiry, revoked with a click; a new token, whose
// secret is shown once.
import { el, getJSON, notify, project, section, sendJSON, start, table, when } from "./api.js";

const SCOPES = ["upload", "read", "train", "admin"];
const LIFETIMES = [["15", "15 minutes"], ["60", "an hour"], ["480", "8 hours"], ["1440", "a day"], ["10080", "a week"]];

// Refusals (401/403) are said by api.js with the scope the route needs; others here.
const reportFailure = (error) => [401, 403].includes(error.status) || notify(error.message);

function collectForm(onCreated) {
  const name = el("input", { id: "collect-name", value: "phone", required: true });
  const lifetime = el("select", { id: "collect-minutes" }, LIFETIMES.map(([v, text]) => el("option", { value: v, selected: v === "60" }, text)));
  const baseUrl = el("input", { id: "collect-base-url", value: location.origin, required: true, size: 32 });
  const shown = el("div", { id: "collect-qr" });
  const form = el("form", { onsubmit: async (event) => {
    event.preventDefault();
    try {
      const created = await sendJSON("POST", "/v1/collect-tokens",
        { name: name.value, expires_in_minutes: Number(lifetime.value), base_url: baseUrl.value.replace(/\/$/, ""),
          project: project() || null }); // the dashboard's project: the phone records there
      shown.replaceChildren(
        el("img", { alt: "QR code of the /collect address", width: 240, height: 240,
          src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(created.qr_svg)}` }),
        el("p", {}, `Upload-only token ${created.id}, until ${when(created.expires_at)}: `,
          el("a", { id: "collect-url", href: created.collect_url }, created.collect_url)));
      onCreated();
    } catch (error) {
      reportFailure(error);
    }
  } },
  el("p", {}, "A QR code opens the recorder on a phone with a token that can only upload sessions, until it expires or you revoke it below. ",
    "Give the address the phone reaches this server at (HTTPS: phones give motion sensors only to secure pages)."),
  el("label", {}, "Phone ", name), " ", el("label", {}, "for ", lifetime), " ", el("label", {}, "at ", baseUrl), " ",
  el("button", { id: "collect-create", type: "submit" }, "Show QR code"));
  return [form, shown];
}

function tokenTable(tokens, onChange) {
  return table(["id", "name", "scopes", "created", "by", "expires", ""], tokens.map((t) => [
    t.id, t.name, t.scopes.join(", "), when(t.created_at), t.created_by ?? "–", t.expires_at ? when(t.expires_at) : "never",
    el("button", { class: "revoke", dataset: { token: t.id }, onclick: async () => {
      try {
        await sendJSON("DELETE", `/v1/tokens/${encodeURIComponent(t.id)}`);
        await onChange();
        notify(`Token ${t.id} (${t.name}) revoked: it no longer works.`, "success");
      } catch (error) {
        reportFailure(error);
      }
    } }, "Revoke"),
  ]), { id: "tokens" });
}

function newTokenForm(onCreated) {
  const name = el("input", { id: "token-name", required: true, placeholder: "ci" });
  const boxes = SCOPES.map((s) => el("label", {}, el("input", { type: "checkbox", value: s, class: "scope" }), ` ${s} `));
  const minutes = el("input", { id: "token-minutes", type: "number", min: 1, placeholder: "never" });
  const secret = el("p", { id: "new-token" });
  const form = el("form", { onsubmit: async (event) => {
    event.preventDefault();
    const scopes = boxes.map((b) => b.firstChild).filter((b) => b.checked).map((b) => b.value);
    try {
      const created = await sendJSON("POST", "/v1/tokens", { name: name.value, scopes,
        ...(minutes.value ? { expires_in_minutes: Number(minutes.value) } : {}) });
      secret.replaceChildren("Copy it now, it is shown only this once: ", el("code", { id: "new-token-secret" }, created.token));
      onCreated();
    } catch (error) {
      reportFailure(error);
    }
  } }, el("label", {}, "Name ", name), " ", ...boxes, el("label", {}, "expires in minutes ", minutes), " ",
  el("button", { id: "token-create", type: "submit" }, "Create"));
  return [form, secret];
}

async function render(main) {
  const list = el("div");
  const refresh = async () => list.replaceChildren(tokenTable(await getJSON("/v1/tokens"), refresh));
  await refresh();
  section(main, "Record from a phone", ...collectForm(refresh));
  section(main, "Tokens", list);
  section(main, "New token", ...newTokenForm(refresh));
}

start(render);
