/* The phone page: the viewer's alerts, live, with snapshots and the one-tap "I'm on it";
   registers the service worker and subscribes to Web Push. */
"use strict";

(() => {
  const { t, api, el, time } = SW;
  const box = document.getElementById("g-alerts");
  const alerts = new Map();

  function card(a) {
    const onIt = ["new", "acknowledged", "dispatched"].includes(a.status) && !a.family_response_at
      ? el("button", {
          type: "button", class: "primary big on-it", text: t("g.on_it"),
          onclick: async () => { const updated = await Alerts.onIt(a.id); if (updated) upsert(updated); },
        })
      : null;
    const open = ["new", "acknowledged", "dispatched"].includes(a.status);
    const todo = t("todo." + a.type) === "todo." + a.type ? t("todo.default") : t("todo." + a.type);
    return el("article", { class: `g-card sev-${a.severity} status-${a.status}`, "data-id": a.id, "data-status": a.status },
      Alerts.clip(a, "wide"),
      el("h2", {}, el("a", { href: `/alerts/${a.id}`, text: a.title })),
      el("p", { class: "meta" }, ...Alerts.badges(a), " " + time(a.created_at)),
      open ? el("p", { class: "todo" }, el("strong", { text: t("g.todo") + "：" }), todo) : null,
      onIt);
  }

  function upsert(a) {
    const previous = alerts.get(a.id);
    if (previous && a.version < previous.version) return;
    alerts.set(a.id, a);
    const node = card(a);
    const existing = box.querySelector(`[data-id="${a.id}"]`);
    if (existing) existing.replaceWith(node);
    else box.insertBefore(node, [...box.children].find((o) => Number(o.dataset.id) < a.id) || null);
    document.getElementById("g-empty").hidden = alerts.size > 0;
  }

  async function load() {
    const result = await api("GET", "/api/alerts?limit=30");
    if (!result.ok) return;
    alerts.clear();
    box.replaceChildren();
    result.data.items.forEach(upsert);
    document.getElementById("g-empty").hidden = alerts.size > 0;
    Alerts.follow(result.data.feed_cursor, (p) => upsert(p.alert), load, null);
  }

  /* ---- installable app and Web Push ---- */
  const pushButton = document.getElementById("push");
  const pushState = document.getElementById("push-state");

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  async function showPushState(registration) {
    const subscription = registration && await registration.pushManager.getSubscription();
    pushState.textContent = subscription ? t("g.push_on") : "";
    pushButton.hidden = Boolean(subscription);
  }

  async function subscribe() {
    try {
      const registration = await navigator.serviceWorker.ready;
      if ((await Notification.requestPermission()) !== "granted") throw new Error(Notification.permission);
      const key = await api("GET", "/api/push/key");
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(key.data.public_key),
      });
      const saved = await api("POST", "/api/push/subscriptions", subscription.toJSON());
      if (!saved.ok) throw new Error(saved.data && saved.data.detail);
      await showPushState(registration);
    } catch (error) {
      pushState.textContent = t("g.push_failed") + (error && error.message ? error.message : error);
    }
  }

  if ("serviceWorker" in navigator && "PushManager" in window) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then((registration) => {
      document.body.dataset.serviceWorker = "registered";
      return showPushState(registration);
    }).catch((error) => {
      document.body.dataset.serviceWorker = "failed";
      pushState.textContent = t("g.push_failed") + error.message;
    });
    pushButton.addEventListener("click", subscribe);
  } else {
    pushButton.hidden = true;
    pushState.textContent = t("g.push_unsupported");
  }

  load();
})();
