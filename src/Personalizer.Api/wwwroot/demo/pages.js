// What each page of the demo shop does beyond its slots (the page says which with data-page).
(function () {
  const page = document.body.getAttribute("data-page");
  const { el, cart, params, money } = window.Shop;

  if (page === "home") Shop.decide();

  if (page === "category") {
    const c = params.get("c") || "running";
    document.getElementById("title").textContent = c[0].toUpperCase() + c.slice(1);
    document.title = `${c} · Summit Sports`;
    Shop.decide({ category: c });
  }

  if (page === "search") {
    const q = (params.get("q") || "").trim();
    document.getElementById("title").textContent = q ? `Results for “${q}”` : "Search";
    if (q) {
      Personalizer.track("search", { query: q });
      Personalizer.flush();
    }
    Shop.decide({ q });
  }

  if (page === "product") {
    const id = params.get("id") || "sku-run-001";
    Personalizer.track("product_view", { itemId: id });
    Personalizer.flush();
    Shop.item(id).then((item) => {
      const box = document.getElementById("product");
      if (!item) { box.replaceChildren(el("p", {}, "This product is not in the shop.")); return; }
      document.title = `${item.title} · Summit Sports`;
      box.replaceChildren(
        el("img", { src: item.imageUrl, alt: item.title, width: 360, height: 300 }),
        el("div", { class: "info" },
          el("p", { class: "crumbs" }, el("a", { href: `/demo/category.html?c=${item.categories[0]}` }, item.categories[0])),
          el("h1", {}, item.title), el("p", { class: "brand" }, item.brand || ""),
          el("p", { class: "price" }, money(item.price, item.currency)),
          el("p", { class: item.inStock ? "stock" : "stock out" }, item.inStock ? "In stock, ships in 1–2 days" : "Out of stock"),
          el("button", { type: "button", id: "add", disabled: !item.inStock, onclick: () => { cart.add(item); document.getElementById("added").textContent = "Added to your cart."; } }, "Add to cart"),
          el("p", { id: "added", role: "status" })));
    });
    Shop.decide({ itemId: id });
  }

  if (page === "cart") {
    const box = document.getElementById("lines");
    function draw() {
      const lines = cart.lines();
      if (!lines.length) { box.replaceChildren(el("p", {}, "Your cart is empty.")); return; }
      const total = lines.reduce((s, l) => s + l.price * l.quantity, 0);
      box.replaceChildren(el("table", { class: "lines" }, el("tbody", {}, lines.map((l) => el("tr", {},
        el("td", {}, el("img", { src: l.imageUrl, alt: "", width: 64, height: 54 })), el("td", {}, el("a", { href: `/demo/product.html?id=${l.itemId}` }, l.title)),
        el("td", { class: "num" }, `${l.quantity} × ${money(l.price, l.currency)}`),
        el("td", {}, el("button", { type: "button", class: "secondary", onclick: () => { cart.remove(l.itemId); draw(); } }, "Remove")))))),
        el("p", { class: "total" }, `Total ${money(total, lines[0].currency)}`),
        el("button", { type: "button", id: "checkout", onclick: () => {
          const orderId = "order-" + Date.now().toString(36);
          Personalizer.track("purchase", { orderId, lines: lines.map((l) => ({ itemId: l.itemId, quantity: l.quantity, price: l.price })), currency: lines[0].currency });
          Personalizer.flush();
          cart.save([]);
          box.replaceChildren(el("p", { class: "thanks", role: "status" }, `Thank you! Order ${orderId} is on its way.`));
        } }, "Place order"));
    }
    draw();
    Shop.decide();
  }
})();
