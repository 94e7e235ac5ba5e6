/* Alert cards and actions, shared by the dashboard, the alert page and the phone page. */
"use strict";

const Alerts = (() => {
  const { config, t, api, el, time, toast } = SW;
  const OPEN = ["new", "acknowledged", "dispatched"];

  function nextStatuses(alert) {
    if (config.role === "guardian") return [];
    return (config.allowed[alert.status] || []);
  }

  /* Ask for a note in `slot` when the transition needs one (or always, optionally). */
  function askNote(slot, required, placeholder) {
    return new Promise((resolve) => {
      slot.replaceChildren(document.getElementById("note-form").content.cloneNode(true));
      const form = slot.querySelector("form");
      const area = form.querySelector("textarea");
      area.required = required;
      if (placeholder) area.placeholder = placeholder;
      area.focus();
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        slot.replaceChildren();
        resolve(area.value);
      });
      form.querySelector(".cancel").addEventListener("click", () => { slot.replaceChildren(); resolve(null); });
    });
  }

  /* Ask in `slot` whom to dispatch the alert to (派单): the staff serving its area, nearest
     first, and an optional note; resolves to `{note, assigneeId}` (the audit note "派给
     name：note" and the staff id, who is then told), or null. */
  async function askDispatch(alertId, slot) {
    const result = await api("GET", `/api/alerts/${alertId}/dispatch-candidates`);
    if (!result.ok) { toast(t("alert.error"), "error"); return null; }
    const staff = result.data;
    const pick = el("select", { name: "staff", required: true, "aria-label": t("alert.dispatch_to_label") },
      el("option", { value: "", text: t("alert.dispatch_pick") }),
      ...staff.map((s) => el("option", { value: String(s.id), text: `${s.name} · ${t("role." + s.role)} · ${s.area}` })));
    const area = el("textarea", { name: "note", rows: "2", maxlength: "1900", placeholder: t("alert.note") });
    return new Promise((resolve) => {
      const done = (value) => { slot.replaceChildren(); resolve(value); };
      const form = el("form", {
        class: "note-form dispatch-form",
        onsubmit: (event) => {
          event.preventDefault();
          const chosen = staff.find((s) => String(s.id) === pick.value);
          if (!chosen) return;
          const who = t("alert.dispatch_to").replace("{name}", chosen.name);
          done({ note: area.value.trim() ? `${who}：${area.value.trim()}` : who, assigneeId: chosen.id });
        },
      }, pick, area,
      el("button", { type: "submit", class: "primary", text: t("alert.confirm") }),
      el("button", { type: "button", class: "cancel", text: t("alert.cancel"), onclick: () => done(null) }));
      slot.replaceChildren(form);
      pick.focus();
    });
  }

  /* Move an alert to `to`; returns the alert as it is afterwards (also after a conflict). */
  async function transition(alert, to, slot) {
    const body = { to, version: alert.version, note: "" };
    const required = config.noteRequired.includes(to);
    if (to === "dispatched") {
      const dispatch = await askDispatch(alert.id, slot);
      if (dispatch === null) return null;
      body.note = dispatch.note;
      body.assignee_id = dispatch.assigneeId;
    } else if (required) {
      body.note = await askNote(slot, required);
      if (body.note === null) return null;
    }
    const result = await api("POST", `/api/alerts/${alert.id}/transitions`, body);
    if (result.ok) return result.data;
    if (result.status === 409) {
      toast(t("alert.conflict"), "warn");
      const fresh = await api("GET", `/api/alerts/${alert.id}`);
      return fresh.ok ? fresh.data : null;
    }
    const detail = result.data && result.data.detail;
    toast(result.status === 422 && result.data && result.data.code === "note_required"
      ? t("alert.note_required") : t("alert.error") + (typeof detail === "string" ? ": " + detail : ""), "error");
    return null;
  }

  async function onIt(alertId) {
    const result = await api("POST", `/api/alerts/${alertId}/on-it`);
    if (!result.ok) { toast(t("alert.error"), "error"); return null; }
    const said = result.data.family_response ? "g.responded" : result.data.acknowledged ? "g.on_it_done" : "g.taken";
    toast(t(said), "ok");
    return result.data.alert;
  }

  /* What an arrival's answer says to the staff member. */
  function arrivalSaid(answer) {
    if (!answer.arrived) return "alert.arrive_before";
    return answer.acknowledged ? "alert.arrive_acknowledged" : "alert.arrive_done";
  }

  /* A staff member is on site: asks where (optional); returns what to say, or null. */
  async function arrive(alertId, slot) {
    const note = await askNote(slot, false, t("alert.arrive_note"));
    if (note === null) return null;
    const result = await api("POST", `/api/alerts/${alertId}/arrival`, { note });
    if (!result.ok) { toast(t("alert.error"), "error"); return null; }
    const said = t(arrivalSaid(result.data));
    toast(said, "ok");
    return said;
  }

  /* A supervisor urges the case on (督办) with a required note; returns the alert after. */
  async function urge(alertId, slot) {
    const note = await askNote(slot, true, t("alert.urge_note"));
    if (note === null) return null;
    const result = await api("POST", `/api/alerts/${alertId}/urge`, { note });
    if (!result.ok) { toast(t("alert.error"), "error"); return null; }
    toast(t("alert.urge_done"), "ok");
    return result.data;
  }

  /* Whether the viewer may urge the alert on: a supervisor or admin, an open case. */
  function urgeable(alert) { return config.canUrge && OPEN.includes(alert.status); }

  /* A dispatched case past its due time (told by the rules, or seen from the due time). */
  function overdue(alert) {
    return alert.status === "dispatched" && Boolean(alert.overdue_at || (alert.due_at && Date.parse(alert.due_at) < Date.now()));
  }

  function snapshot(alert, size) {
    return alert.snapshot_url
      ? el("img", { class: "snapshot " + size, src: alert.snapshot_url, alt: "snapshot", loading: "lazy" })
      : el("div", { class: "snapshot none " + size, text: t("alert.no_snapshot") });
  }

  /* "家属已响应 · who · when", if a guardian answered. */
  function familyBadge(alert) {
    if (!alert.family_response_at) return [];
    return [el("span", {
      class: "badge family-response",
      text: `${t("alert.family_response")} · ${alert.family_response_by || ""} · ${time(alert.family_response_at)}`,
    })];
  }

  /* "已到场 · who · when" once someone is on site, "超时无人到场" while nobody is after the
     deadline. */
  function arrivalBadge(alert) {
    if (alert.arrived_at) {
      return [el("span", {
        class: "badge arrived",
        text: `${t("alert.arrived")} · ${alert.arrived_by || ""} · ${time(alert.arrived_at)}`,
      })];
    }
    return alert.arrival_missed_at ? [el("span", { class: "badge arrival-missed", text: t("alert.arrival_missed") })] : [];
  }

  function badges(alert) {
    const origin = alert.details && alert.details.origin;
    return [
      el("span", { class: "badge sev-" + alert.severity, text: t("severity." + alert.severity) }),
      el("span", { class: "badge status status-" + alert.status, text: t("status." + alert.status) }),
      ...familyBadge(alert),
      ...arrivalBadge(alert),
      ...(overdue(alert) ? [el("span", { class: "badge overdue", text: t("alert.overdue") })] : []),
      ...(alert.urged_at ? [el("span", { class: "badge urged", text: `${t("alert.urged")} · ${alert.urged_by || ""}` })] : []),
      ...(origin ? [el("span", { class: "badge origin origin-" + origin, text: t("origin." + origin) })] : []),
    ];
  }

  /* Follow the live feed from `cursor`; calls onChange(payload), onReset(). */
  function follow(cursor, onChange, onReset, indicator) {
    const source = new EventSource("/api/feed" + (cursor ? "?after=" + encodeURIComponent(cursor) : ""));
    const state = (on) => { if (indicator) indicator.className = "live " + (on ? "on" : "off"); };
    source.addEventListener("ready", () => state(true));
    source.addEventListener("alert", (event) => { state(true); onChange(JSON.parse(event.data)); });
    source.addEventListener("reset", () => { source.close(); onReset(); });
    source.addEventListener("signed_out", () => { source.close(); location.href = "/login"; });
    source.onerror = () => { state(false); if (indicator) indicator.title = t("live.offline"); };
    return source;
  }

  /* The evidence clip, its snapshot as the poster, loaded only when played; else the snapshot. */
  function clip(alert, size) {
    if (!alert.clip_url) return snapshot(alert, size);
    return el("video", {
      class: "snapshot clip " + size, src: alert.clip_url, poster: alert.snapshot_url,
      controls: true, playsinline: true, preload: "none", "aria-label": t("alert.clip"),
    });
  }

  return { OPEN, nextStatuses, transition, onIt, arrive, urge, urgeable, overdue, snapshot, clip, badges, follow, time };
})();
