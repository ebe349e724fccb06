// Results: the slot report of the last 7 days, in one call (totals and a series per day, from the
// counters), with each slot's rows, and the rows per lifecycle stage on request.
import { h, api, pct, money, lineChart } from "./lib.js";

export async function resultsView(arg) {
  const day = 86_400_000;
  const end = Math.ceil(Date.now() / day) * day;
  const days = [...Array(7).keys()].map((i) => end - (7 - i) * day);
  const by = arg === "stage" || arg === "segment" ? arg : null;
  const week = await api(`/v1/reports/slots?from=${days[0]}&to=${end}&granularity=day${by ? `&by=${by}` : ""}`);
  const labels = days.map((d) => new Date(d).toISOString().slice(5, 10));
  const parts = [h("h2", {}, "Results (last 7 days)"),
    h("p", {}, "Break down by ", h("a", { href: "#results" }, "nothing"), " · ", h("a", { href: "#results/stage" }, "lifecycle stage"), " · ",
      h("a", { href: "#results/segment" }, "RFM segment"))];
  for (const slot of week.slots) {
    parts.push(h("div", { class: "card" }, h("h3", {}, slot.slot),
      lineChart({
        title: `${slot.slot}, last 7 days`, labels, unit: "count per day", xTitle: "day (UTC)",
        series: [
          { name: "impressions", color: "#1f5fd1", values: slot.days.map((d) => d.impressions) },
          { name: "clicks", color: "#e07a00", values: slot.days.map((d) => d.clicks) },
          { name: "conversions", color: "#1b7a3a", values: slot.days.map((d) => d.conversions) },
        ],
      }),
      rowsTable(slot.rows),
      ...(slot.groups || []).flatMap((g) => [h("h4", {}, `${by === "stage" ? "Stage" : "Segment"} ${g.group}: ${g.impressions} impressions, CTR ${pct(g.ctr)}, ${g.conversions} conversions`), rowsTable(g.rows)])));
  }
  if (!week.slots.length) parts.push(h("p", { class: "muted" }, "No impressions in the last 7 days."));
  return parts;
}

function rowsTable(rows) {
  return h("table", {}, h("thead", {}, h("tr", {}, ["variant", "source", "impressions", "clicks", "CTR", "conversions", "revenue"].map((c, i) => h("th", { class: i > 1 ? "num" : null }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("td", {}, r.variant), h("td", {}, r.source), h("td", { class: "num" }, r.impressions), h("td", { class: "num" }, r.clicks),
      h("td", { class: "num" }, pct(r.ctr)), h("td", { class: "num" }, r.conversions), h("td", { class: "num" }, money(r.revenue))))));
}
