// Customers: the customer base from the last refit (RFM grid as a heat map, the lifecycle funnel, the
// distribution of predicted value, the model and its holdout check) and one customer's page with a
// timeline of their events and decisions.
import { h, api, describe, when, money, barChart } from "./lib.js";

const FUNNEL = ["visitor", "engaged_prospect", "first_time_customer", "repeat_customer", "loyal", "at_risk", "lapsed"];

export async function customersView(visitor, route) {
  if (visitor) return customerPage(visitor);
  const lookup = h("input", { id: "customer-id", type: "text", placeholder: "visitor or customer's visitor id" });
  const find = h("form", { class: "toolbar", role: "search" }, h("div", {}, h("label", { for: "customer-id" }, "Open a customer"), lookup), h("button", { type: "submit" }, "Open"));
  find.addEventListener("submit", (e) => { e.preventDefault(); if (lookup.value.trim()) location.hash = `#customers/${encodeURIComponent(lookup.value.trim())}`; });
  const status = h("p", { role: "status" });
  const asOf = h("input", { id: "refit-asof", type: "date" });
  const refit = h("form", { class: "toolbar" }, h("div", {}, h("label", { for: "refit-asof" }, "Refit as of (empty: today)"), asOf), h("button", { type: "submit", id: "refit" }, "Refit now"));
  refit.addEventListener("submit", async (e) => {
    e.preventDefault();
    status.textContent = "Refitting…";
    try {
      await api(`/v1/crm/refresh${asOf.value ? `?asOf=${asOf.value}` : ""}`, { method: "POST" });
      await route();
    } catch (err) {
      status.textContent = describe(err);
    }
  });
  let model;
  try {
    model = await api("/v1/crm/model");
  } catch (e) {
    return [h("h2", {}, "Customers"), find, refit, status, h("p", { class: "muted" }, describe(e))];
  }
  const d = model.distribution;
  const parts = [h("h2", {}, "Customers"), find, refit, status,
    h("p", { class: "muted" }, `${model.customers.toLocaleString()} customers, ${model.repeatCustomers.toLocaleString()} bought on more than one day; fitted on the history up to ${model.asOf}.`)];
  if (d) {
    parts.push(h("div", { class: "grid2" },
      h("div", { class: "card" }, h("h3", {}, "RFM grid"), heatMap(d.rfmGrid)),
      h("div", { class: "card" }, h("h3", {}, "Lifecycle funnel"),
        barChart({ title: "Visitors and customers per stage", unit: "people", bars: FUNNEL.map((s) => ({ label: s.replaceAll("_", " "), value: d.stages[s] || 0 })) })),
      h("div", { class: "card" }, h("h3", {}, "Predicted value, next 12 months"),
        d.withValue ? barChart({ title: "Customers per range", unit: "customers", color: "#1b7a3a",
          bars: d.value.map((b) => ({ label: b.to === undefined || b.to === null ? `${money(b.from)} or more` : `${money(b.from)} – ${money(b.to)}`, value: b.customers })) })
          : h("p", { class: "muted" }, `No lifetime value: ${(model.clvUnavailable || "no model").replace(/\.$/, "")}.`))));
  }
  parts.push(modelCard(model));
  return parts;
}

/** Recency (rows, 5 = most recent) × frequency (columns) with the count of customers, shaded by share. */
function heatMap(grid) {
  const max = Math.max(1, ...grid.flat());
  const rows = [5, 4, 3, 2, 1].map((r) => h("tr", {}, h("th", { scope: "row" }, `R ${r}`), [1, 2, 3, 4, 5].map((f) => {
    const n = grid[r - 1][f - 1];
    const alpha = n ? 0.12 + (0.88 * n) / max : 0;
    return h("td", { style: `background:rgba(31,95,209,${alpha.toFixed(2)});color:${alpha > 0.55 ? "#fff" : "inherit"}`, title: `R ${r}, F ${f}: ${n} customers` }, n);
  })));
  return h("table", { class: "heat", "aria-label": "Customers by recency score (rows) and frequency score (columns)" },
    h("thead", {}, h("tr", {}, h("th", {}, "R \\ F"), [1, 2, 3, 4, 5].map((f) => h("th", { scope: "col" }, `F ${f}`)))), h("tbody", {}, rows));
}

function modelCard(m) {
  const p = m.bgNbd;
  const g = m.gammaGamma;
  const holdout = m.holdout;
  return h("div", { class: "card", id: "clv-model" }, h("h3", {}, "Lifetime-value model"),
    m.clvUnavailable ? h("p", { class: "error" }, `Not used: ${m.clvUnavailable}`) : h("p", { class: "ok" }, "In use on every customer's profile."),
    p ? h("p", {}, `BG/NBD r = ${p.r.toPrecision(4)}, α = ${p.alpha.toPrecision(4)} days, a = ${p.a.toPrecision(4)}, b = ${p.b.toPrecision(4)}`) : null,
    g ? h("p", {}, `Gamma-Gamma p = ${g.p.toPrecision(4)}, q = ${g.q.toPrecision(4)}, v = ${g.v.toPrecision(4)}${m.spendUnavailable ? ` (not used: ${m.spendUnavailable})` : ""}`) : null,
    holdout ? [h("h4", {}, `Holdout ${holdout.calibrationEnd} → ${holdout.holdoutEnd}: ${holdout.outcome}`),
      h("table", {}, h("thead", {}, h("tr", {}, ["repeat purchases before", "customers", "predicted after", "actual after"].map((c, i) => h("th", { class: i ? "num" : null }, c)))),
        h("tbody", {}, holdout.groups.map((r) => h("tr", {}, h("td", {}, r.calibrationRepeatPurchases), h("td", { class: "num" }, r.customers),
          h("td", { class: "num" }, r.predicted.toFixed(1)), h("td", { class: "num" }, r.actual)))))] : null);
}

async function customerPage(visitor) {
  const back = h("p", {}, h("a", { href: "#customers" }, "← All customers"));
  let data;
  try {
    data = await api(`/v1/profiles/${encodeURIComponent(visitor)}/export`);
  } catch (e) {
    return [back, h("p", { class: "error" }, e.status === 404 ? `No profile for ${visitor}.` : describe(e))];
  }
  const p = data.profile;
  const items = [
    ...data.events.map((e) => ({ at: e.timestamp, kind: "event", text: eventText(e) })),
    ...data.decisions.map((d) => ({ at: d.at, kind: "decision", text: `${d.slotId}: ${d.variant ? `variant ${d.variant}` : `${(d.items || []).length} items`} from ${d.source}` })),
  ].sort((a, b) => (a.at < b.at ? 1 : -1));
  return [back, h("h2", {}, `Customer ${p.visitorId}${p.customerId ? ` (customer ${p.customerId})` : ""}`),
    h("div", { class: "grid2" },
      h("div", { class: "card" }, h("h3", {}, "Who"),
        h("p", {}, `Lifecycle: ${p.lifecycle.replaceAll("_", " ")}`),
        h("p", {}, p.rfm ? `RFM ${p.rfm.r}-${p.rfm.f}-${p.rfm.m}, segment ${p.rfm.segment.replaceAll("_", " ")}` : "No RFM score (no orders)"),
        h("p", {}, p.clv ? `P(alive) ${(100 * p.clv.probabilityAlive).toFixed(0)} %, ${p.clv.expectedPurchases90d.toFixed(2)} purchases expected in 90 days, value ${money(p.clv.predictedValue1y)} in 12 months`
          : p.clvUnavailable ? `No lifetime value: ${p.clvUnavailable}` : "No lifetime value")),
      h("div", { class: "card" }, h("h3", {}, "Activity"),
        h("p", {}, `${p.orders} orders, revenue ${money(p.revenue)}; ${p.sessions} sessions, ${p.productViews} product views`),
        h("p", {}, `First seen ${p.firstSeen ? when(p.firstSeen) : "—"}, last seen ${p.lastSeen ? when(p.lastSeen) : "—"}`),
        h("p", {}, `Top categories: ${(p.affinity || []).slice(0, 3).map((a) => a.category).join(", ") || "—"}`))),
    h("h3", {}, `Timeline (${items.length})`),
    h("ol", { class: "timeline", id: "timeline" }, items.slice(0, 300).map((i) => h("li", { class: i.kind }, h("time", { datetime: i.at }, when(i.at)), " ", h("strong", {}, i.kind), " ", i.text)))];
}

function eventText(e) {
  switch (e.type) {
    case "purchase": return `purchase ${e.orderId}: ${(e.lines || []).map((l) => `${l.quantity} × ${l.itemId}`).join(", ")} (${money(e.revenue)})`;
    case "product_view": return `viewed ${e.itemId}`;
    case "add_to_cart": return `added ${e.quantity} × ${e.itemId} to the cart`;
    case "search": return `searched “${e.query}”`;
    case "slot_click": return `clicked ${e.slotId}${e.variant ? ` (${e.variant})` : ""}`;
    default: return e.type + (e.url ? ` ${e.url}` : "");
  }
}
