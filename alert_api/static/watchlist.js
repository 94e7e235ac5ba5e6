/* Watch-list pages: guardians' invite links, assigning or dismissing unassigned sensor devices,
   CSV upload with the row report. */
"use strict";

(() => {
  const { t, api, el, toast } = SW;

  document.querySelectorAll("button.invite").forEach((button) => {
    button.addEventListener("click", async () => {
      const result = await api("POST", "/api/invites", { guardian_id: Number(button.dataset.guardian) });
      if (!result.ok) { toast(t("alert.error"), "error"); return; }
      const output = document.querySelector(`output[data-for="${button.dataset.guardian}"]`);
      const link = el("input", { readonly: true, value: result.data.url, class: "invite-link" });
      const copy = el("button", { type: "button", class: "copy", text: t("wl.copy"), onclick: async () => {
        try { await navigator.clipboard.writeText(link.value); } catch { link.select(); document.execCommand("copy"); }
        toast(t("wl.copied"), "ok");
      } });
      const qr = el("img", { class: "invite-qr", src: result.data.qr_svg, alt: t("wl.qr"), width: 160, height: 160 });
      output.replaceChildren(t("wl.invite_made"), link, copy, el("p", { class: "muted small", text: t("wl.qr_hint") }), qr);
    });
  });

  const failed = (result) => {
    const detail = result.data && result.data.detail;
    const text = detail && detail.message ? `${detail.field}: ${detail.message}` : JSON.stringify(detail);
    toast(t("alert.error") + (detail ? ": " + text : ""), "error");
  };
  document.querySelectorAll("form.assign").forEach((assign) => {
    assign.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(assign);
      const body = {
        site: data.get("site"), device: data.get("device"), kinds: data.getAll("kinds"),
        location: data.get("location"), person: data.get("person"),
      };
      const result = await api("POST", `/api/devices/unassigned/${assign.dataset.entry}/assign`, body);
      if (!result.ok) { failed(result); return; }
      toast(t("dev.assigned"), "ok");
      setTimeout(() => location.reload(), 600);
    });
  });
  document.querySelectorAll("button.dismiss").forEach((button) => {
    button.addEventListener("click", async () => {
      const result = await api("POST", `/api/devices/unassigned/${button.dataset.entry}/dismiss`);
      if (!result.ok) { failed(result); return; }
      toast(t("dev.dismissed"), "ok");
      setTimeout(() => location.reload(), 600);
    });
  });

  /* A record edited in the browser: sent as one CSV row, refused cells shown beside them. */
  const edit = document.getElementById("edit-row");
  if (edit) {
    edit.addEventListener("submit", async (event) => {
      event.preventDefault();
      edit.querySelectorAll(".field-error").forEach((slot) => { slot.textContent = ""; });
      const values = Object.fromEntries([...new FormData(edit)].map(([k, v]) => [k, String(v).trim()]));
      const result = await api("POST", `/api/watchlist/${SW.config.kind}/rows`, { values });
      if (result.ok) {
        toast(t(result.data.created ? "edit.created" : "edit.updated"), "ok");
        const key = SW.config.keyColumns.map((c) => values[c] || "").join("|");
        setTimeout(() => { location.href = `/watchlist/edit/${SW.config.kind}?key=${encodeURIComponent(key)}`; }, 800);
        return;
      }
      const errors = (result.data && result.data.errors) || [];
      if (!errors.length) { toast(t("alert.error"), "error"); return; }
      for (const e of errors) {
        const slot = edit.querySelector(`.field-error[data-for="${e.column || ""}"]`) || edit.querySelector('.field-error[data-for=""]');
        slot.textContent = (slot.textContent ? slot.textContent + "; " : "") + e.message;
      }
      const first = [...edit.querySelectorAll(".field-error")].find((slot) => slot.textContent);
      if (first) first.parentElement.scrollIntoView({ block: "center" });
      toast(t("edit.refused"), "error");
    });
  }

  const form = document.getElementById("import");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const kind = data.get("kind");
    data.delete("kind");
    const result = await api("POST", `/api/watchlist/${kind}/csv`, data);
    if (!result.data || result.data.rows === undefined) {
      toast(t("alert.error") + (result.data && result.data.detail ? ": " + JSON.stringify(result.data.detail) : ""), "error");
      return;
    }
    const r = result.data;
    document.getElementById("report").hidden = false;
    document.getElementById("report-summary").textContent =
      `${t("kind." + r.kind)}: ${t("csv.rows")} ${r.rows}, ${t("csv.created")} ${r.created}, ${t("csv.updated")} ${r.updated}, ` +
      `${t("csv.skipped")} ${r.skipped} (${r.encoding}) — ${r.applied ? t("csv.applied") : t("csv.not_applied")}`;
    document.getElementById("report-rows").replaceChildren(...r.errors.map((e) => el("tr", {},
      el("td", { text: e.line }), el("td", { text: e.column_label || "" }), el("td", { text: e.value || "" }), el("td", { text: e.message }))));
  });
})();
