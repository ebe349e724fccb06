// Shared plumbing of the console's pages: element builder, API calls with the admin key, problem
// details as text, confirmation, formatting and charts. No dependency, no build step.

export const KEY = "p13n-admin-key";


/** Builds an element; children are nodes or text (never parsed as HTML). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    // Through the CSSOM: the console's CSP refuses style attributes.
    else if (k === "style") el.style.cssText = v;
    else if (k === "checked") el.checked = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

export async function api(path, options = {}) {
  // Another key (the operator key of the Sites page) may be given; only the admin key signs out on 401.
  const key = options.key ?? sessionStorage.getItem(KEY);
  const init = { method: options.method || "GET", headers: { "X-Api-Key": key || "" } };
  if (options.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (res.status === 401 && !options.signingIn && options.key === undefined) {
    window.dispatchEvent(new CustomEvent("p13n:unauthorized"));
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

/** Problem details as readable lines: the title, then each field with what was wrong. */
export function describe(error) {
  if (!(error instanceof ApiError)) return String(error);
  const lines = [error.problem.title || error.message];
  for (const [field, messages] of Object.entries(error.problem.errors || {})) lines.push(`${field}: ${messages.join("; ")}`);
  for (const e of error.problem.conditionErrors || []) lines.push(`line ${e.line}, column ${e.column}: ${e.message}`);
  return lines.join("\n");
}

export function confirmAction(text) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  });
}

export const list = (text) => (text || "").split(",").map((s) => s.trim()).filter(Boolean);
export const when = (iso) => new Date(iso).toLocaleString();
export const pct = (x) => `${(100 * x).toFixed(1)} %`;
export const money = (x) => (x ?? 0).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

// ---------------------------------------------------------------- charts

const SVG = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A round upper bound for an axis and its ticks (0, ¼, ½, ¾, 1 of it). */
function niceMax(value) {
  if (value <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 4, 5, 8, 10]) if (m * step >= value) return m * step; // quarters stay round
  return 10 * step;
}

const short = (v) => (v >= 1e6 ? `${+(v / 1e6).toFixed(1)} M` : v >= 1e3 ? `${+(v / 1e3).toFixed(1)} k` : `${+v.toFixed(2)}`);

/** The legend as HTML under a chart: one swatch and name per series, wrapping, never overlapping. */
function legend(series) {
  return h("ul", { class: "legend" }, series.map((s) => h("li", {}, h("span", { class: "swatch", style: `background:${s.color}` }), s.name)));
}

/**
 * A line chart with a y axis (ticks and unit), x labels, and an HTML legend. `series` is
 * [{ name, color, values }], one value per label. With every value 0 the chart says so instead of
 * drawing flat lines against a made-up scale.
 */
export function lineChart({ title, labels, series, unit, xTitle }) {
  const w = 680, hgt = 210, left = 56, right = 16, top = 14, bottom = 44;
  const peak = Math.max(0, ...series.flatMap((s) => s.values));
  const max = niceMax(peak);
  const x = (i) => left + (labels.length === 1 ? (w - left - right) / 2 : (i * (w - left - right)) / (labels.length - 1));
  const y = (v) => top + (1 - v / max) * (hgt - top - bottom);
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${w} ${hgt}`, role: "img",
    "aria-label": `${title}: ` + series.map((s) => `${s.name} ${s.values.join(", ")} ${unit}`).join("; ") });
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    svg.append(svgEl("line", { x1: left, x2: w - right, y1: y(v), y2: y(v), stroke: t ? "#e6e9ef" : "#8a93a3", "stroke-width": 1 }));
    svg.append(svgEl("text", { x: left - 6, y: y(v) + 4, "font-size": 11, "text-anchor": "end", fill: "#5d6677" }, short(v)));
  }
  svg.append(svgEl("line", { x1: left, x2: left, y1: top, y2: hgt - bottom, stroke: "#8a93a3" }));
  svg.append(svgEl("text", { x: 12, y: top + (hgt - top - bottom) / 2, "font-size": 11, fill: "#5d6677", "text-anchor": "middle",
    transform: `rotate(-90 12 ${top + (hgt - top - bottom) / 2})` }, unit));
  const every = Math.ceil(labels.length / 10);
  labels.forEach((label, i) => {
    if (i % every === 0) svg.append(svgEl("text", { x: x(i), y: hgt - bottom + 16, "font-size": 11, "text-anchor": "middle", fill: "#5d6677" }, label));
  });
  if (xTitle) svg.append(svgEl("text", { x: left + (w - left - right) / 2, y: hgt - 6, "font-size": 11, "text-anchor": "middle", fill: "#5d6677" }, xTitle));
  if (peak === 0) {
    svg.append(svgEl("text", { x: left + (w - left - right) / 2, y: top + (hgt - top - bottom) / 2, "font-size": 13, "text-anchor": "middle", fill: "#5d6677" }, "nothing counted in this period"));
  } else {
    for (const s of series) {
      svg.append(svgEl("polyline", { fill: "none", stroke: s.color, "stroke-width": 2, points: s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ") }));
      s.values.forEach((v, i) => svg.append(svgEl("circle", { cx: x(i), cy: y(v), r: 2.5, fill: s.color })));
    }
  }
  return h("figure", { class: "chart-box" }, svg, legend(series));
}

/** Horizontal bars with their values written out: a funnel, a histogram. */
export function barChart({ title, bars, unit, color = "#1f5fd1" }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  return h("figure", { class: "bars", "aria-label": `${title} (${unit})` },
    h("figcaption", {}, `${title} (${unit})`),
    h("table", { class: "bar-table" }, h("tbody", {}, bars.map((b) => h("tr", {},
      h("th", { scope: "row" }, b.label),
      h("td", { class: "bar-cell" }, h("span", { class: "bar", style: `width:${(100 * b.value) / max}%;background:${color}` })),
      h("td", { class: "num" }, b.value.toLocaleString()))))));
}
