/* An alert's page: tabs, the folded timeline, and actions whose result shows in the page's
   head (which stays in view): the head and the audit trail are refreshed in place, after an
   action and when someone else moves the case on; the evidence clip appears when it arrives
   (the live feed's `clip`). */
"use strict";

(() => {
  const { config, t } = SW;
  const alert = { id: config.alertId, version: config.version };

  function showTab(name) {
    document.querySelectorAll("[data-tab]").forEach((tab) => {
      const on = tab.dataset.tab === name;
      tab.classList.toggle("on", on);
      tab.setAttribute("aria-selected", String(on));
      document.getElementById(tab.dataset.tab).hidden = !on;
    });
  }

  /* Replace the head and the panels with the server's current rendering; say `message` (if
     any) as the result. A form open in the note slot is carried over with what it holds, and
     so is the last result. */
  async function redraw(message) {
    const response = await fetch(location.pathname, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const slot = document.getElementById("note-slot");
    const focused = slot.contains(document.activeElement) ? document.activeElement : null;
    if (slot.hasChildNodes()) fresh.getElementById("note-slot").replaceWith(slot);
    const result = document.getElementById("action-result");
    if (message) {
      result.textContent = message;
      result.className = "action-result ok";
    }
    fresh.getElementById("action-result").replaceWith(result);
    for (const id of ["case-head", "timeline", "audit"]) {
      const hidden = document.getElementById(id).hidden;
      document.getElementById(id).replaceWith(fresh.getElementById(id));
      document.getElementById(id).hidden = hidden;
    }
    focused?.focus();
    document.querySelector('[data-tab="audit"]').textContent = fresh.querySelector('[data-tab="audit"]').textContent;
    const next = JSON.parse(fresh.getElementById("config").textContent);
    alert.version = next.version;
    bind();
  }

  /* Redraw, one redraw after another; with `version`, only if the page shows an older one. */
  let redrawn = Promise.resolve();
  function refresh(message, version) {
    const run = () => (version === undefined || version > alert.version ? redraw(message) : null);
    redrawn = redrawn.then(run, run);
    return redrawn;
  }

  /* Each action ends (done, refused or cancelled) with the case as it is now, and its result
     if done. */
  function bind() {
    const slot = document.getElementById("note-slot");
    document.querySelectorAll("#actions [data-to]").forEach((button) => {
      button.addEventListener("click", async () => {
        const updated = await Alerts.transition(alert, button.dataset.to, slot);
        await refresh(updated && t("alert.done").replace("{status}", t("status." + updated.status)));
      });
    });
    document.querySelectorAll("[data-arrive]").forEach((button) => {
      button.addEventListener("click", async () => refresh(await Alerts.arrive(alert.id, slot)));
    });
    document.querySelectorAll("[data-urge]").forEach((button) => {
      button.addEventListener("click", async () => refresh((await Alerts.urge(alert.id, slot)) && t("alert.urge_done")));
    });
    document.querySelectorAll("[data-on-it]").forEach((button) => {
      button.addEventListener("click", async () => {
        if (await Alerts.onIt(alert.id)) await refresh(t("g.on_it_done"));
      });
    });
    const showAll = document.getElementById("show-all");
    if (showAll) {
      showAll.addEventListener("click", () => {
        document.querySelectorAll(".timeline li.folded").forEach((row) => { row.hidden = false; });
        showAll.parentElement.remove();
      });
    }
  }

  /* A clip (or a better snapshot) that arrives while the page is open replaces the media,
     unless a video is playing; someone else's move of the case redraws the rest. */
  async function refreshMedia() {
    const response = await fetch(location.pathname, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const media = document.getElementById("case-media");
    const video = media.querySelector("video");
    if (!video || video.paused) media.replaceWith(fresh.getElementById("case-media"));
  }
  Alerts.follow(config.feedCursor, (payload) => {
    if (payload.alert.id !== alert.id) return;
    if (["clip", "snapshot"].includes(payload.change)) refreshMedia();
    // The feed's echo of this page's own action comes with the action's answer: by then the
    // action's refresh has the version, and this one has nothing to do.
    else setTimeout(() => refresh(null, payload.alert.version), 300);
  }, refreshMedia, null);

  document.querySelectorAll("[data-tab]").forEach((tab) => {
    tab.addEventListener("click", (event) => { event.preventDefault(); showTab(tab.dataset.tab); });
  });
  if (location.hash === "#audit") showTab("audit");
  bind();
})();
