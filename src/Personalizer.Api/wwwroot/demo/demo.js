// The demo storefront talks to the API with plain fetch and the public site key.
const API = { key: "demo-site-key" };
const visitorId = localStorage.getItem("p13n-demo-visitor") || (() => {
  const id = "v-" + crypto.randomUUID();
  localStorage.setItem("p13n-demo-visitor", id);
  return id;
})();

async function call(path, body) {
  const res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json", "X-Api-Key": API.key }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(path + " answered " + res.status);
  return res.json();
}

export function track(type, props = {}) {
  return call("/v1/events", { events: [{ eventId: crypto.randomUUID(), type, visitorId, context: { url: location.href, device: innerWidth < 700 ? "mobile" : "desktop" }, ...props }] });
}

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value ?? "";
  if (cls) el.className = cls;
  return el;
}

function renderContent(el, answer) {
  el.replaceChildren(text("h2", answer.content?.title), text("p", answer.content?.body), text("div", "source: " + answer.source, "source"));
}

function renderItems(el, answer, decisionId, slotId) {
  el.replaceChildren(...answer.items.map(item => {
    const card = document.createElement("a");
    card.className = "card";
    card.href = "/demo/product.html?id=" + encodeURIComponent(item.itemId);
    const img = document.createElement("img");
    img.src = item.imageUrl; img.alt = "";
    card.append(img, text("div", item.title), text("div", item.price.toFixed(2) + " " + (item.currency ?? "")));
    card.addEventListener("click", () => track("slot_click", { slotId, decisionId, itemId: item.itemId }));
    return card;
  }), text("div", "source: " + answer.source, "source"));
}

export async function personalize() {
  const slots = [...document.querySelectorAll("[data-p13n-slot]")];
  const decision = await call("/v1/decide", { visitorId, context: { url: location.href }, slots: slots.map(s => s.dataset.p13nSlot) });
  for (const el of slots) {
    const answer = decision.slots[el.dataset.p13nSlot];
    if (!answer) continue;
    if (answer.items) renderItems(el, answer, decision.decisionId, el.dataset.p13nSlot); else renderContent(el, answer);
  }
}

export { visitorId };
