/* The back-office dashboard: live alert list (SSE), actions, filters, statistics, health. */
"use strict";

(() => {
  const { config, t, api, el, time } = SW;
  const { OPEN } = Alerts;
  const list = document.getElementById("alerts");
  const filters = document.getElementById("filters");
  const more = document.getElementById("more");
  const live = document.getElementById("live");
  const alerts = new Map();
  let source = null;
  let nextBefore = null;

  /* ---- filters ---- */
  function subtree(rootId) {
    const ids = new Set([rootId]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const area of config.areas) {
        if (area.parent_id !== null && ids.has(area.parent_id) && !ids.has(area.id)) { ids.add(area.id); grew = true; }
      }
    }
    return ids;
  }

  function criteria() {
    const form = new FormData(filters);
    const areaId = form.get("area_id");
    return {
      status: form.get("status"), severity: form.get("severity"), type: form.get("type"),
      areas: areaId ? subtree(Number(areaId)) : null, areaId, since: form.get("since"),
    };
  }

  function query(c, before) {
    const params = new URLSearchParams();
    if (c.status === "open") OPEN.forEach((s) => params.append("status", s));
    else if (c.status) params.append("status", c.status);
    if (c.severity) params.append("severity", c.severity);
    if (c.type) params.append("type", c.type);
    if (c.areaId) params.append("area_id", c.areaId);
    if (c.since) params.append("since", c.since + "T00:00:00");
    if (before) params.append("before_id", before);
    params.append("limit", "50");
    return params.toString();
  }

  function matches(a, c) {
    if (c.status === "open" && !OPEN.includes(a.status)) return false;
    if (c.status && c.status !== "open" && a.status !== c.status) return false;
    if (c.severity && a.severity !== c.severity) return false;
    if (c.type && a.type !== c.type) return false;
    if (c.areas && !c.areas.has(a.area_id)) return false;
    if (c.since && new Date(a.created_at) < new Date(c.since + "T00:00:00")) return false;
    return true;
  }

  /* ---- cards ---- */
  function card(a) {
    const slot = el("div", { class: "note-slot" });
    const buttons = Alerts.nextStatuses(a).map((to) => el("button", {
      type: "button", class: "act act-" + to, "data-to": to, text: Alerts.actionLabel(a, to),
      onclick: async () => settle(a.id, await Alerts.transition(alerts.get(a.id) || a, to, slot)),
    }));
    if (Alerts.urgeable(a)) {
      buttons.push(el("button", {
        type: "button", class: "act act-urge", "data-urge": a.id, text: t("alert.urge"),
        onclick: async () => settle(a.id, await Alerts.urge(a.id, slot)),
      }));
    }
    return el("article", { class: cardClass(a), "data-id": a.id, "data-status": a.status },
      el("a", { href: `/alerts/${a.id}`, class: "thumb-link" }, Alerts.snapshot(a, "thumb")),
      el("div", { class: "body" },
        el("h3", {}, el("a", { href: `/alerts/${a.id}`, text: a.title })),
        meta(a),
        el("div", { class: "actions" }, ...buttons),
        slot));
  }

  function cardClass(a) {
    const flash = a.severity === "critical" && a.status === "new";
    return `alert-card sev-${a.severity} status-${a.status}` + (flash ? " flash" : "") + (Alerts.overdue(a) ? " overdue" : "");
  }

  function meta(a) {
    return el("p", { class: "meta" }, ...Alerts.badges(a),
      ` ${t("type." + a.type)} · ${a.area_name || a.site_name} · ${a.source_name} · ${time(a.created_at)}`,
      a.event_count > 1 ? " · " + t("alert.events_n").replace("{n}", a.event_count) : "");
  }

  /* A card with a form open (a note being typed, a dispatch being picked) is held: a change
     only redraws its badges, in place; it is redrawn, moved or dropped once the form closes. */
  function held(node) { return Boolean(node && node.querySelector(".note-slot").hasChildNodes()); }

  /* After a card's form closed: show the alert as the action left it, else as last told. */
  function settle(id, updated) {
    const latest = updated || alerts.get(id);
    if (latest) upsert(latest);
  }

  /* Open critical alerts first, then newest first. */
  function rank(a) { return [a.severity === "critical" && OPEN.includes(a.status) ? 0 : 1, -a.id]; }
  function before(x, y) { const [p, q] = [rank(x), rank(y)]; return p[0] - q[0] || p[1] - q[1]; }

  function place(a) {
    const node = card(a);
    list.querySelector(`[data-id="${a.id}"]`)?.remove();
    const after = [...list.children].find((other) => before(a, alerts.get(Number(other.dataset.id))) < 0);
    list.insertBefore(node, after || null);
  }

  function upsert(a, change) {
    const previous = alerts.get(a.id);
    if (previous && a.version < previous.version) return;
    const node = list.querySelector(`[data-id="${a.id}"]`);
    if (held(node)) {
      alerts.set(a.id, a);
      node.className = cardClass(a);
      node.dataset.status = a.status;
      node.querySelector(".meta").replaceWith(meta(a));
    } else if (!matches(a, criteria())) {
      if (previous) { alerts.delete(a.id); node?.remove(); }
    } else {
      alerts.set(a.id, a);
      place(a);
    }
    document.getElementById("alerts-empty").hidden = alerts.size > 0;
    if (change) statsSoon();
    attention();
  }

  async function load(append) {
    const result = await api("GET", "/api/alerts?" + query(criteria(), append ? nextBefore : null));
    if (!result.ok) return;
    if (!append) {
      for (const node of [...list.children]) {
        if (!held(node)) { alerts.delete(Number(node.dataset.id)); node.remove(); }
      }
      const critical = await api("GET", "/api/alerts?" + query({ ...criteria(), severity: "critical", status: "open" }));
      if (critical.ok) critical.data.items.forEach((a) => upsert(a));  // all of them on top
    }
    result.data.items.forEach((a) => upsert(a));
    document.getElementById("alerts-empty").hidden = alerts.size > 0;
    nextBefore = result.data.next_before_id;
    more.hidden = !nextBefore;
    if (!append) {
      if (source) source.close();
      source = Alerts.follow(result.data.feed_cursor, (p) => upsert(p.alert, p.change), () => load(false), live);
    }
  }

  /* The filters live in the page's address, so a filtered view can be reloaded, bookmarked
     and sent to a colleague. */
  const FILTERS = ["status", "severity", "type", "area_id", "since"];
  const address = new URLSearchParams(location.search);
  for (const name of FILTERS) {
    if (address.has(name)) filters.elements[name].value = address.get(name);
  }
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(filters);
    const params = new URLSearchParams();
    for (const name of FILTERS) {
      const value = form.get(name);
      if (value && !(name === "status" && value === "open")) params.set(name, value);
    }
    if (form.get("status") === "") params.set("status", "");  // "all" differs from the default
    history.replaceState(null, "", location.pathname + (params.size ? "?" + params : ""));
    load(false);
  });
  more.addEventListener("click", () => load(true));

  /* ---- attention: an unacknowledged critical alert repeats its sound and flashes the title
     until someone acknowledges it. The sound setting is kept per user in this browser; the
     browser lets it play once the page has had a click or a key. ---- */
  const soundKey = "shouwang.sound." + config.userId;
  const soundButton = document.getElementById("sound");
  const pageTitle = document.title;
  let audio = null;
  let soundOn = localStorage.getItem(soundKey) !== "off";
  let alarmTimer = null;
  let titleTimer = null;

  function showSound() {
    soundButton.textContent = t(soundOn ? "sound.on" : "sound.off");
    soundButton.setAttribute("aria-pressed", String(soundOn));
  }
  function wake() {
    if (!audio) audio = new AudioContext();
    if (audio.state === "suspended") audio.resume();
  }
  soundButton.addEventListener("click", () => {
    soundOn = !soundOn;
    localStorage.setItem(soundKey, soundOn ? "on" : "off");
    showSound();
    if (soundOn) wake();
  });
  document.addEventListener("pointerdown", wake, { once: true });
  document.addEventListener("keydown", wake, { once: true });
  showSound();

  function beep() {
    document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
    if (!soundOn || !audio) return;
    for (let i = 0; i < 3; i++) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = i % 2 ? 660 : 880;
      gain.gain.value = 0.2;
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(audio.currentTime + i * 0.35);
      oscillator.stop(audio.currentTime + i * 0.35 + 0.25);
    }
  }

  function attention() {
    const waiting = [...alerts.values()].filter((a) => a.severity === "critical" && a.status === "new");
    document.body.classList.toggle("alarm", waiting.length > 0);
    if (waiting.length && !alarmTimer) {
      beep();
      alarmTimer = setInterval(beep, config.alarmRepeatMs);
      let lit = false;
      titleTimer = setInterval(() => {
        lit = !lit;
        const count = [...alerts.values()].filter((a) => a.severity === "critical" && a.status === "new").length;
        document.title = lit ? t("alarm.title").replace("{n}", count) : pageTitle;
      }, 1000);
    } else if (!waiting.length && alarmTimer) {
      clearInterval(alarmTimer);
      clearInterval(titleTimer);
      alarmTimer = titleTimer = null;
      document.title = pageTitle;
    }
  }

  /* ---- statistics ---- */
  const group = document.getElementById("stats-group");
  async function stats() {
    const days = await api("GET", "/api/stats?group_by=day");
    if (days.ok) {
      Charts.figures(document.getElementById("stats-totals"), days.data.totals);
      Charts.columns(document.getElementById("chart-days"), days.data.groups.map((g) => g.key),
        days.data.groups.map((g) => g.count), t("stats.per_day"));
    }
    const areas = await api("GET", "/api/stats?group_by=" + group.value);
    if (areas.ok) {
      Charts.rates(document.getElementById("chart-areas"), areas.data.groups.map((g) => ({
        label: g.label, rate: g.resolution_rate,
        text: Charts.percent(g.resolution_rate) + " /" + g.count,
      })), t("stats.rate"));
    }
  }
  const csvLink = document.getElementById("stats-csv");
  const csvHref = () => { csvLink.href = "/api/stats/csv?group_by=" + group.value; };
  group.addEventListener("change", () => { csvHref(); stats(); });
  csvHref();
  let statsTimer = null;
  function statsSoon() {  // after live changes, at most every 2 s
    if (!statsTimer) statsTimer = setTimeout(() => { statsTimer = null; stats(); }, 2000);
  }

  /* ---- edge and camera health ---- */
  const SHOWN_EDGES = 12;
  async function health() {
    const result = await api("GET", "/api/system/health");
    if (!result.ok || !result.data.edges.length) return;
    const edges = [...result.data.edges].sort((a, b) => Number(b.alive) - Number(a.alive));
    const rows = edges.slice(0, SHOWN_EDGES).map((edge) => el("div", { class: "edge" },
      el("span", { class: "dot " + (edge.alive ? "up" : "down"), title: t(edge.alive ? "health.online" : "health.offline") }),
      el("strong", { text: `${edge.site_name} · ${t(edge.alive ? "health.online" : "health.offline")}` }),
      edge.fps !== null ? ` ${edge.fps.toFixed(1)} fps` : "",
      el("div", { class: "cameras" }, ...Object.entries(edge.cameras).map(([name, state]) =>
        el("span", { class: "state state-" + state, text: `${edge.camera_names[name] || name}: ${t("camera." + state)}` })))));
    const more = edges.length - SHOWN_EDGES;
    if (more > 0) rows.push(el("div", { class: "edge more", text: `+${more}` }));
    document.getElementById("health").replaceChildren(...rows);
  }

  load(false);
  stats();
  health();
  setInterval(stats, 60000);
  setInterval(health, 30000);
})();
