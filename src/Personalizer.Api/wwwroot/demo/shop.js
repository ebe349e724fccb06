// Summit Sports, the demo shop: the header (categories, search, cart), the consent banner, the
// cart kept in this browser, and the snippet's init. Each page then calls Shop.decide(context), which
// fills every slot through the snippet and adds a "Why am I seeing this?" under each, from the trace.
// ?timeout=ms tries a page as on a slow network (default 300 ms).
(function () {
  const CATEGORIES = ["running", "hiking", "yoga", "cycling", "swimming", "camping", "fitness", "apparel"];
  const CART = "p13n-demo-cart";
  const CONSENT = "p13n-demo-consent";
  const params = new URLSearchParams(location.search);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  const cart = {
    lines() { try { return JSON.parse(localStorage.getItem(CART)) || []; } catch { return []; } },
    save(lines) { localStorage.setItem(CART, JSON.stringify(lines)); count(); },
    add(item) {
      const lines = cart.lines();
      const line = lines.find((l) => l.itemId === item.id);
      if (line) line.quantity++;
      else lines.push({ itemId: item.id, title: item.title, price: item.price, currency: item.currency, imageUrl: item.imageUrl, quantity: 1 });
      cart.save(lines);
      Personalizer.track("add_to_cart", { itemId: item.id, quantity: 1, price: item.price });
      Personalizer.flush();
    },
    remove(itemId) {
      const line = cart.lines().find((l) => l.itemId === itemId);
      cart.save(cart.lines().filter((l) => l.itemId !== itemId));
      if (line) Personalizer.track("remove_from_cart", { itemId, quantity: line.quantity });
      Personalizer.flush();
    },
  };

  function count() {
    const n = cart.lines().reduce((s, l) => s + l.quantity, 0);
    const badge = document.getElementById("cart-count");
    if (badge) badge.textContent = n ? String(n) : "";
  }

  function header() {
    const q = el("input", { type: "search", name: "q", id: "search", placeholder: "Search shoes, tents, mats…", value: params.get("q") || "", "aria-label": "Search the shop" });
    const top = el("div", { class: "bar" },
      el("a", { href: "/demo/", class: "logo" }, "Summit ", el("span", {}, "Sports")),
      el("form", { action: "/demo/search.html", role: "search", class: "search" }, q, el("button", { type: "submit" }, "Search")),
      el("a", { href: "/demo/cart.html", class: "cart-link" }, "Cart ", el("span", { id: "cart-count", class: "count", "aria-label": "items in the cart" })));
    const nav = el("nav", { class: "categories", "aria-label": "Categories" },
      CATEGORIES.map((c) => el("a", { href: `/demo/category.html?c=${c}`, "aria-current": params.get("c") === c ? "page" : null }, c[0].toUpperCase() + c.slice(1))));
    document.getElementById("shop-header").replaceChildren(top, nav);
    count();
  }

  function consentBanner() {
    const known = localStorage.getItem(CONSENT);
    const footer = document.getElementById("shop-footer");
    footer.replaceChildren(el("p", {}, "Summit Sports is a demo of Personalizer; products and prices are made up. ",
      el("button", { type: "button", class: "link", id: "privacy", onclick: () => { localStorage.removeItem(CONSENT); location.reload(); } }, "Privacy choices")));
    if (known) return known === "granted";
    const choose = (granted) => {
      localStorage.setItem(CONSENT, granted ? "granted" : "denied");
      Personalizer.setConsent(granted);
      location.reload();
    };
    document.body.append(el("section", { class: "consent", id: "consent-banner", role: "dialog", "aria-labelledby": "consent-title" },
      el("h2", { id: "consent-title" }, "Your choice"),
      el("p", {}, "We would like to remember what you look at in this shop, to show you what suits you. Nothing leaves this shop, and you can change your mind at any time under Privacy choices."),
      el("p", {}, el("button", { type: "button", id: "consent-accept", onclick: () => choose(true) }, "Personalize for me"), " ",
        el("button", { type: "button", class: "secondary", id: "consent-decline", onclick: () => choose(false) }, "No, thanks"))));
    return false; // until the visitor chooses: nothing stored, nothing personal
  }

  /** Under each slot: the answer's source and its explain trace, folded. */
  function why(decision) {
    for (const slot of document.querySelectorAll("[data-p13n-slot]")) {
      const id = slot.getAttribute("data-p13n-slot");
      const answer = decision && decision.slots[id];
      slot.nextElementSibling?.classList.contains("why") && slot.nextElementSibling.remove();
      if (!answer) continue;
      const steps = (answer.trace || []).map((t) => el("li", {}, el("code", {}, t.strategy), ` ${t.outcome}`, t.detail ? `: ${t.detail}` : ""));
      slot.after(el("details", { class: "why", "data-why": id }, el("summary", {}, "Why am I seeing this?"),
        el("p", {}, `Chosen by `, el("strong", {}, answer.source), answer.reason ? ` (${answer.reason})` : "", "."), el("ol", {}, steps)));
    }
  }

  const consent = consentBanner();
  header();
  Personalizer.init({ endpoint: "", siteKey: "demo-site-key", timeoutMs: Number(params.get("timeout")) || 300, consent });

  window.Shop = {
    el,
    cart,
    params,
    async item(id) {
      const res = await fetch("/v1/catalog/items/" + encodeURIComponent(id), { headers: { "X-Api-Key": "demo-site-key" } });
      return res.ok ? res.json() : null;
    },
    async decide(context) {
      why(await Personalizer.decide(null, context ? { attributes: context } : undefined, { explain: true }));
    },
    money: (x, currency) => `${Number(x).toFixed(2)} ${currency || "EUR"}`,
  };
})();
