// BreakingOn's service worker: shows the Web Push alerts the site sends (the payload is
// JSON {title, body, url, tag}, decrypted by the browser) and opens the story on a click.
"use strict";

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { title: "BreakingOn", body: event.data ? event.data.text() : "" };
  }
  const title = data.title || "BreakingOn";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || "",
      tag: data.tag || undefined,
      data: { url: data.url || "/" },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(self.clients.openWindow(url));
});
