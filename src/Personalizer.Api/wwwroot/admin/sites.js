// Sites and keys, for an operator: create a site with its origins and rate limit, create, rotate and
// revoke its keys. The operator key is asked for here and kept apart from the admin key, in this
// tab's session storage only; a new key is shown once, as the API returns it once.
import { h, api, describe, when } from "./lib.js";

const OPERATOR = "p13n-operator-key";
const roleName = (r) => (r === 1 || r === "site" || r === "Site" ? "site" : r === 2 || r === "admin" || r === "Admin" ? "admin" : String(r).toLowerCase());

export async function sitesView(_, route) {
  const key = sessionStorage.getItem(OPERATOR);
  if (!key) return signIn(route);
  let sites;
  try {
    sites = await api("/v1/sites", { key });
  } catch (e) {
    sessionStorage.removeItem(OPERATOR);
    return signIn(route, e.status === 403 || e.status === 401 ? "That key is not an operator key." : describe(e));
  }
  const status = h("p", { role: "status", id: "sites-status" });
  const secret = h("div", { id: "new-key", "aria-live": "polite" });
  const call = async (path, method, body) => api(path, { key, method, body });
  function showKey(created) {
    secret.replaceChildren(h("div", { class: "card" }, h("p", {}, `New ${created.role} key ${created.keyId} of site ${created.site}, shown this once:`),
      h("p", {}, h("code", { class: "key-secret", id: "new-key-value" }, created.key))));
  }
  const cards = sites.map((s) => h("div", { class: "card", "data-site": s.id },
    h("h3", {}, `${s.id} `, s.configured ? h("span", { class: "badge" }, "from settings") : null),
    h("p", {}, `Origins: ${s.origins.length ? s.origins.join(", ") : "none (server-side callers only)"}; rate limit ${s.perSecond}/s, burst ${s.burst}`),
    h("table", {}, h("thead", {}, h("tr", {}, ["key", "role", "fingerprint", "created", "state", ""].map((c) => h("th", {}, c)))),
      h("tbody", {}, s.keys.map((k) => h("tr", {}, h("td", {}, h("code", {}, k.id)), h("td", {}, roleName(k.role)), h("td", {}, h("code", {}, k.fingerprint)),
        h("td", {}, k.createdAt ? when(k.createdAt) : "settings"), h("td", {}, k.revokedAt ? `revoked ${when(k.revokedAt)}` : "active"),
        h("td", { class: "row-actions" }, k.revokedAt || !k.createdAt ? null : [
          h("button", { type: "button", class: "secondary", onclick: async () => {
            try { showKey(await call(`/v1/sites/${encodeURIComponent(s.id)}/keys/${encodeURIComponent(k.id)}/rotate`, "POST")); status.textContent = `${k.id} rotated.`; } catch (e) { status.textContent = describe(e); }
          } }, "Rotate"), " ",
          h("button", { type: "button", class: "secondary", onclick: async () => {
            try { await call(`/v1/sites/${encodeURIComponent(s.id)}/keys/${encodeURIComponent(k.id)}`, "DELETE"); status.textContent = `${k.id} revoked.`; await route(); } catch (e) { status.textContent = describe(e); }
          } }, "Revoke")]))))),
    h("p", {}, ["site", "admin"].map((role) => h("button", { type: "button", class: "secondary", "data-new-key": `${s.id}:${role}`, onclick: async () => {
      try { showKey(await call(`/v1/sites/${encodeURIComponent(s.id)}/keys`, "POST", { role })); status.textContent = ""; } catch (e) { status.textContent = describe(e); }
    } }, `New ${role} key`)))));
  return [h("h2", {}, "Sites and keys"),
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => { sessionStorage.removeItem(OPERATOR); route(); } }, "Forget the operator key")),
    status, secret, ...cards, siteForm(call, route, status)];
}

function signIn(route, message) {
  const input = h("input", { id: "operator-key", type: "password", autocomplete: "off", required: true });
  const error = h("p", { class: "error", role: "alert" }, message || "");
  const form = h("form", { class: "card", "aria-labelledby": "operator-title" }, h("h3", { id: "operator-title" }, "Operator key"),
    h("p", { class: "muted" }, "Sites and keys need an operator key (Personalizer:OperatorKeys); an admin key of a site cannot change them."),
    h("label", { for: "operator-key" }, "Operator key"), input, h("p", {}, h("button", { type: "submit" }, "Use this key")), error);
  form.addEventListener("submit", (e) => { e.preventDefault(); sessionStorage.setItem(OPERATOR, input.value.trim()); route(); });
  return [h("h2", {}, "Sites and keys"), form];
}

function siteForm(call, route, status) {
  const id = h("input", { id: "site-id", type: "text", required: true, placeholder: "shop2" });
  const origins = h("input", { id: "site-origins", type: "text", placeholder: "https://shop2.example, https://www.shop2.example" });
  const perSecond = h("input", { id: "site-rate", type: "number", min: 1, value: 1000 });
  const burst = h("input", { id: "site-burst", type: "number", min: 1, value: 2000 });
  const form = h("form", { class: "card", "aria-labelledby": "site-title" }, h("h3", { id: "site-title" }, "Create or change a site"),
    h("label", { for: "site-id" }, "Site id"), id, h("label", { for: "site-origins" }, "Storefront origins (comma-separated)"), origins,
    h("label", { for: "site-rate" }, "Requests per second per key"), perSecond, h("label", { for: "site-burst" }, "Burst"), burst,
    h("p", {}, h("button", { type: "submit" }, "Save site")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await call(`/v1/sites/${encodeURIComponent(id.value.trim())}`, "PUT", {
        origins: origins.value.split(",").map((o) => o.trim()).filter(Boolean), rateLimit: { perSecond: Number(perSecond.value), burst: Number(burst.value) },
      });
      await route();
    } catch (err) {
      status.textContent = describe(err);
    }
  });
  return form;
}
