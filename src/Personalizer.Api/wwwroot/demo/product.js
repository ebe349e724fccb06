// The product page: the item from the catalogue, a product view, and the page's slots for this item.
const id = new URLSearchParams(location.search).get("id") || "sku-run-001";
fetch("/v1/catalog/items/" + encodeURIComponent(id), { headers: { "X-Api-Key": "demo-site-key" } }).then((r) => r.json()).then((item) => {
  document.getElementById("title").textContent = item.title;
  document.getElementById("price").textContent = item.price.toFixed(2) + " " + item.currency;
  document.getElementById("add").onclick = () => { Personalizer.track("add_to_cart", { itemId: id, quantity: 1, price: item.price }); Personalizer.flush(); setTimeout(() => location.href = "/demo/cart.html", 300); };
});
Personalizer.track("product_view", { itemId: id });
Personalizer.flush();
Personalizer.decide(null, { attributes: { itemId: id } });
