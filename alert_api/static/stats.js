/* The statistics page: the 1-3-5 figures of a period and a table per grid, village, town or
   day, of one area or all, read from /api/stats; the grouping, the area and the dates live in
   the page's address. */
"use strict";

(() => {
  const { t, api, el, time, duration, toast } = SW;
  const form = document.getElementById("stats-form");
  const csv = document.getElementById("stats-csv");
  const FIELDS = ["group_by", "area_id", "since", "until"];
  const COLUMNS = [
    ["stats.count", (g) => g.count],
    ["stats.urgent", (g) => g.urgent],
    ["stats.ack_1m", (g) => Charts.percent(g.ack_within_1m)],
    ["stats.site_3m", (g) => Charts.percent(g.on_site_within_3m)],
    ["stats.site_5m", (g) => Charts.percent(g.on_site_within_5m)],
    ["stats.ack_median", (g) => duration(g.ack_median_s)],
    ["stats.arrival_median", (g) => duration(g.arrival_median_s)],
    ["stats.resolve_median", (g) => duration(g.resolve_median_s)],
    ["stats.rate", (g) => Charts.percent(g.resolution_rate)],
  ];

  const address = new URLSearchParams(location.search);
  for (const name of FIELDS) {
    if (address.get(name)) form.elements[name].value = address.get(name);
  }

  function nextDay(day) {
    const next = new Date(day + "T00:00:00Z");
    next.setUTCDate(next.getUTCDate() + 1);
    return next.toISOString().slice(0, 10);
  }

  /* The API's query: local midnights, the end date included. */
  function query() {
    const values = new FormData(form);
    const params = new URLSearchParams({ group_by: values.get("group_by") });
    if (values.get("area_id")) params.set("area_id", values.get("area_id"));
    if (values.get("since")) params.set("since", values.get("since") + "T00:00:00");
    if (values.get("until")) params.set("until", nextDay(values.get("until")) + "T00:00:00");
    return params;
  }

  function row(cell, label, g) {
    return el("tr", {}, el(cell, { text: label }), ...COLUMNS.map(([, value]) => el("td", { text: value(g) })));
  }

  async function show() {
    const params = query();
    csv.href = "/api/stats/csv?" + params;
    const result = await api("GET", "/api/stats?" + params);
    if (!result.ok) {
      const detail = result.data && typeof result.data.detail === "string" ? ": " + result.data.detail : "";
      toast(result.status === 422 ? t("stats.invalid") : t("alert.error") + detail, "error");
      return;
    }
    const stats = result.data;
    document.getElementById("stats-period").textContent = `${time(stats.since)} – ${time(stats.until)}`;
    Charts.figures(document.getElementById("stats-totals"), stats.totals);
    const table = document.getElementById("stats-table");
    table.tHead.replaceChildren(el("tr", {}, el("th", { text: t("stats." + stats.group_by) }),
      ...COLUMNS.map(([key]) => el("th", { text: t(key) }))));
    table.tBodies[0].replaceChildren(...stats.groups.map((g) => row("td", g.label, g)));
    table.tFoot.replaceChildren(row("th", t("stats.total"), stats.totals));
    table.dataset.groupBy = stats.group_by;
  }

  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("change", () => {
    const values = new FormData(form);
    const params = new URLSearchParams();
    for (const name of FIELDS) if (values.get(name)) params.set(name, values.get(name));
    history.replaceState(null, "", location.pathname + "?" + params);
    show();
  });
  show();
})();
