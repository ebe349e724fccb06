// Experiments: create one from the slot's variants or strategies, with an audience, a control group
// and an allocation; start and stop it; read its results with intervals and by lifecycle stage and
// RFM segment at exposure.
import { h, api, describe, pct, money, confirmAction } from "./lib.js";

const STRATEGIES = ["personalized", "trending", "similar", "recently_viewed", "bought_together"];
const GOALS = ["purchase", "add_to_cart", "slot_click", "product_view"];

// What the last action said, shown again after the page is drawn anew.
let flash = "";

export async function experimentsView(selected, route) {
  const [experiments, slots] = await Promise.all([api("/v1/experiments"), api("/v1/slots")]);
  const status = h("p", { role: "status", id: "experiments-status" }, flash);
  flash = "";
  async function setStatus(e, next) {
    if (next === "stopped" && !(await confirmAction(`Stop ${e.id}? Visitors go back to the slot's usual answer; its results stay.`))) return;
    try {
      const { id, startedAt, ...body } = e;
      await api(`/v1/experiments/${encodeURIComponent(id)}`, { method: "PUT", body: { ...body, status: next } });
      flash = `${e.id} is ${next}.`;
      await route();
    } catch (err) {
      status.textContent = describe(err);
    }
  }
  const rows = experiments.map((e) => h("tr", {},
    h("td", {}, h("a", { href: `#experiments/${encodeURIComponent(e.id)}` }, e.id)),
    h("td", {}, e.slot), h("td", {}, h("span", { class: "badge" }, e.status)),
    h("td", {}, e.arms.map((a) => `${a.id} (${a.variant || a.strategy}, ${a.weight})`).join(", ")),
    h("td", { class: "num" }, `${e.controlPercent} %`), h("td", {}, e.goal), h("td", {}, e.allocation),
    h("td", { class: "row-actions" },
      e.status !== "running" ? h("button", { type: "button", "data-start": e.id, onclick: () => setStatus(e, "running") }, "Start") : null,
      e.status === "running" ? h("button", { type: "button", class: "secondary", "data-stop": e.id, onclick: () => setStatus(e, "stopped") }, "Stop") : null)));
  const parts = [h("h2", {}, "Experiments"), status,
    experiments.length
      ? h("table", {}, h("thead", {}, h("tr", {}, ["experiment", "slot", "status", "arms", "control", "goal", "allocation", ""].map((c) => h("th", {}, c)))), h("tbody", {}, rows))
      : h("p", { class: "muted" }, "No experiments yet."),
    h("p", {}, h("a", { href: "#experiments/+new" }, "New experiment"))];
  if (selected === "+new") parts.push(editor(slots, route));
  else if (selected) {
    const e = experiments.find((x) => x.id === selected);
    if (e) parts.push(await results(e));
  }
  return parts;
}

function editor(slots, route) {
  const error = h("p", { class: "error", role: "alert" });
  const id = h("input", { id: "exp-id", type: "text", required: true, placeholder: "hero-welcome" });
  const slot = h("select", { id: "exp-slot" }, slots.map((s) => h("option", { value: s.id }, `${s.id} (${s.kind})`)));
  const armsBox = h("fieldset", { id: "exp-arms" });
  const audience = h("input", { id: "exp-audience", type: "text", placeholder: "profile.lifecycle == 'lapsed' (empty: everyone)" });
  const control = h("input", { id: "exp-control", type: "number", min: 0, max: 90, step: 1, value: 0 });
  const goal = h("select", { id: "exp-goal" }, GOALS.map((g) => h("option", { value: g }, g)));
  const allocation = h("select", { id: "exp-allocation" }, h("option", { value: "fixed" }, "fixed (the weights)"), h("option", { value: "thompson" }, "thompson (traffic to the better arm)"));
  const hours = h("input", { id: "exp-hours", type: "number", min: 1, value: 168 });
  const start = h("input", { id: "exp-start", type: "checkbox", checked: true });
  let arms = () => [];
  function drawArms() {
    const s = slots.find((x) => x.id === slot.value);
    const options = s?.kind === "content" ? s.variants.map((v) => ["variant", v.id]) : STRATEGIES.map((x) => ["strategy", x]);
    const boxes = options.map(([kind, value], i) => {
      const check = h("input", { type: "checkbox", id: `exp-arm-${i}`, "data-arm": value, checked: i < 2 });
      const weight = h("input", { type: "number", id: `exp-weight-${i}`, min: 0, step: "any", value: 1, "aria-label": `Weight of ${value}` });
      return { kind, value, check, weight, el: h("div", {}, h("label", { class: "inline", for: `exp-arm-${i}` }, check, `${kind} ${value}`), weight) };
    });
    armsBox.replaceChildren(h("legend", {}, "Arms (tick two or more; each arm is named after its variant or strategy)"), ...boxes.map((b) => b.el));
    arms = () => boxes.filter((b) => b.check.checked).map((b) => ({ id: b.value.replaceAll("_", "-"), weight: Number(b.weight.value), [b.kind]: b.value }));
  }
  slot.addEventListener("change", drawArms);
  drawArms();
  const form = h("form", { class: "card", id: "experiment-form", "aria-labelledby": "exp-title" },
    h("h3", { id: "exp-title" }, "New experiment"),
    h("label", { for: "exp-id" }, "Experiment id"), id,
    h("label", { for: "exp-slot" }, "Slot"), slot, armsBox,
    h("label", { for: "exp-audience" }, "Audience (condition)"), audience,
    h("label", { for: "exp-control" }, "Control group (% of visitors who see the slot's usual answer)"), control,
    h("label", { for: "exp-goal" }, "Goal"), goal,
    h("label", { for: "exp-allocation" }, "Allocation"), allocation,
    h("label", { for: "exp-hours" }, "Attribution window (hours after the first exposure)"), hours,
    h("label", { class: "inline", for: "exp-start" }, start, "Start it now"),
    h("p", {}, h("button", { type: "submit", id: "exp-save" }, "Create experiment")), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    try {
      await api(`/v1/experiments/${encodeURIComponent(id.value.trim())}`, {
        method: "PUT",
        body: {
          slot: slot.value, arms: arms(), audience: audience.value.trim() || null, controlPercent: Number(control.value), goal: goal.value,
          allocation: allocation.value, attributionHours: Number(hours.value), status: start.checked ? "running" : "draft",
        },
      });
      location.hash = `#experiments/${encodeURIComponent(id.value.trim())}`;
    } catch (err) {
      error.textContent = describe(err);
    }
  });
  return form;
}

const interval = (i) => (i ? `[${pct(i.low)} – ${pct(i.high)}]` : "");

function armsTable(arms) {
  return h("table", {}, h("thead", {}, h("tr", {}, ["arm", "exposures", "conversions", "rate [95 %]", "uplift [95 %]", "p", "P(best)", "revenue / visitor"].map((c, i) => h("th", { class: i ? "num" : null }, c)))),
    h("tbody", {}, arms.map((a) => h("tr", {}, h("td", {}, a.arm), h("td", { class: "num" }, a.exposures), h("td", { class: "num" }, a.conversions),
      h("td", { class: "num" }, `${pct(a.conversionRate)} ${interval(a.conversionRateInterval)}`),
      h("td", { class: "num" }, a.uplift === undefined || a.uplift === null ? "—" : `${pct(a.uplift)} ${interval(a.upliftInterval)}`),
      h("td", { class: "num" }, a.pValue === undefined || a.pValue === null ? "—" : a.pValue.toFixed(4)), h("td", { class: "num" }, pct(a.probabilityBest)),
      h("td", { class: "num" }, money(a.revenuePerVisitor))))));
}

async function results(e) {
  const r = await api(`/v1/experiments/${encodeURIComponent(e.id)}/results`);
  const groups = (title, list) => list.length
    ? [h("h4", {}, title), ...list.map((g) => h("details", {}, h("summary", {}, `${g.group}: ${g.exposures} exposed`), armsTable(g.arms)))]
    : [];
  return h("div", { class: "card", id: "experiment-results" },
    h("h3", {}, `Results of ${e.id} `, h("span", { class: "badge" }, e.status)),
    h("p", { class: "muted" }, `Slot ${e.slot}, goal ${e.goal}, baseline ${r.baseline}, attribution ${r.attributionHours} h.`),
    armsTable(r.arms),
    r.sampleRatio ? h("p", { class: r.sampleRatio.mismatch ? "error" : "muted" }, r.sampleRatio.message) : null,
    ...groups("By lifecycle stage at exposure", r.byStage || []),
    ...groups("By RFM segment at exposure", r.bySegment || []));
}
