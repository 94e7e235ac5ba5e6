/* An alert's page: the actions left, with notes; reloads to show the new audit entry. */
"use strict";

(() => {
  const { config } = SW;
  const slot = document.getElementById("note-slot");
  const alert = { id: config.alertId, version: config.version };
  document.querySelectorAll("#actions [data-to]").forEach((button) => {
    button.addEventListener("click", async () => {
      const updated = await Alerts.transition(alert, button.dataset.to, slot);
      if (updated) setTimeout(() => location.reload(), 1200);
    });
  });
  document.querySelectorAll("[data-on-it]").forEach((button) => {
    button.addEventListener("click", async () => {
      if (await Alerts.onIt(alert.id)) setTimeout(() => location.reload(), 800);
    });
  });
})();
