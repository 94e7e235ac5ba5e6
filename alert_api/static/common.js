/* Shared by every page: the page's config, texts, calls to the API with the CSRF token. */
"use strict";

const SW = (() => {
  const config = JSON.parse(document.getElementById("config").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const timeFormat = new Intl.DateTimeFormat(config.lang === "zh" ? "zh-CN" : "en-GB", {
    timeZone: config.tz, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });

  function t(key) { return config.texts[key] || key; }

  async function api(method, url, body) {
    const options = { method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (body instanceof FormData) {
      options.body = body;
    } else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    if (response.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); }
    let data = null;
    const type = response.headers.get("content-type") || "";
    if (type.includes("json")) { data = await response.json(); }
    return { status: response.status, ok: response.ok, data };
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function time(iso) { return iso ? timeFormat.format(new Date(iso)) : ""; }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 90) return Math.round(seconds) + (config.lang === "zh" ? "秒" : " s");
    if (seconds < 5400) return Math.round(seconds / 60) + (config.lang === "zh" ? "分钟" : " min");
    return (seconds / 3600).toFixed(1) + (config.lang === "zh" ? "小时" : " h");
  }

  let toastTimer = null;
  function toast(message, kind) {
    const box = document.getElementById("toast");
    box.textContent = message;
    box.className = "toast " + (kind || "");
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
  }

  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      await api("POST", "/api/auth/logout");
      location.href = "/login";
    });
  }

  return { config, t, api, el, time, duration, toast };
})();
