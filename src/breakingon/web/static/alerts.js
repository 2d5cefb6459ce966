// /alerts: turn Web Push on or off in this browser. Registers /sw.js, subscribes with the
// site's VAPID public key and sends the subscription (endpoint and keys) to the site with
// the page's CSRF token. Nothing runs unless the reader presses a button.
"use strict";

(function () {
  const box = document.getElementById("push");
  if (!box) return;
  const state = document.getElementById("push-state");
  const csrf = box.dataset.csrf;
  const say = (text) => { state.textContent = text; };

  function keyBytes(b64url) {
    const pad = "=".repeat((4 - (b64url.length % 4)) % 4);
    const raw = atob((b64url + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  async function post(path, body) {
    const resp = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    if (!resp.ok) throw new Error("the site answered " + resp.status);
  }

  async function on() {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      say("This browser has no Web Push.");
      return;
    }
    const permission = await Notification.requestPermission();
    if (permission !== "granted") { say("Notifications are not allowed."); return; }
    const reg = await navigator.serviceWorker.register("/sw.js");
    const sub = await reg.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(box.dataset.vapidKey),
    });
    await post("/alerts/push", sub.toJSON());
    say("Web Push is on in this browser.");
  }

  async function off() {
    const reg = await navigator.serviceWorker.getRegistration("/sw.js");
    const sub = reg && (await reg.pushManager.getSubscription());
    if (sub) {
      await post("/alerts/push/remove", { endpoint: sub.endpoint });
      await sub.unsubscribe();
    }
    say("Web Push is off in this browser.");
  }

  document.getElementById("push-on").addEventListener("click", () => on().catch((e) => say(String(e))));
  document.getElementById("push-off").addEventListener("click", () => off().catch((e) => say(String(e))));
})();
