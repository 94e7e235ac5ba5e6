/* Alert cards and actions, shared by the dashboard, the alert page and the phone page. */
"use strict";

const Alerts = (() => {
  const { config, t, api, el, time, toast } = SW;
  const OPEN = ["new", "acknowledged", "dispatched"];

  function nextStatuses(alert) {
    if (config.role === "guardian") return [];
    return (config.allowed[alert.status] || []);
  }

  /* The label of the button moving `alert` to `to`: 改派 for a re-dispatch. */
  function actionLabel(alert, to) {
    return t(alert.status === "dispatched" && to === "dispatched" ? "action.redispatch" : "action." + to);
  }

  /* Keep `form` in `slot` until it is sent or cancelled. On submit, `send(read())` answers
     {value} (done: the slot empties and the promise resolves to value) or {refusal, retry}
     (said in the form, which keeps what was typed to copy; confirm stays usable if retry).
     A cancel resolves to null. */
  function hold(slot, form, read, send) {
    return new Promise((resolve) => {
      const said = el("p", { class: "refusal", role: "alert", hidden: true });
      const confirm = form.querySelector("button[type=submit]");
      const done = (value) => { slot.replaceChildren(); resolve(value); };
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const fields = read();
        if (fields === null) return;
        confirm.disabled = true;
        const answer = await send(fields);
        if (!("refusal" in answer)) { done(answer.value); return; }
        said.replaceChildren(answer.refusal, el("br"), t("alert.note_kept"));
        said.hidden = false;
        confirm.disabled = !answer.retry;
      });
      form.querySelector(".cancel").addEventListener("click", () => done(null));
      form.append(said);
      slot.replaceChildren(form);
    });
  }

  /* Ask for a note in `slot` (`required`, or optional) and send it with `send` (as `hold`). */
  function askNote(slot, required, placeholder, send) {
    const form = document.getElementById("note-form").content.firstElementChild.cloneNode(true);
    const area = form.querySelector("textarea");
    area.required = required;
    if (placeholder) area.placeholder = placeholder;
    const held = hold(slot, form, () => area.value, send);
    area.focus();
    return held;
  }

  /* Ask in `slot` whom to dispatch the alert to (派单, 改派): the staff serving its area,
     nearest first, and an optional note; `send({note, assigneeId})` (as `hold`) gets the audit
     note "派给 name：note" and the staff id, who is then told. */
  async function askDispatch(alertId, slot, send) {
    const result = await api("GET", `/api/alerts/${alertId}/dispatch-candidates`);
    if (!result.ok) { toast(t("alert.error"), "error"); return null; }
    const staff = result.data;
    const pick = el("select", { name: "staff", required: true, "aria-label": t("alert.dispatch_to_label") },
      el("option", { value: "", text: t("alert.dispatch_pick") }),
      ...staff.map((s) => el("option", { value: String(s.id), text: `${s.name} · ${t("role." + s.role)} · ${s.area}` })));
    const area = el("textarea", { name: "note", rows: "2", maxlength: "1900", placeholder: t("alert.note") });
    const form = el("form", { class: "note-form dispatch-form" }, pick, area,
      el("button", { type: "submit", class: "primary", text: t("alert.confirm") }),
      el("button", { type: "button", class: "cancel", text: t("alert.cancel") }));
    const held = hold(slot, form, () => {
      const chosen = staff.find((s) => String(s.id) === pick.value);
      if (!chosen) return null;
      const who = t("alert.dispatch_to").replace("{name}", chosen.name);
      return { note: area.value.trim() ? `${who}：${area.value.trim()}` : who, assigneeId: chosen.id };
    }, send);
    pick.focus();
    return held;
  }

  /* The refusal of `action` on an alert someone else has handled: what it is `now`. */
  function taken(now, action) {
    return { refusal: t("alert.taken").replace("{status}", t("status." + now.status)).replace("{action}", action), retry: false };
  }

  /* What to answer `hold` when the API refused `action` (a button's label) on the alert. If
     someone else changed the alert meanwhile, says what it is now: "已被他人处理" when
     `possible(alert now)` says the action cannot be done any more, else that it changed (try
     again, `alert` being the alert now). */
  async function refused(alertId, result, action, possible) {
    const code = result.data && result.data.code;
    if (code === "note_required") return { refusal: t("alert.note_required"), retry: true };
    if (result.status === 409 || code === "invalid_transition") {
      const fresh = await api("GET", `/api/alerts/${alertId}`);
      if (fresh.ok) {
        if (!possible(fresh.data)) return taken(fresh.data, action);
        if (result.status === 409) {
          return { refusal: t("alert.changed").replace("{status}", t("status." + fresh.data.status)), retry: true, alert: fresh.data };
        }
      }
    }
    const detail = result.data && result.data.detail;
    return { refusal: t("alert.error") + (typeof detail === "string" ? "：" + detail : ""), retry: true };
  }

  /* Move an alert to `to`, asking for what the move needs first; returns the alert after, or
     null (cancelled, or refused: then told in the form, or by a toast when there is none). */
  async function transition(alert, to, slot) {
    const body = { to, version: alert.version, note: "" };
    const send = async (fields) => {
      Object.assign(body, fields);
      const result = await api("POST", `/api/alerts/${alert.id}/transitions`, body);
      if (result.ok) return { value: result.data };
      const answer = await refused(alert.id, result, actionLabel(alert, to), (now) => nextStatuses(now).includes(to));
      if (answer.alert) body.version = answer.alert.version;  // decided again: the next try
      return answer;
    };
    if (to === "dispatched") {
      return askDispatch(alert.id, slot, ({ note, assigneeId }) => send({ note, assignee_id: assigneeId }));
    }
    if (config.noteRequired.includes(to)) return askNote(slot, true, null, (note) => send({ note }));
    const answer = await send({});
    if ("refusal" in answer) toast(answer.refusal, "warn");
    return answer.value || null;
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
  function arrive(alertId, slot) {
    return askNote(slot, false, t("alert.arrive_note"), async (note) => {
      const result = await api("POST", `/api/alerts/${alertId}/arrival`, { note });
      if (!result.ok) return refused(alertId, result, t("alert.arrive"), () => true);
      if (!OPEN.includes(result.data.alert.status)) return taken(result.data.alert, t("alert.arrive"));
      const said = t(arrivalSaid(result.data));
      toast(said, "ok");
      return { value: said };
    });
  }

  /* A supervisor urges the case on (督办) with a required note; returns the alert after. */
  function urge(alertId, slot) {
    return askNote(slot, true, t("alert.urge_note"), async (note) => {
      const result = await api("POST", `/api/alerts/${alertId}/urge`, { note });
      if (!result.ok) return refused(alertId, result, t("alert.urge"), urgeable);
      toast(t("alert.urge_done"), "ok");
      return { value: result.data };
    });
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

  return { OPEN, nextStatuses, actionLabel, transition, onIt, arrive, urge, urgeable, overdue, snapshot, clip, badges, follow, time };
})();
