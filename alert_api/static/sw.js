/* Service worker of the Shouwang phone page: shows Web Push notifications about alerts and
   opens the alert when one is tapped. Payload: JSON {title, body, url, alert_id, severity}
   (plain text is shown as the body). */
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  if (event.data) {
    try { data = event.data.json(); } catch (error) { data = { body: event.data.text() }; }
  }
  const url = data.url || (data.alert_id ? `/alerts/${data.alert_id}` : "/guardian");
  event.waitUntil(self.registration.showNotification(data.title || "守望 Shouwang", {
    body: data.body || "",
    tag: data.alert_id ? `alert-${data.alert_id}` : undefined,
    renotify: Boolean(data.alert_id),
    requireInteraction: data.severity === "critical",
    icon: "/icons/icon-192.png",
    badge: "/icons/icon-192.png",
    data: { url },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/guardian";
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    for (const client of windows) {
      if ("focus" in client && "navigate" in client) return client.navigate(url).then((c) => c && c.focus());
    }
    return self.clients.openWindow(url);
  }));
});
