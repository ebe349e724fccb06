// Personalizer storefront snippet. Fills every [data-p13n-slot] element from one decide call,
// hides only those elements while waiting (never the page), shows their default markup after
// timeoutMs, escapes every template value, and reports page views, clicks and tracked events in
// batches. No visitor id and no event is ever created without consent.

const STYLE = "[data-p13n-pending]{visibility:hidden}";
const KEY = "p13n_vid";
const ALLOWED = /^(B|I|EM|STRONG|P|BR|SPAN|UL|OL|LI|A|SMALL|H2|H3)$/;

let cfg = null;
let queue = [];
let timer = 0;
let visitor = null;
let lastDecision = null;

const now = () => new Date().toISOString();
const uid = () => (crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2));

function readId() {
  try {
    const m = document.cookie.match(/(?:^|; )p13n_vid=([^;]+)/);
    return (m && decodeURIComponent(m[1])) || localStorage.getItem(KEY);
  } catch (e) {
    return null;
  }
}

function writeId(id) {
  try {
    document.cookie = KEY + "=" + encodeURIComponent(id) + ";path=/;max-age=31536000;samesite=lax";
    localStorage.setItem(KEY, id);
  } catch (e) { /* storage blocked: the id lives for this page */ }
}

function forgetId() {
  try {
    document.cookie = KEY + "=;path=/;max-age=0";
    localStorage.removeItem(KEY);
  } catch (e) { /* nothing stored */ }
}

function consented() {
  return cfg && cfg.consent !== false;
}

/** The visitor id: stored only with consent; without it, a throwaway id for this page. */
function visitorId() {
  if (visitor) return visitor;
  if (consented()) {
    visitor = readId() || "v-" + uid();
    writeId(visitor);
  } else {
    visitor = "anon-" + uid();
  }
  return visitor;
}

function headers() {
  return { "Content-Type": "application/json", "X-Api-Key": cfg.siteKey, "X-Visitor-Id": visitorId() };
}

async function send(path, init, retry) {
  let wait = 500;
  try {
    const res = await fetch(cfg.endpoint + path, init);
    // Rate-limited: wait as long as the service asks (at most 30 s), then once more.
    if (res.status === 429 && retry) wait = Math.min(30, +res.headers.get("Retry-After") || 1) * 1000;
    else if (res.status >= 500 && retry) throw new Error("" + res.status);
    else return res;
  } catch (e) {
    if (!retry) throw e;
  }
  await new Promise((r) => setTimeout(r, wait));
  return send(path, init, false);
}

function context(extra) {
  const q = new URLSearchParams(location.search);
  const utm = {};
  q.forEach((v, k) => { if (k.indexOf("utm_") === 0) utm[k.slice(4)] = v; });
  return Object.assign({ url: location.href, referrer: document.referrer || undefined, device: innerWidth < 768 ? "mobile" : "desktop", language: navigator.language, utm }, extra);
}

/** Queues an event; sent in batches, flushed by sendBeacon when the page goes away. */
function track(type, props) {
  if (!consented()) return;
  queue.push(Object.assign({ eventId: uid(), type, visitorId: visitorId(), timestamp: now(), context: { url: location.href } }, props));
  clearTimeout(timer);
  timer = setTimeout(flush, 1000);
}

function flush(beacon) {
  if (!queue.length || !consented()) return;
  const events = queue.splice(0, 500);
  const body = JSON.stringify({ events });
  if (beacon === true && navigator.sendBeacon) {
    // A beacon cannot carry headers: the public site key goes in the query, the body as text/plain.
    navigator.sendBeacon(cfg.endpoint + "/v1/events?key=" + encodeURIComponent(cfg.siteKey), new Blob([body], { type: "text/plain" }));
    return;
  }
  // Still refused after the retry (429 or 5xx): the events go back to the queue, sent again in 5 s.
  const requeue = () => { queue.unshift(...events); clearTimeout(timer); timer = setTimeout(flush, 5000); };
  send("/v1/events", { method: "POST", headers: headers(), body, keepalive: true }, true)
    .then((res) => { if (res.status === 429 || res.status >= 500) requeue(); })
    .catch(requeue);
}

function escape(v) {
  return String(v == null ? "" : v).replace(/[&<>"'`=]/g, (c) => "&#" + c.charCodeAt(0) + ";");
}

/** Allow-list sanitizer: known tags only, no attributes but http(s) links. */
function sanitize(html) {
  const doc = new DOMParser().parseFromString("<body>" + html, "text/html");
  const walk = (node) => {
    for (const child of Array.from(node.children)) {
      if (!ALLOWED.test(child.tagName)) { child.remove(); continue; }
      for (const a of Array.from(child.attributes)) {
        if (!(child.tagName === "A" && a.name === "href" && /^https?:\/\//i.test(a.value))) child.removeAttribute(a.name);
      }
      walk(child);
    }
  };
  walk(doc.body);
  return doc.body.innerHTML;
}

function fill(template, data) {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, path) => escape(path.split(".").reduce((o, k) => (o == null ? o : o[k]), data)));
}

function render(el, answer, decisionId) {
  const slotId = el.getAttribute("data-p13n-slot");
  const tpl = el.getAttribute("data-p13n-template");
  const template = tpl && document.getElementById(tpl);
  const fn = cfg.render && cfg.render[slotId];
  if (fn) {
    fn(el, answer);
  } else if (answer.items) {
    const html = template ? template.innerHTML : "<a href=\"{{url}}\">{{title}}</a>";
    el.innerHTML = answer.items.map((item) => "<div data-p13n-item=\"" + escape(item.itemId) + "\">" + fill(html, item) + "</div>").join("");
  } else if (answer.content) {
    const content = answer.content;
    if (content.allowHtml === true && typeof content.html === "string") {
      el.innerHTML = sanitize(content.html);
    } else {
      el.innerHTML = fill(template ? template.innerHTML : "{{title}}", content);
    }
  }
  // Escaping stops markup; a link or image must also point where it seems to: each URL is resolved as the
  // browser would (so "/\\evil.example" is seen as the other host it is) and kept, resolved, only for http(s).
  el.querySelectorAll("[href],[src]").forEach((n) => {
    for (const a of ["href", "src"]) {
      const v = n.getAttribute(a);
      if (v == null) continue;
      let u = null;
      try { u = new URL(v, location.href); } catch (_) { /* not a URL */ }
      if (u && /^https?:$/.test(u.protocol)) n.setAttribute(a, u.href); else n.removeAttribute(a);
    }
  });
  el.setAttribute("data-p13n-source", answer.source);
  el.onclick = (e) => {
    const item = e.target.closest && e.target.closest("[data-p13n-item]");
    track("slot_click", { slotId, decisionId, variant: answer.variant, itemId: item ? item.getAttribute("data-p13n-item") : undefined });
  };
}

function reveal(el) {
  el.removeAttribute("data-p13n-pending");
}

/** Decides the given slots (default: every slot on the page) and renders them; {explain: true} asks for each slot's trace, {filters: {slot: {...}}} narrows recommendation slots. */
async function decide(slots, extra, options) {
  const els = Array.from(document.querySelectorAll("[data-p13n-slot]")).filter((el) => !slots || slots.indexOf(el.getAttribute("data-p13n-slot")) >= 0);
  if (!els.length) return null;
  els.forEach((el) => el.setAttribute("data-p13n-pending", ""));
  const guard = setTimeout(() => els.forEach(reveal), cfg.timeoutMs);
  try {
    const res = await send(options && options.explain ? "/v1/decide?explain=true" : "/v1/decide", {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ visitorId: visitorId(), context: context(extra), slots: els.map((el) => el.getAttribute("data-p13n-slot")), filters: options && options.filters }),
    }, false);
    if (!res.ok) throw new Error("" + res.status);
    const decision = await res.json();
    lastDecision = decision;
    els.forEach((el) => {
      const answer = decision.slots[el.getAttribute("data-p13n-slot")];
      // After the time-out the default markup stays: swapping later would make the page jump.
      if (answer && el.hasAttribute("data-p13n-pending")) render(el, answer, decision.decisionId);
    });
    return decision;
  } catch (e) {
    return null;
  } finally {
    clearTimeout(guard);
    els.forEach(reveal);
  }
}

function pageView() {
  track("page_view");
}

function init(options) {
  cfg = Object.assign({ endpoint: "", timeoutMs: 300, consent: true }, options);
  cfg.endpoint = cfg.endpoint.replace(/\/$/, "");
  if (!document.getElementById("p13n-style")) {
    const style = document.createElement("style");
    style.id = "p13n-style";
    style.textContent = STYLE;
    document.head.appendChild(style);
  }
  for (const name of ["pushState", "replaceState"]) {
    const original = history[name];
    history[name] = function () {
      const result = original.apply(this, arguments);
      if (name === "pushState") pageView();
      return result;
    };
  }
  addEventListener("popstate", pageView);
  addEventListener("pagehide", () => flush(true));
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flush(true); });
  pageView();
  return Personalizer;
}

/** Merges this visitor into the customer's profile (traits stay on the page: the profile keeps behaviour, not attributes). */
function identify(customerId) {
  track("identify", { customerId });
  flush();
}

function setPreferences(prefs) {
  if (!consented()) return Promise.resolve(null);
  return send("/v1/visitors/" + encodeURIComponent(visitorId()) + "/preferences", { method: "PUT", headers: headers(), body: JSON.stringify(prefs) }, true);
}

/** Grants or withdraws consent: withdrawing forgets the stored id and drops queued events. */
function setConsent(granted) {
  const before = consented();
  cfg.consent = !!granted;
  if (!granted) {
    if (before && visitor && visitor.indexOf("anon-") !== 0) {
      send("/v1/visitors/" + encodeURIComponent(visitor) + "/preferences", { method: "PUT", headers: headers(), body: JSON.stringify({ tracking: "denied" }) }, true).catch(() => {});
    }
    queue = [];
    forgetId();
    visitor = null;
  } else if (!before) {
    visitor = null;
  }
}

const Personalizer = {
  init,
  track,
  decide,
  identify,
  setPreferences,
  setConsent,
  flush,
  get visitorId() { return cfg ? visitorId() : null; },
  get lastDecision() { return lastDecision; },
};

export default Personalizer;
