// Triggered messages: create or change one, send a signed test delivery to a URL, and follow the
// deliveries with their status and retries.
import { h, api, describe, when, confirmAction } from "./lib.js";

const EVENTS = ["add_to_cart", "product_view", "purchase", "page_view", "search", "slot_click", "identify"];

export async function triggersView(selected, route) {
  const [triggers, deliveries] = await Promise.all([api("/v1/triggers"), api("/v1/triggers/deliveries")]);
  const status = h("p", { role: "status", id: "triggers-status" });
  const rows = triggers.map((t) => h("tr", {},
    h("td", {}, h("a", { href: `#triggers/${encodeURIComponent(t.id)}` }, t.id)), h("td", {}, t.description || ""),
    h("td", {}, `${t.event} → wait ${t.waitMinutes} min${t.cancelOn ? `, cancelled by ${t.cancelOn}` : ""}`),
    h("td", {}, t.when ? h("code", {}, t.when) : "—"), h("td", {}, t.webhook), h("td", { class: "num" }, t.waiting),
    h("td", {}, t.enabled ? "on" : "off"),
    h("td", { class: "row-actions" }, h("button", { type: "button", class: "secondary", onclick: async () => {
      if (!(await confirmAction(`Delete trigger ${t.id}? Its waiting messages are not sent.`))) return;
      try {
        await api(`/v1/triggers/${encodeURIComponent(t.id)}`, { method: "DELETE" });
        await route();
      } catch (e) {
        status.textContent = describe(e);
      }
    } }, "Delete"))));
  const parts = [h("h2", {}, "Triggered messages"), status,
    triggers.length
      ? h("table", {}, h("thead", {}, h("tr", {}, ["trigger", "description", "programme", "when", "webhook", "waiting", "enabled", ""].map((c, i) => h("th", { class: i === 5 ? "num" : null }, c)))), h("tbody", {}, rows))
      : h("p", { class: "muted" }, "No triggers yet."),
    h("p", {}, h("a", { href: "#triggers/+new" }, "New trigger"))];
  if (selected) {
    const t = selected === "+new" ? null : triggers.find((x) => x.id === selected);
    parts.push(editor(t, route));
    if (t) parts.push(tester(t, route));
  }
  parts.push(h("h3", {}, "Deliveries (latest first)"), deliveries.length
    ? h("table", { id: "deliveries" }, h("thead", {}, h("tr", {}, ["when", "trigger", "visitor", "attempt", "status", "HTTP", "detail"].map((c) => h("th", {}, c)))),
      h("tbody", {}, deliveries.map((d) => h("tr", {}, h("td", {}, when(d.at)), h("td", {}, d.trigger), h("td", {}, d.test ? "test" : d.visitorId), h("td", { class: "num" }, d.attempt),
        h("td", {}, h("span", { class: "badge" }, d.status)), h("td", { class: "num" }, d.httpStatus ?? "—"),
        h("td", {}, d.error || "", d.nextAttemptAt ? ` next attempt ${when(d.nextAttemptAt)}` : "")))))
    : h("p", { class: "muted" }, "No deliveries yet."));
  return parts;
}

function editor(t, route) {
  const error = h("p", { class: "error", role: "alert" });
  const saved = h("p", { class: "ok", role: "status" });
  const id = h("input", { id: "trigger-id", type: "text", required: true, value: t?.id || "", readonly: !!t });
  const description = h("input", { id: "trigger-description", type: "text", value: t?.description || "" });
  const event = h("select", { id: "trigger-event" }, EVENTS.map((e) => h("option", { value: e, selected: e === (t?.event || "add_to_cart") }, e)));
  const whenBox = h("input", { id: "trigger-when", type: "text", value: t?.when || "", placeholder: "profile.cart.items > 0 (optional)" });
  const wait = h("input", { id: "trigger-wait", type: "number", min: 0, step: "any", value: t?.waitMinutes ?? 30 });
  const cancel = h("select", { id: "trigger-cancel" }, h("option", { value: "" }, "(nothing)"), EVENTS.map((e) => h("option", { value: e, selected: e === (t ? t.cancelOn : "purchase") }, e)));
  const webhook = h("input", { id: "trigger-webhook", type: "url", required: true, value: t?.webhook || "", placeholder: "https://crm.example/hooks/personalizer" });
  const secret = h("input", { id: "trigger-secret", type: "password", autocomplete: "new-password", placeholder: t?.secretSet ? "(set; leave empty to keep it)" : "at least 16 characters" });
  const enabled = h("input", { id: "trigger-enabled", type: "checkbox", checked: t ? t.enabled : true });
  const form = h("form", { class: "card", id: "trigger-form", "aria-labelledby": "trigger-title" },
    h("h3", { id: "trigger-title" }, t ? `Trigger ${t.id}` : "New trigger"),
    h("label", { for: "trigger-id" }, "Trigger id"), id,
    h("label", { for: "trigger-description" }, "Description"), description,
    h("label", { for: "trigger-event" }, "Starts on"), event,
    h("label", { for: "trigger-when" }, "Only when (condition on the profile after the event)"), whenBox,
    h("label", { for: "trigger-wait" }, "Wait (minutes)"), wait,
    h("label", { for: "trigger-cancel" }, "Cancelled by"), cancel,
    h("label", { for: "trigger-webhook" }, "Webhook URL"), webhook,
    h("label", { for: "trigger-secret" }, "Signing secret"), secret,
    h("label", { class: "inline", for: "trigger-enabled" }, enabled, "Enabled"),
    h("p", {}, h("button", { type: "submit", id: "trigger-save" }, "Save trigger")), error, saved);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = saved.textContent = "";
    try {
      const out = await api(`/v1/triggers/${encodeURIComponent(id.value.trim())}`, {
        method: "PUT",
        body: {
          description: description.value || null, event: event.value, when: whenBox.value.trim() || null, waitMinutes: Number(wait.value),
          cancelOn: cancel.value || null, webhook: webhook.value.trim(), secret: secret.value || null, enabled: enabled.checked,
        },
      });
      saved.textContent = `Saved as configuration version ${out.version}.`;
      if (!t) location.hash = `#triggers/${encodeURIComponent(id.value.trim())}`;
      else await route();
    } catch (err) {
      error.textContent = describe(err);
    }
  });
  return form;
}

function tester(t, route) {
  const url = h("input", { id: "test-url", type: "url", value: t.webhook });
  const result = h("p", { role: "status", id: "test-result" });
  const form = h("form", { class: "card", id: "trigger-test", "aria-labelledby": "test-title" },
    h("h3", { id: "test-title" }, "Send a test delivery"),
    h("p", { class: "muted" }, "A signed message of this trigger (visitor test), sent now; nothing is scheduled."),
    h("label", { for: "test-url" }, "To URL"), url, h("p", {}, h("button", { type: "submit", id: "test-send" }, "Send test")), result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    result.textContent = "Sending…";
    try {
      const out = await api(`/v1/triggers/${encodeURIComponent(t.id)}/test`, { method: "POST", body: { url: url.value.trim() || null } });
      result.textContent = out.status === "delivered" ? `Delivered: the receiver answered ${out.httpStatus}.` : `Not delivered: ${out.error}`;
      result.className = out.status === "delivered" ? "ok" : "error";
      setTimeout(() => route(), 1500);
    } catch (err) {
      result.textContent = describe(err);
    }
  });
  return form;
}
