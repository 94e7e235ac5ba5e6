/* The statistics' figures and small SVG charts (no library), for the dashboard's panel and
   the statistics page. */
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";

  function node(tag, attrs, text) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    return n;
  }

  /* Vertical bars, one per label; `values` are counts. */
  function columns(container, labels, values, title) {
    const width = 320, height = 140, pad = 22;
    const max = Math.max(1, ...values);
    const step = (width - pad) / Math.max(labels.length, 1);
    const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "svg-chart" });
    labels.forEach((label, i) => {
      const h = (values[i] / max) * (height - 2 * pad);
      const x = pad + i * step + step * 0.15;
      const bar = node("rect", { x, y: height - pad - h, width: step * 0.7, height: h, class: "bar" });
      bar.append(node("title", {}, `${label}: ${values[i]}`));
      svg.append(bar);
      if (values[i]) svg.append(node("text", { x: x + step * 0.35, y: height - pad - h - 3, class: "val" }, values[i]));
      if (labels.length <= 10 || i % Math.ceil(labels.length / 10) === 0) {
        svg.append(node("text", { x: x + step * 0.35, y: height - 6, class: "lbl" }, label.slice(5)));
      }
    });
    svg.append(node("line", { x1: pad, x2: width, y1: height - pad, y2: height - pad, class: "axis" }));
    container.replaceChildren(svg);
  }

  /* Horizontal bars of a rate (0..1) with a text per row. */
  function rates(container, rows, title) {
    const width = 320, rowH = 22, labelW = 110;
    const height = Math.max(rowH, rows.length * rowH);
    const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "svg-chart" });
    rows.forEach((row, i) => {
      const y = i * rowH;
      svg.append(node("text", { x: 0, y: y + 15, class: "lbl left" }, row.label));
      svg.append(node("rect", { x: labelW, y: y + 4, width: width - labelW - 60, height: 14, class: "track" }));
      const rate = row.rate === null ? 0 : row.rate;
      svg.append(node("rect", { x: labelW, y: y + 4, width: (width - labelW - 60) * rate, height: 14, class: "bar" }));
      svg.append(node("text", { x: width - 56, y: y + 15, class: "lbl left" }, row.text));
    });
    container.replaceChildren(svg);
  }

  /* A share (0..1) as a whole percentage, "–" when there is nothing to measure. */
  function percent(value) { return value === null ? "–" : Math.round(value * 100) + "%"; }

  /* The headline figures of a statistics group: counts, the 1-3-5 shares, times, the rate. */
  function figures(container, s) {
    const { t, el, duration } = SW;
    const figure = (field, label, value) => el("div", { class: "figure", "data-field": field },
      el("strong", { text: value }), el("span", { text: label }));
    container.replaceChildren(
      figure("count", t("stats.count"), s.count), figure("open", t("stats.open"), s.open),
      figure("ack_within_1m", t("stats.ack_1m"), percent(s.ack_within_1m)),
      figure("on_site_within_3m", t("stats.site_3m"), percent(s.on_site_within_3m)),
      figure("on_site_within_5m", t("stats.site_5m"), percent(s.on_site_within_5m)),
      figure("ack_median_s", t("stats.ack_median"), duration(s.ack_median_s)),
      figure("ack_p90_s", t("stats.ack_p90"), duration(s.ack_p90_s)),
      figure("arrival_median_s", t("stats.arrival_median"), duration(s.arrival_median_s)),
      figure("resolve_median_s", t("stats.resolve_median"), duration(s.resolve_median_s)),
      figure("resolve_p90_s", t("stats.resolve_p90"), duration(s.resolve_p90_s)),
      figure("resolution_rate", t("stats.rate"), percent(s.resolution_rate)));
  }

  return { columns, rates, percent, figures };
})();
