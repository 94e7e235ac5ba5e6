/* Users page (admins): create users, disable or enable them. */
"use strict";

(() => {
  const { t, api, toast } = SW;
  const form = document.getElementById("new-user");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form));
    if (!body.staff_code) delete body.staff_code;
    const result = await api("POST", "/api/users", body);
    if (result.ok) { toast(t("users.created"), "ok"); setTimeout(() => location.reload(), 600); return; }
    const detail = result.data && result.data.detail;
    toast(t("alert.error") + ": " + (typeof detail === "string" ? detail : JSON.stringify(detail)), "error");
  });
  document.querySelectorAll("button.toggle-user").forEach((button) => {
    button.addEventListener("click", async () => {
      const result = await api("PATCH", `/api/users/${button.dataset.user}`, { active: button.dataset.active === "true" });
      if (result.ok) location.reload(); else toast(t("alert.error"), "error");
    });
  });
})();
