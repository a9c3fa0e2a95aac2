/* leotwin dashboard: MapLibre GL JS over the control-plane API (/v1), no network needed.
 * The bearer token comes from the URL fragment (#token=…, never sent to the server in a
 * URL) or from the form, and is kept in sessionStorage for this tab only. */
"use strict";

const STATUS_COLOURS = ["match", ["get", "status"],
  "active", "#2e9d52", "inactive", "#9aa3ad", "blacklisted", "#d1352b", "#cccccc"];
const state = { token: null, times: [], index: 0, timer: null, selected: null,
                regions: {}, busy: false, pending: false, whatIf: false, view: "granted" };
window.leotwin = state;   // for the browser test and for curious users

function $(id) { return document.getElementById(id); }

function setStatus(text) { $("status").textContent = text; }

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: "Bearer " + state.token } });
  if (res.status === 401) { askToken("the token was refused"); throw new Error("401"); }
  if (!res.ok) { throw new Error(path + ": HTTP " + res.status); }
  return res.json();
}

function askToken(why) {
  sessionStorage.removeItem("leotwin-token");
  $("token-form").hidden = false;
  setStatus(why || "a viewer token is needed (leotwin tokens create --role viewer)");
}

function fc(features) { return { type: "FeatureCollection", features: features }; }

function point(lon, lat, props) {
  return { type: "Feature", properties: props,
           geometry: { type: "Point", coordinates: [lon, lat] } };
}

/* A ground track as a MultiLineString cut where it crosses the antimeridian. */
function track(lats, lons) {
  const parts = [[]];
  for (let k = 0; k < lats.length; k++) {
    const seg = parts[parts.length - 1];
    if (seg.length && Math.abs(lons[k] - seg[seg.length - 1][0]) > 180) { parts.push([]); }
    parts[parts.length - 1].push([lons[k], lats[k]]);
  }
  return { type: "Feature", properties: {},
           geometry: { type: "MultiLineString", coordinates: parts.filter(p => p.length > 1) } };
}

function buildMap() {
  const map = new maplibregl.Map({
    container: "map", attributionControl: false, center: [31, 49], zoom: 4,
    style: { version: 8, sources: {}, layers: [
      { id: "background", type: "background", paint: { "background-color": "#0e2a47" } }] },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  return map;
}

function addLayers(map, countries) {
  const empty = fc([]);
  state.countries = countries;
  map.addSource("countries", { type: "geojson", data: countries, promoteId: "iso_a2" });
  for (const name of ["cells", "satellites", "tracks", "gateways", "links", "terminals"]) {
    map.addSource(name, { type: "geojson", data: empty });
  }
  map.addLayer({ id: "countries", type: "fill", source: "countries", paint: {
    "fill-color": ["case", ["has", "status"], STATUS_COLOURS, "#e8e4d8"],
    "fill-opacity": ["case", ["has", "status"], 0.35, 1] } });
  map.addLayer({ id: "country-lines", type: "line", source: "countries",
                 paint: { "line-color": "#7d7a70", "line-width": 0.5 } });
  map.addLayer({ id: "cells", type: "fill", source: "cells",
                 paint: { "fill-color": STATUS_COLOURS, "fill-opacity": 0.55,
                          "fill-outline-color": "#ffffff" } });
  map.addLayer({ id: "coverage", type: "fill", source: "cells", layout: { visibility: "none" },
                 paint: { "fill-color": ["interpolate", ["linear"], ["get", "visible"],
                                         0, "#3b0f70", 5, "#de4968", 15, "#fcfdbf"],
                          "fill-opacity": 0.7 } });
  map.addLayer({ id: "tracks", type: "line", source: "tracks",
                 paint: { "line-color": "#8fb8de", "line-width": 0.6, "line-opacity": 0.5 } });
  map.addLayer({ id: "links", type: "line", source: "links", layout: { visibility: "none" },
                 paint: { "line-color": "#f0a202", "line-width": 0.7, "line-opacity": 0.6 } });
  map.addLayer({ id: "satellites", type: "circle", source: "satellites",
                 paint: { "circle-radius": 1.8, "circle-color": "#ffffff" } });
  map.addLayer({ id: "gateways", type: "circle", source: "gateways",
                 paint: { "circle-radius": 3, "circle-color": "#f0a202",
                          "circle-stroke-color": "#000", "circle-stroke-width": 0.5 } });
  map.addLayer({ id: "terminals", type: "circle", source: "terminals",
                 paint: { "circle-radius": 7, "circle-stroke-color": "#ffffff",
                          "circle-stroke-width": 2,
                          "circle-color": ["case", ["get", "allowed"], "#2e9d52", "#d1352b"] } });
  map.on("click", "terminals", e => selectTerminal(e.features[0].properties.terminal_id));
  map.on("mouseenter", "terminals", () => { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", "terminals", () => { map.getCanvas().style.cursor = ""; });
  for (const box of document.querySelectorAll("#layers input")) {
    box.addEventListener("change", () => map.setLayoutProperty(
      box.dataset.layer, "visibility", box.checked ? "visible" : "none"));
  }
}

async function render() {
  if (state.busy) { state.pending = true; return; }
  state.busy = true;
  const map = state.map;
  const t = state.times[state.index];
  $("time-label").value = t;
  try {
    const q = "time=" + encodeURIComponent(t) + (state.whatIf ? "&what_if=true" : "");
    const [cells, sats, gws, terms] = await Promise.all([
      api("/v1/cells?boundaries=true&" + q), api("/v1/satellites?track_min=10&" + q),
      api("/v1/gateways?" + q), api("/v1/terminals-decisions?" + q)]);
    const cellFeatures = cells.h3_cell.map((id, k) => ({ type: "Feature",
      properties: { h3: id, region: cells.region[k], status: cells.status[k],
                    visible: cells.visible[k] },
      geometry: { type: "Polygon", coordinates: [cells.boundary[k].concat(
        [cells.boundary[k][0]])] } }));
    map.getSource("cells").setData(fc(cellFeatures));
    colourCountries(map, cells);
    map.getSource("satellites").setData(fc(sats.sat_id.map((id, k) =>
      point(sats.lon_deg[k], sats.lat_deg[k], { sat_id: id, alt_km: sats.alt_km[k] }))));
    map.getSource("tracks").setData(fc(sats.track_lat_deg.map((lats, k) =>
      track(lats, sats.track_lon_deg[k]))));
    map.getSource("gateways").setData(fc(gws.gateway_id.map((id, k) =>
      point(gws.lon_deg[k], gws.lat_deg[k], { gateway_id: id }))));
    map.getSource("links").setData(fc(gws.links.filter(l =>
      Math.abs(gws.lon_deg[l[0]] - l[3]) < 180).map(l => ({ type: "Feature",
      properties: { gateway: gws.gateway_id[l[0]], sat_id: l[1], elevation_deg: l[4] },
      geometry: { type: "LineString",
                  coordinates: [[gws.lon_deg[l[0]], gws.lat_deg[l[0]]], [l[3], l[2]]] } }))));
    state.terminals = Object.fromEntries(terms.map(x => [x.terminal_id, x]));
    map.getSource("terminals").setData(fc(terms.map(x =>
      point(x.lon_deg, x.lat_deg, { terminal_id: x.terminal_id, allowed: x.allowed }))));
    markLog(t);
    if (state.selected) { showTerminal(state.selected); }
    setStatus(cells.h3_cell.length + " cells, " + sats.sat_id.length + " satellites, " +
              terms.length + " terminals");
    document.body.dataset.renderedTime = t;
  } catch (err) {
    if (err.message !== "401") { setStatus(String(err.message || err)); }
  } finally {
    state.busy = false;
    if (state.pending) { state.pending = false; render(); }
  }
}

/* A country in the scenario takes the most common status of its cells. */
function colourCountries(map, cells) {
  const counts = {};
  cells.region.forEach((r, k) => {
    counts[r] = counts[r] || {};
    counts[r][cells.status[k]] = (counts[r][cells.status[k]] || 0) + 1;
  });
  for (const f of state.countries.features) {
    const c = counts[f.properties.iso_a2];
    if (c) { f.properties.status = Object.keys(c).sort((a, b) => c[b] - c[a])[0]; }
  }
  map.getSource("countries").setData(state.countries);
}

function showTerminal(id) {
  const x = state.terminals && state.terminals[id];
  const box = $("terminal-info");
  if (!x) { box.textContent = id + ": not in the scenario at this time"; return; }
  box.replaceChildren();
  const head = document.createElement("div");
  head.innerHTML = "<b></b> <span class=\"decision\"></span>";
  head.querySelector("b").textContent = x.terminal_id;
  head.querySelector(".decision").textContent = x.allowed ? "allowed" : "denied";
  box.append(head);
  const who = document.createElement("div");
  who.textContent = "user: " + x.actual_user + ", speed " + x.speed_kmh + " km/h";
  box.append(who);
  const reasons = document.createElement("div");
  reasons.className = "reasons";
  for (const r of x.reasons) {
    const s = document.createElement("span");
    s.className = "reason"; s.textContent = r; reasons.append(s);
  }
  if (!x.reasons.length) { reasons.textContent = "no reason to deny"; }
  box.append(reasons);
}

async function selectTerminal(id) {
  state.selected = id;
  showTerminal(id);
  const start = state.times[state.index];
  const rtt = await api("/v1/rtt?terminal_id=" + encodeURIComponent(id) + "&start=" +
                        encodeURIComponent(start) + "&duration=30m&step=15s");
  drawRtt(rtt);
}

function drawRtt(rtt) {
  const svg = $("rtt-chart");
  const ok = rtt.rtt_ms.map((v, k) => [k, v]).filter(p => p[1] !== null);
  svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  const text = (x, y, s) => { const e = document.createElementNS(ns, "text");
    e.setAttribute("x", x); e.setAttribute("y", y); e.setAttribute("font-size", "10");
    e.textContent = s; svg.append(e); };
  text(4, 12, "RTT to PoP " + rtt.pop + ", " + rtt.terminal_id + " (30 min, 15 s)");
  if (!ok.length) { text(4, 70, "no path in this window"); return; }
  const lo = Math.min(...ok.map(p => p[1])), hi = Math.max(...ok.map(p => p[1]));
  const x = k => 30 + 285 * k / Math.max(1, rtt.rtt_ms.length - 1);
  const y = v => 130 - 100 * (v - lo) / Math.max(1e-9, hi - lo);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", ok.map(p => x(p[0]) + "," + y(p[1])).join(" "));
  line.setAttribute("fill", "none"); line.setAttribute("stroke", "#1f6fb2");
  svg.append(line);
  text(2, 32, hi.toFixed(1)); text(2, 130, lo.toFixed(1));
  svg.dataset.points = String(ok.length);
}

async function loadLog() {
  // as granted: from max(effective_at, decided_at); as requested: from the effective_at asked
  const log = await api("/v1/policy/log" + (state.whatIf ? "?what_if=true" : ""));
  const when = e => state.view === "requested" ? e.requested_effective_at : e.effective_at;
  log.sort((a, b) => when(a).localeCompare(when(b)));
  const list = $("policy-log");
  list.replaceChildren();
  for (const e of log) {
    const li = document.createElement("li");
    li.className = e.decision + (e.entry_kind === "correction" ? " correction" : "");
    li.dataset.effective = when(e);
    li.innerHTML = "<span class=\"when\"></span> <b></b>: <span class=\"what\"></span>";
    li.querySelector(".when").textContent = when(e).slice(0, 16).replace("T", " ");
    li.querySelector("b").textContent = e.change + (e.entry_kind === "correction"
      ? " (correction)" : "");
    const late = e.effective_at !== e.requested_effective_at;
    li.querySelector(".what").textContent = e.reason + " (asked by " + e.requested_by +
      ", decided by " + e.decided_by + (late ? "; asked for " +
      e.requested_effective_at.slice(0, 16).replace("T", " ") + ", in force from " +
      e.effective_at.slice(0, 16).replace("T", " ") : "") + ")";
    list.append(li);
  }
}

function markLog(t) {
  for (const li of document.querySelectorAll("#policy-log li")) {
    li.classList.toggle("future", li.dataset.effective > t);
  }
}

async function start() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) { sessionStorage.setItem("leotwin-token", fromHash); history.replaceState(
    null, "", location.pathname); }
  state.token = sessionStorage.getItem("leotwin-token");
  if (!state.token) { askToken(); return; }
  $("token-form").hidden = true;
  const info = await api("/v1/scenario");
  $("scenario-name").textContent = info.name + " — " + info.start + " to " + info.end;
  const t0 = Date.parse(info.start), t1 = Date.parse(info.end);
  const step = Math.max(60, info.step_s || 60) * 1000;
  for (let t = t0; t <= t1; t += step) {
    state.times.push(new Date(t).toISOString().replace(".000Z", "Z"));
  }
  const slider = $("time-slider");
  slider.max = String(state.times.length - 1);
  slider.addEventListener("input", () => { state.index = Number(slider.value); render(); });
  $("play").addEventListener("click", togglePlay);
  $("what-if").addEventListener("change", async ev => {
    state.whatIf = ev.target.checked; await loadLog(); render(); });
  $("log-view").addEventListener("change", async ev => {
    state.view = ev.target.value; await loadLog(); render(); });
  const countries = await fetch("/vendor/countries.geojson").then(r => r.json());
  state.map = buildMap();
  state.map.on("load", async () => {
    addLayers(state.map, countries);
    await loadLog();
    await render();
    document.body.dataset.ready = "true";
  });
}

function togglePlay() {
  if (state.timer) { clearInterval(state.timer); state.timer = null; $("play").textContent = "▶";
                     return; }
  $("play").textContent = "⏸";
  state.timer = setInterval(() => {
    if (state.busy) { return; }
    state.index = (state.index + 1) % state.times.length;
    $("time-slider").value = String(state.index);
    render();
  }, 1000);
}

$("token-form").addEventListener("submit", ev => {
  ev.preventDefault();
  sessionStorage.setItem("leotwin-token", $("token-input").value.trim());
  start();
});
start();
