// Personalizer merchandiser console. Plain ES module, no build step, no CDN: every call goes through
// the public HTTP API with the admin key kept in this tab's session storage (never in a URL), so the
// console can do nothing the API does not allow. Each page beyond slots, rules, segments, preview and
// history lives in its own module.

import { KEY, h, api, describe, confirmAction, list, when, pct } from "./lib.js";
import { resultsView } from "./results.js";
import { experimentsView } from "./experiments.js";
import { triggersView } from "./triggers.js";
import { catalogView } from "./catalog.js";
import { modelsView } from "./models.js";
import { customersView } from "./customers.js";
import { sitesView } from "./sites.js";

const view = document.getElementById("view");
const state = { slots: [], fields: null };


// ---------------------------------------------------------------- sign in

async function signIn(key) {
  sessionStorage.setItem(KEY, key);
  try {
    await api("/v1/slots", { signingIn: true });
  } catch (e) {
    sessionStorage.removeItem(KEY);
    throw new Error(e.status === 403
      ? "This key is not an admin key: site keys cannot use the console."
      : e.status === 401 ? "This key is not known." : describe(e));
  }
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  document.getElementById("app").hidden = true;
  document.getElementById("sign-out").hidden = true;
  document.getElementById("signed-in").hidden = true;
  document.getElementById("sign-in").hidden = false;
  document.getElementById("sign-in-error").textContent = message || "";
  document.getElementById("admin-key").focus();
}

async function showApp() {
  document.getElementById("sign-in").hidden = true;
  document.getElementById("app").hidden = false;
  document.getElementById("sign-out").hidden = false;
  const who = document.getElementById("signed-in");
  who.hidden = false;
  who.textContent = "Signed in with an admin key";
  if (!location.hash) location.hash = "#slots";
  await route();
}

document.getElementById("sign-in-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = document.getElementById("admin-key");
  const error = document.getElementById("sign-in-error");
  error.textContent = "";
  try {
    await signIn(input.value.trim());
    input.value = "";
    await showApp();
  } catch (err) {
    error.textContent = err.message;
    input.focus();
  }
});
document.getElementById("sign-out").addEventListener("click", () => signOut());
window.addEventListener("p13n:unauthorized", () => signOut("Your key is no longer accepted; sign in again."));

// ---------------------------------------------------------------- routing

const views = {
  slots: slotsView, rules: rulesView, segments: segmentsView, preview: previewView, history: historyView, results: resultsView,
  experiments: experimentsView, triggers: triggersView, catalog: catalogView, models: modelsView, customers: customersView, sites: sitesView,
};

async function route() {
  if (!sessionStorage.getItem(KEY)) return;
  const [name, arg] = location.hash.slice(1).split("/");
  const render = views[name] || slotsView;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === `#${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    state.slots = await api("/v1/slots");
    // A page may leave out parts (null, false): they are not content.
    view.replaceChildren(...[await render(arg ? decodeURIComponent(arg) : undefined, route)].flat().filter((part) => part !== null && part !== undefined && part !== false));
  } catch (e) {
    view.replaceChildren(h("p", { class: "error", role: "alert" }, describe(e)));
  }
}
window.addEventListener("hashchange", route);

// ---------------------------------------------------------------- condition editor

async function fields() {
  state.fields ??= await api("/v1/rules/fields");
  return state.fields;
}

/**
 * A condition textarea validated as you type through POST /v1/rules/validate. The first error is
 * shown with its line and column, and marked with a caret under the spot; onValidity(ok) tells the
 * form whether it may publish.
 */
function conditionEditor(id, value, onValidity) {
  const area = h("textarea", { id, name: id, rows: 4, spellcheck: "false", "aria-describedby": `${id}-error`, value: value || "" });
  const error = h("p", { id: `${id}-error`, class: "error", role: "status" });
  const marker = h("pre", { id: `${id}-marker`, class: "marker", hidden: true });
  let timer, seq = 0;
  async function validate() {
    const mine = ++seq;
    const text = area.value;
    if (!text.trim()) {
      show(null, "A condition is required (write true for everyone).");
      return;
    }
    try {
      await api("/v1/rules/validate", { method: "POST", body: { when: text } });
      if (mine === seq) show(null, "");
    } catch (e) {
      if (mine !== seq) return;
      const first = (e.problem.conditionErrors || [])[0];
      show(first, first ? `line ${first.line}, column ${first.column}: ${first.message}` : describe(e));
    }
  }
  function show(first, message) {
    const ok = !message;
    error.textContent = message;
    area.setAttribute("aria-invalid", ok ? "false" : "true");
    marker.hidden = !first;
    if (first) {
      const line = area.value.split("\n")[first.line - 1] ?? "";
      marker.replaceChildren(line + "\n", h("span", { class: "caret" }, " ".repeat(Math.max(0, first.column - 1)) + "^"));
    }
    onValidity(ok);
  }
  area.addEventListener("input", () => {
    onValidity(false);
    clearTimeout(timer);
    timer = setTimeout(validate, 200);
  });
  validate();
  return { area, error, marker, validate };
}

async function fieldsReference(target) {
  const rows = (await fields()).map((f) => h("tr", {},
    h("td", {}, h("button", { type: "button", class: "secondary", title: `Insert ${f.path}`, onclick: () => insert(target, f.path) }, f.path)),
    h("td", {}, f.type), h("td", {}, f.description)));
  return h("details", {}, h("summary", {}, "Fields a condition can read"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "field"), h("th", {}, "type"), h("th", {}, "meaning"))), h("tbody", {}, rows)));
}

function insert(area, text) {
  const at = area.selectionStart ?? area.value.length;
  area.value = area.value.slice(0, at) + text + area.value.slice(area.selectionEnd ?? at);
  area.focus();
  area.dispatchEvent(new Event("input"));
}

// ---------------------------------------------------------------- slots and content

const CONTENT_KEYS = ["title", "body", "cta", "link", "image"];

/** The URL resolved as the browser would, when it is http(s); null otherwise (javascript:, data: …). */
function httpUrl(value) {
  if (typeof value !== "string" || !value) return null;
  try {
    const u = new URL(value, location.href);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch (_) {
    return null;
  }
}

function renderVariant(content) {
  const image = httpUrl(content.image);
  return h("div", { class: "variant-preview" },
    image ? h("img", { src: image, alt: "" }) : null,
    h("h3", {}, content.title || "(no title)"),
    content.body ? h("p", {}, content.body) : null,
    content.cta ? h("a", { class: "cta", href: httpUrl(content.link) || "#", tabindex: "-1" }, content.cta) : null);
}

function variantEditor(variant, index, onRemove) {
  const c = variant.content || {};
  const extra = Object.fromEntries(Object.entries(c).filter(([k]) => !CONTENT_KEYS.includes(k)));
  const prefix = `variant-${index}`;
  const inputs = {};
  const preview = h("div", {});
  const field = (name, label, type = "text") => {
    inputs[name] = h("input", { id: `${prefix}-${name}`, type, value: c[name] || "", oninput: refresh });
    return [h("label", { for: `${prefix}-${name}` }, label), inputs[name]];
  };
  inputs.id = h("input", { id: `${prefix}-id`, type: "text", value: variant.id || "", required: true });
  inputs.tags = h("input", { id: `${prefix}-tags`, type: "text", value: (variant.tags || []).join(", ") });
  inputs.extra = h("textarea", { id: `${prefix}-extra`, rows: 2, value: Object.keys(extra).length ? JSON.stringify(extra, null, 1) : "", oninput: refresh });
  const extraError = h("p", { class: "error", role: "status" });
  function content() {
    const out = {};
    for (const k of CONTENT_KEYS) if (inputs[k].value.trim()) out[k] = inputs[k].value.trim();
    if (inputs.extra.value.trim()) Object.assign(out, JSON.parse(inputs.extra.value));
    return out;
  }
  function refresh() {
    try {
      extraError.textContent = "";
      preview.replaceChildren(renderVariant(content()));
    } catch {
      extraError.textContent = "Free fields must be a JSON object, e.g. {\"badge\": \"new\"}";
    }
  }
  const box = h("fieldset", { class: "card" }, h("legend", {}, `Variant ${index + 1}`),
    h("div", { class: "cols" },
      h("div", {},
        h("label", { for: `${prefix}-id` }, "Variant id"), inputs.id,
        field("title", "Title"), field("body", "Body"), field("cta", "Button text"), field("link", "Link", "url"), field("image", "Image URL", "url"),
        h("label", { for: `${prefix}-tags` }, "Tags (comma separated, e.g. lifecycle:lapsed, affinity:running)"), inputs.tags,
        h("label", { for: `${prefix}-extra` }, "Free fields (JSON)"), inputs.extra, extraError,
        h("button", { type: "button", class: "secondary", onclick: onRemove }, "Remove variant")),
      h("div", {}, h("p", { class: "muted" }, "As the snippet shows it:"), preview)));
  refresh();
  return { box, value: () => ({ id: inputs.id.value.trim(), content: content(), tags: list(inputs.tags.value) }) };
}

async function slotsView(selected) {
  const rows = state.slots.map((s) => h("tr", {},
    h("td", {}, h("a", { href: `#slots/${encodeURIComponent(s.id)}` }, s.id)),
    h("td", {}, s.kind), h("td", {}, s.kind === "content" ? `${s.variants.length} variants, default ${s.defaultVariant ?? "-"}` : `${s.strategy}, ${s.count} items`),
    h("td", {}, s.description || "")));
  const newId = h("input", { id: "new-slot-id", type: "text", required: true });
  const newKind = h("select", { id: "new-slot-kind" }, h("option", { value: "content" }, "content"), h("option", { value: "recommendations" }, "recommendations"));
  const parts = [
    h("h2", {}, "Slots"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "slot"), h("th", {}, "kind"), h("th", {}, "fills with"), h("th", {}, "description"))), h("tbody", {}, rows)),
    h("form", { class: "card", onsubmit: (e) => { e.preventDefault(); location.hash = `#slots/${encodeURIComponent(newId.value.trim())}?new=${newKind.value}`; } },
      h("h3", {}, "New slot"), h("label", { for: "new-slot-id" }, "Slot id"), newId, h("label", { for: "new-slot-kind" }, "Kind"), newKind, h("p", {}, h("button", { type: "submit" }, "Create"))),
  ];
  if (selected) parts.push(slotEditor(selected));
  return parts;
}

function slotEditor(arg) {
  const [id, query] = arg.split("?");
  const existing = state.slots.find((s) => s.id === id);
  const kind = existing?.kind || new URLSearchParams(query).get("new") || "content";
  const slot = existing || { id, kind, variants: [{ id: "default", content: { title: "" }, tags: [] }], defaultVariant: "default", strategy: "trending", count: 8, filters: {} };
  const error = h("p", { class: "error", role: "alert" });
  const saved = h("p", { class: "ok", role: "status" });
  const description = h("input", { id: "slot-description", type: "text", value: slot.description || "" });
  const form = h("form", { class: "card", "aria-labelledby": "slot-title" }, h("h3", { id: "slot-title" }, `Slot ${id}`),
    h("label", { for: "slot-description" }, "Description"), description);
  let value;
  if (kind === "content") {
    const editors = [];
    const holder = h("div", {});
    const defaultSelect = h("input", { id: "slot-default", type: "text", value: slot.defaultVariant || "" });
    const add = (v) => {
      const ed = variantEditor(v, editors.length, () => { editors.splice(editors.indexOf(ed), 1); ed.box.remove(); });
      editors.push(ed);
      holder.append(ed.box);
    };
    (slot.variants || []).forEach(add);
    form.append(h("label", { for: "slot-default" }, "Default variant id"), defaultSelect, holder,
      h("button", { type: "button", class: "secondary", onclick: () => add({ id: "", content: {}, tags: [] }) }, "Add variant"));
    value = () => ({ kind, description: description.value || null, defaultVariant: defaultSelect.value.trim() || null, variants: editors.map((e) => e.value()) });
  } else {
    const f = slot.filters || {};
    const strategy = h("select", { id: "slot-strategy" }, ["personalized", "similar", "recently_viewed", "bought_together", "trending"].map((s) => h("option", { value: s, selected: s === slot.strategy }, s)));
    const count = h("input", { id: "slot-count", type: "number", min: 1, max: 100, value: slot.count ?? 8 });
    const check = (name, label, on) => h("label", { class: "inline" }, h("input", { type: "checkbox", id: `slot-${name}`, checked: on ?? true }), label);
    const include = h("input", { id: "slot-include", type: "text", value: (f.includeCategories || []).join(", ") });
    const exclude = h("input", { id: "slot-exclude", type: "text", value: (f.excludeCategories || []).join(", ") });
    const max = h("input", { id: "slot-max", type: "number", min: 0, value: f.maxPerCategory ?? 0 });
    form.append(h("label", { for: "slot-strategy" }, "Strategy"), strategy, h("label", { for: "slot-count" }, "Items"), count,
      h("p", {}, check("excludePurchased", "leave out purchased items", f.excludePurchased), check("excludeInCart", "leave out cart items", f.excludeInCart), check("inStockOnly", "in stock only", f.inStockOnly)),
      h("label", { for: "slot-include" }, "Only these categories (comma separated)"), include,
      h("label", { for: "slot-exclude" }, "Never these categories"), exclude,
      h("label", { for: "slot-max" }, "At most this many per category (0: no limit)"), max);
    value = () => ({
      kind, description: description.value || null, strategy: strategy.value, count: Number(count.value),
      filters: {
        excludePurchased: form.querySelector("#slot-excludePurchased").checked, excludeInCart: form.querySelector("#slot-excludeInCart").checked,
        inStockOnly: form.querySelector("#slot-inStockOnly").checked, includeCategories: list(include.value), excludeCategories: list(exclude.value), maxPerCategory: Number(max.value),
      },
    });
  }
  form.append(h("p", {}, h("button", { type: "submit", id: "slot-save" }, "Publish slot")), error, saved);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = saved.textContent = "";
    try {
      const r = await api(`/v1/slots/${encodeURIComponent(id)}`, { method: "PUT", body: value() });
      saved.textContent = `Published as configuration version ${r.version}.`;
    } catch (err) {
      error.textContent = describe(err);
    }
  });
  return form;
}

// ---------------------------------------------------------------- rules

async function rulesView(selected) {
  const rules = await api("/v1/rules");
  const bySlot = Object.groupBy ? Object.groupBy(rules, (r) => r.slot) : rules.reduce((m, r) => ((m[r.slot] ??= []).push(r), m), {});
  const status = h("p", { class: "error", role: "alert" });
  const sections = Object.entries(bySlot).map(([slot, ordered]) => h("div", { class: "card" },
    h("h3", {}, `${slot} `, h("span", { class: "muted" }, "(run top to bottom: higher priority first)")),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "order"), h("th", {}, "rule"), h("th", {}, "when"), h("th", {}, "then"), h("th", {}, "priority"), h("th", {}, "enabled"))),
      h("tbody", {}, ordered.map((r, i) => h("tr", {},
        h("td", { class: "row-actions" },
          h("button", { type: "button", class: "secondary", "aria-label": `Move ${r.id} up`, disabled: i === 0, onclick: () => move(r, ordered[i - 1], +1) }, "↑"),
          h("button", { type: "button", class: "secondary", "aria-label": `Move ${r.id} down`, disabled: i === ordered.length - 1, onclick: () => move(r, ordered[i + 1], -1) }, "↓")),
        h("td", {}, h("a", { href: `#rules/${encodeURIComponent(r.id)}` }, r.id)),
        h("td", {}, h("code", {}, r.when)),
        h("td", {}, thenText(r.then)),
        h("td", { class: "num" }, r.priority),
        h("td", {}, h("input", { type: "checkbox", "aria-label": `Enable ${r.id}`, checked: r.enabled, onchange: (e) => save({ ...r, enabled: e.target.checked }) }))))))));
  async function save(rule) {
    try {
      await api(`/v1/rules/${encodeURIComponent(rule.id)}`, { method: "PUT", body: rule });
      await route();
    } catch (e) {
      status.textContent = describe(e);
    }
  }
  // Moving past a neighbour: take a priority just beyond theirs.
  const move = (rule, neighbour, direction) => save({ ...rule, priority: neighbour.priority + direction });
  return [h("h2", {}, "Rules"), status, ...sections, h("p", {}, h("a", { href: "#rules/+new" }, "New rule")),
    selected ? await ruleEditor(selected === "+new" ? null : rules.find((r) => r.id === selected)) : null];
}

const thenText = (t) => t.variant ? `variant ${t.variant}` : [
  t.includeCategories?.length ? `only ${t.includeCategories.join(", ")}` : "",
  t.excludeCategories?.length ? `never ${t.excludeCategories.join(", ")}` : "",
  t.boostCategories?.length ? `first ${t.boostCategories.join(", ")}` : ""].filter(Boolean).join("; ");

async function ruleEditor(rule) {
  const r = rule || { id: "", slot: state.slots[0]?.id, priority: 0, enabled: true, when: "", then: {} };
  const publish = h("button", { type: "submit", id: "rule-publish", disabled: true }, "Publish rule");
  const error = h("p", { class: "error", role: "alert" });
  const saved = h("p", { class: "ok", role: "status" });
  const id = h("input", { id: "rule-id", type: "text", value: r.id, required: true, readonly: !!rule });
  const slot = h("select", { id: "rule-slot" }, state.slots.map((s) => h("option", { value: s.id, selected: s.id === r.slot }, s.id)));
  const priority = h("input", { id: "rule-priority", type: "number", value: r.priority });
  const enabled = h("input", { id: "rule-enabled", type: "checkbox", checked: r.enabled });
  const description = h("input", { id: "rule-description", type: "text", value: r.description || "" });
  const condition = conditionEditor("rule-when", r.when, (ok) => { publish.disabled = !ok; });
  const thenBox = h("div", {});
  const from = h("input", { id: "rule-from", type: "text", placeholder: "2026-12-01T00:00", value: r.schedule?.from || "" });
  const until = h("input", { id: "rule-until", type: "text", placeholder: "2026-12-24T00:00", value: r.schedule?.until || "" });
  const zone = h("input", { id: "rule-zone", type: "text", placeholder: "Europe/Berlin", value: r.schedule?.timeZone || "" });
  let then = () => ({});
  function drawThen() {
    const s = state.slots.find((x) => x.id === slot.value);
    if (!s) return;
    if (s.kind === "content") {
      const variant = h("select", { id: "rule-variant" }, s.variants.map((v) => h("option", { value: v.id, selected: v.id === r.then?.variant }, v.id)));
      thenBox.replaceChildren(h("label", { for: "rule-variant" }, "Then show variant"), variant);
      then = () => ({ variant: variant.value });
    } else {
      const inc = h("input", { id: "rule-include", type: "text", value: (r.then?.includeCategories || []).join(", ") });
      const exc = h("input", { id: "rule-exclude", type: "text", value: (r.then?.excludeCategories || []).join(", ") });
      const boost = h("input", { id: "rule-boost", type: "text", value: (r.then?.boostCategories || []).join(", ") });
      thenBox.replaceChildren(h("label", { for: "rule-include" }, "Then only these categories"), inc,
        h("label", { for: "rule-exclude" }, "Never these categories"), exc, h("label", { for: "rule-boost" }, "These categories first"), boost);
      then = () => ({ includeCategories: list(inc.value), excludeCategories: list(exc.value), boostCategories: list(boost.value) });
    }
  }
  slot.addEventListener("change", drawThen);
  drawThen();
  const form = h("form", { class: "card", id: "rule-form", "aria-labelledby": "rule-title" },
    h("h3", { id: "rule-title" }, rule ? `Rule ${rule.id}` : "New rule"),
    h("label", { for: "rule-id" }, "Rule id"), id,
    h("label", { for: "rule-slot" }, "Slot"), slot,
    h("label", { for: "rule-when" }, "When (condition)"), condition.area, condition.error, condition.marker,
    await fieldsReference(condition.area),
    thenBox,
    h("label", { for: "rule-priority" }, "Priority (higher runs first)"), priority,
    h("label", { class: "inline", for: "rule-enabled" }, enabled, "Enabled"),
    h("fieldset", {}, h("legend", {}, "Schedule (local time, optional)"),
      h("label", { for: "rule-from" }, "From"), from, h("label", { for: "rule-until" }, "Until"), until, h("label", { for: "rule-zone" }, "Time zone"), zone),
    h("label", { for: "rule-description" }, "Description"), description,
    h("p", {}, publish), error, saved);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = saved.textContent = "";
    const schedule = from.value || until.value || zone.value ? { from: from.value || null, until: until.value || null, timeZone: zone.value || null } : null;
    try {
      const out = await api(`/v1/rules/${encodeURIComponent(id.value.trim())}`, {
        method: "PUT",
        body: { slot: slot.value, priority: Number(priority.value), enabled: enabled.checked, when: condition.area.value, then: then(), schedule, description: description.value || null },
      });
      saved.textContent = `Published as configuration version ${out.version}.`;
    } catch (err) {
      error.textContent = describe(err);
    }
  });
  return form;
}

// ---------------------------------------------------------------- segments

async function segmentsView(selected) {
  const segments = await api("/v1/segments");
  const rows = segments.map((s) => h("tr", {}, h("td", {}, h("a", { href: `#segments/${encodeURIComponent(s.id)}` }, s.id)), h("td", {}, h("code", {}, s.when)), h("td", {}, s.description || "")));
  const parts = [h("h2", {}, "Segments"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "segment"), h("th", {}, "when"), h("th", {}, "description"))), h("tbody", {}, rows)),
    h("p", {}, h("a", { href: "#segments/+new" }, "New segment"))];
  if (selected) {
    const s = selected === "+new" ? { id: "", when: "", description: "" } : segments.find((x) => x.id === selected) || { id: selected, when: "" };
    const save = h("button", { type: "submit", id: "segment-publish", disabled: true }, "Publish segment");
    const id = h("input", { id: "segment-id", type: "text", value: s.id, required: true });
    const description = h("input", { id: "segment-description", type: "text", value: s.description || "" });
    const condition = conditionEditor("segment-when", s.when, (ok) => { save.disabled = !ok; });
    const error = h("p", { class: "error", role: "alert" });
    const saved = h("p", { class: "ok", role: "status" });
    const form = h("form", { class: "card" }, h("h3", {}, "Segment"), h("label", { for: "segment-id" }, "Segment id"), id,
      h("label", { for: "segment-when" }, "Who is in it (condition)"), condition.area, condition.error, condition.marker, await fieldsReference(condition.area),
      h("label", { for: "segment-description" }, "Description"), description, h("p", {}, save), error, saved);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.textContent = saved.textContent = "";
      try {
        const out = await api(`/v1/segments/${encodeURIComponent(id.value.trim())}`, { method: "PUT", body: { when: condition.area.value, description: description.value || null } });
        saved.textContent = `Published as configuration version ${out.version}.`;
      } catch (err) {
        error.textContent = describe(err);
      }
    });
    parts.push(form);
  }
  return parts;
}

// ---------------------------------------------------------------- preview

async function previewView() {
  const visitor = h("input", { id: "preview-visitor", type: "text", placeholder: "a visitor id (empty: a new visitor)" });
  const context = h("textarea", { id: "preview-context", rows: 4, value: JSON.stringify({ device: "desktop", url: "/demo/", utm: { campaign: "" } }, null, 1) });
  const typed = h("textarea", { id: "preview-profile", rows: 4, placeholder: '{"orders": 4, "revenue": 320, "daysSinceLastOrder": 200, "cartItems": ["sku-run-001"], "affinity": {"yoga": 3}}' });
  const out = h("div", { id: "preview-result" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "card" }, h("h3", {}, "Preview as a visitor"),
    h("label", { for: "preview-visitor" }, "Visitor id"), visitor,
    h("label", { for: "preview-context" }, "Page context (JSON: url, device, country, language, utm, attributes)"), context,
    h("label", { for: "preview-profile" }, "Or a typed profile instead of the stored one (JSON, optional: orders, revenue, daysSinceLastOrder, viewedItems, cartItems, purchasedItems, affinity, excludedCategories, personalization)"), typed,
    h("p", {}, h("button", { type: "submit", id: "preview-run" }, "Show what they would see")), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    let ctx, profile;
    try {
      ctx = JSON.parse(context.value || "{}");
      profile = typed.value.trim() ? JSON.parse(typed.value) : undefined;
    } catch {
      error.textContent = "The context and the typed profile must be JSON objects.";
      return;
    }
    try {
      // A preview is explained and never recorded: it counts as no impression in reports or experiments.
      const id = visitor.value.trim() || `preview-${crypto.randomUUID()}`;
      const decision = await api("/v1/decide/preview", { method: "POST", body: { visitorId: id, context: ctx, slots: state.slots.map((s) => s.id), profile } });
      out.replaceChildren(h("p", { class: "muted" }, `Configuration version ${decision.configVersion}, visitor ${id}`),
        ...Object.entries(decision.slots).map(([slotId, a]) => slotCard(slotId, a)));
    } catch (err) {
      error.textContent = describe(err);
    }
  });
  return [h("h2", {}, "Preview"), form, out];
}

function slotCard(slotId, answer) {
  return h("div", { class: "card slot-answer", "data-slot": slotId },
    h("h3", {}, slotId, " ", h("span", { class: "badge" }, answer.source), answer.reason ? h("span", { class: "muted" }, ` ${answer.reason}`) : null),
    answer.variant ? h("div", {}, h("p", {}, "Variant ", h("strong", {}, answer.variant)), renderVariant(answer.content || {})) : null,
    answer.items ? h("ol", {}, answer.items.map((i) => h("li", {}, `${i.title} `, h("span", { class: "muted" }, `(${i.itemId}, ${i.categories.join(", ")})`)))) : null,
    h("table", { class: "trace" }, h("caption", { class: "muted" }, "Why (explain trace)"),
      h("thead", {}, h("tr", {}, h("th", {}, "strategy or rule"), h("th", {}, "outcome"), h("th", {}, "detail"))),
      h("tbody", {}, (answer.trace || []).map((t) => h("tr", {}, h("td", {}, t.strategy), h("td", {}, t.outcome), h("td", {}, t.detail || ""))))));
}

// ---------------------------------------------------------------- history

async function historyView() {
  const history = await api("/v1/config/history");
  const diffBox = h("div", { id: "diff", class: "diff" });
  const status = h("p", { role: "status" });
  const rows = history.map((v, i) => h("tr", {},
    h("td", { class: "num" }, v.version), h("td", {}, when(v.createdAt)), h("td", {}, v.author), h("td", {}, v.summary),
    h("td", { class: "row-actions" },
      v.version > 1 ? h("button", { type: "button", class: "secondary", onclick: () => showDiff(v.version - 1, v.version, diffBox) }, "What changed") : null, " ",
      i > 0 ? h("button", { type: "button", "data-version": v.version, onclick: async () => {
        if (!(await confirmAction(`Roll back to version ${v.version}? Its slots, rules, segments, experiments and triggers become current again, as a new version.`))) return;
        try {
          const out = await api(`/v1/config/rollback/${v.version}`, { method: "POST" });
          status.textContent = `Rolled back: version ${out.version} is current.`;
          await route();
        } catch (e) {
          status.textContent = describe(e);
        }
      } }, `Roll back to ${v.version}`) : h("span", { class: "badge" }, "current"))));
  return [h("h2", {}, "History"), status,
    h("table", {}, h("thead", {}, h("tr", {}, h("th", { class: "num" }, "version"), h("th", {}, "when"), h("th", {}, "who"), h("th", {}, "what"), h("th", {}, ""))), h("tbody", {}, rows)),
    diffBox];
}

/** A readable diff: per collection, what was added, removed or changed, with the changed lines. */
async function showDiff(from, to, box) {
  const [a, b] = await Promise.all([api(`/v1/config/versions/${from}`), api(`/v1/config/versions/${to}`)]);
  const parts = [h("h3", {}, `Version ${from} → ${to}: ${b.summary}`)];
  for (const kind of ["slots", "rules", "segments", "experiments", "triggers"]) {
    const before = Object.fromEntries(a[kind].map((x) => [x.id, x]));
    const after = Object.fromEntries(b[kind].map((x) => [x.id, x]));
    for (const id of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const x = before[id] ? JSON.stringify(before[id], null, 1) : "";
      const y = after[id] ? JSON.stringify(after[id], null, 1) : "";
      if (x === y) continue;
      const verb = !x ? "added" : !y ? "removed" : "changed";
      const old = new Set(x.split("\n"));
      const neu = new Set(y.split("\n"));
      parts.push(h("div", { class: "card" }, h("p", {}, `${kind.slice(0, -1)} ${id} ${verb}`),
        ...x.split("\n").filter((l) => l && !neu.has(l)).map((l) => h("pre", { class: "del" }, `- ${l}`)),
        ...y.split("\n").filter((l) => l && !old.has(l)).map((l) => h("pre", { class: "add" }, `+ ${l}`))));
    }
  }
  box.replaceChildren(...parts);
  box.focus?.();
}

// ---------------------------------------------------------------- start

if (sessionStorage.getItem(KEY)) {
  showApp().catch(() => signOut());
} else {
  signOut();
}
