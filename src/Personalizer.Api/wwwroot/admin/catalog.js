// Catalogue: search and view items, correct stock and price in place (PATCH), import a product feed
// (NDJSON or CSV) with its upload progress.
import { KEY, h, api, describe, money } from "./lib.js";

export async function catalogView(arg) {
  const query = arg || "";
  const search = h("input", { id: "catalog-q", type: "search", value: query, placeholder: "id or title" });
  const form = h("form", { class: "toolbar", role: "search" }, h("div", {}, h("label", { for: "catalog-q" }, "Search the catalogue"), search), h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (e) => { e.preventDefault(); location.hash = `#catalog/${encodeURIComponent(search.value.trim())}`; });
  const body = h("tbody", {});
  const status = h("p", { role: "status", id: "catalog-status" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "More items");
  let cursor = null;
  async function load() {
    const page = await api(`/v1/catalog/items?limit=50${query ? `&q=${encodeURIComponent(query)}` : ""}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    body.append(...page.items.map((item) => row(item, status)));
    cursor = page.nextCursor;
    more.hidden = !cursor;
    count.textContent = `${page.total.toLocaleString()} items${query ? ` matching “${query}”` : ""}`;
  }
  more.addEventListener("click", () => load().catch((e) => { status.textContent = describe(e); }));
  const count = h("p", { class: "muted" });
  await load();
  return [h("h2", {}, "Catalogue"), form, count, status,
    h("table", { id: "catalog-items" }, h("thead", {}, h("tr", {}, ["item", "title", "categories", "brand", "price", "in stock", ""].map((c, i) => h("th", { class: i === 4 ? "num" : null }, c)))), body),
    more, feedImport()];
}

function row(item, status) {
  const price = h("input", { type: "number", min: 0, step: "0.01", value: item.price, "aria-label": `Price of ${item.id}`, style: "max-width:7rem" });
  const stock = h("input", { type: "checkbox", checked: item.inStock, "aria-label": `${item.id} in stock`, "data-stock": item.id });
  const save = h("button", { type: "button", class: "secondary", "data-save": item.id }, "Save");
  save.addEventListener("click", async () => {
    try {
      const out = await api(`/v1/catalog/items/${encodeURIComponent(item.id)}`, { method: "PATCH", body: { price: Number(price.value), inStock: stock.checked } });
      status.textContent = `${item.id}: price ${money(out?.price ?? Number(price.value))}, ${stock.checked ? "in stock" : "out of stock"}.`;
    } catch (e) {
      status.textContent = describe(e);
    }
  });
  return h("tr", {}, h("td", {}, h("code", {}, item.id)),
    h("td", {}, item.imageUrl ? h("img", { src: item.imageUrl, alt: "", width: 32, height: 32, style: "vertical-align:middle;margin-right:.4rem" }) : null, item.title),
    h("td", {}, item.categories.join(", ")), h("td", {}, item.brand || ""), h("td", { class: "num" }, price), h("td", {}, stock), h("td", {}, save));
}

/** A feed file sent with XMLHttpRequest, whose upload events give the progress bar (fetch has none). */
function feedImport() {
  const file = h("input", { id: "feed-file", type: "file", accept: ".ndjson,.jsonl,.json,.csv,text/csv" });
  const progress = h("progress", { id: "feed-progress", max: 100, value: 0, hidden: true });
  const result = h("p", { role: "status", id: "feed-result" });
  const form = h("form", { class: "card", "aria-labelledby": "feed-title" }, h("h3", { id: "feed-title" }, "Import a product feed"),
    h("p", { class: "muted" }, "NDJSON (one item per line) or CSV with a header (id, title, categories, price, currency, inStock, brand, tags, url, imageUrl, attributes.NAME). Validated whole, then applied."),
    h("label", { for: "feed-file" }, "Feed file"), file, h("p", {}, h("button", { type: "submit" }, "Import")), progress, result);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) { result.textContent = "Choose a file first."; return; }
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", "/v1/catalog/feed");
    xhr.setRequestHeader("X-Api-Key", sessionStorage.getItem(KEY) || "");
    xhr.setRequestHeader("Content-Type", f.name.toLowerCase().endsWith(".csv") ? "text/csv" : "application/x-ndjson");
    progress.hidden = false;
    progress.value = 0;
    result.textContent = `Sending ${f.name}…`;
    xhr.upload.onprogress = (p) => { if (p.lengthComputable) progress.value = (100 * p.loaded) / p.total; };
    xhr.upload.onload = () => { result.textContent = "Sent; validating and applying…"; };
    xhr.onload = () => {
      progress.value = 100;
      const body = xhr.responseText ? JSON.parse(xhr.responseText) : {};
      if (xhr.status === 200) {
        result.className = "ok";
        result.textContent = `${body.upserted.toLocaleString()} items from ${body.lines.toLocaleString()} lines applied in ${(body.milliseconds / 1000).toFixed(1)} s.`;
      } else {
        result.className = "error";
        const errors = Object.entries(body.errors || {}).slice(0, 10).map(([k, v]) => `${k}: ${v.join("; ")}`);
        result.textContent = [body.title || `HTTP ${xhr.status}`, ...errors].join("\n");
      }
    };
    xhr.onerror = () => { result.className = "error"; result.textContent = "The upload failed (network)."; };
    xhr.send(f);
  });
  return form;
}
