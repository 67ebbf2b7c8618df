// trialog browse: overview, run page and compare page. Text from runs is only ever set with textContent.
"use strict";

const state = { page: document.body.dataset.page, rows: [], total: 0, charts: {}, live: { polls: 0, appended: 0, resets: 0 }, damaged: [], ready: false };
window.trialog = state;

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#c026d3", "#65a30d", "#475569", "#db2777"];
const token = document.querySelector('meta[name="trialog-token"]').content;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  const data = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw Object.assign(new Error(data.error || r.statusText), { status: r.status, data });
  return data;
}

// A damaged run answers 422 with what could still be read: use it, and name the damage.
async function getReadable(url) {
  try { return await getJSON(url); } catch (e) {
    if (e.status === 422 && e.data) { showDamage(e.data.damaged || [{ file: e.data.file, error: e.data.error }]); return e.data; }
    throw e;
  }
}

function showDamage(list) {
  const box = document.getElementById("damage");
  for (const d of list) {
    if (state.damaged.some((x) => x.file === d.file && x.error === d.error)) continue;
    state.damaged.push(d);
    if (box) { box.append(el("li", {}, el("b", { class: "mono", text: d.file }), el("span", { text: ` ${d.error}` }))); box.hidden = false; }
  }
}

async function post(url, body) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Trialog-Token": token },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}

function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toPrecision(4).replace(/\.?0+$/, "");
  }
  if (typeof v === "boolean") return v ? "true" : "false";
  return String(v);
}

// Tick labels with the digits that tell neighbouring ticks apart (0.0021 and 0.0022, not 0.002 twice).
function tickDecimals(step) {
  for (let d = 0; d <= 12; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 12;
}

function tickLabels(splits) {
  const finite = splits.filter((v) => v !== null && Number.isFinite(v));
  let step = Infinity;
  for (let i = 1; i < finite.length; i++) { const d = Math.abs(finite[i] - finite[i - 1]); if (d > 0) step = Math.min(step, d); }
  const mag = Math.max(0, ...finite.map(Math.abs));
  const decimals = Number.isFinite(step) ? tickDecimals(step) : 0;
  if (mag >= 1e6 || (mag > 0 && mag < 1e-3)) {
    const exp = Math.floor(Math.log10(mag));
    const digits = Math.min(10, Math.max(0, decimals + exp));
    return splits.map((v) => (v === null ? "" : v === 0 ? "0" : v.toExponential(digits)));
  }
  return splits.map((v) => (v === null ? "" : v.toFixed(decimals)));
}

// An axis whose values are all whole numbers (epochs, steps) gets whole-number ticks only: no 0.2 steps.
const INTEGER_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2.5e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 1e8, 1e9];

function fmtDuration(s) {
  if (s === null || s === undefined) return "–";
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (h) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

function fmtTime(t) {
  if (!t) return "–";
  const d = new Date(t);
  if (isNaN(d)) return t;
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function badge(status) {
  return el("span", { class: `badge s-${status}`, text: status });
}

// ------------------------------------------------------------------------------------------ charts

function damaged(row) {
  // A damaged results log is said on the row: which file, which line (the title has the whole message).
  const found = Object.entries(row.problems || {});
  if (!found.length) return null;
  return el("span", { class: "badge s-error damaged", title: found.map(([f, p]) => `${f}: ${p}`).join("\n"), text: "damaged" });
}

function chartWidth(container) {
  return Math.max(320, Math.min(container.clientWidth || 600, 600) - 8);
}

function makeChart(container, key, title, seriesList, data, opts = {}) {
  const box = el("div", { class: "chart", "data-key": key });
  box.append(el("div", { class: "chart-title", text: title }));
  container.append(box);
  const series = [{ label: opts.xLabel || "step" }];
  seriesList.forEach((s, i) => series.push({
    label: s.label, stroke: s.stroke || COLORS[i % COLORS.length], width: s.width || 1.5,
    fill: s.fill, points: { show: false }, spanGaps: true,
  }));
  const integerX = data[0].every((x) => x === null || Number.isInteger(x));
  const xAxis = { stroke: "#64748b", grid: { stroke: "#eef2f7" }, values: (u, splits) => tickLabels(splits), label: opts.xLabel || "step", labelSize: 18, labelFont: "12px system-ui" };
  if (integerX) xAxis.incrs = INTEGER_INCRS;
  const u = new uPlot({
    width: chartWidth(container), height: 240, series, bands: opts.bands,
    scales: { x: { time: false } },
    axes: [xAxis, { stroke: "#64748b", grid: { stroke: "#eef2f7" }, size: 64, values: (u, splits) => tickLabels(splits) }],
    legend: { show: !opts.hideLegend && (seriesList.length > 1 || !!opts.legend) },
    cursor: { drag: { x: true, y: false } },
    hooks: opts.hooks || {},
  }, data, box);
  state.charts[key] = { chart: u, points: data[0].length, lines: seriesList.length };
  return u;
}

function countPoints(key) {
  const c = state.charts[key];
  if (c) c.points = c.chart.data[0].length;
}

// ---------------------------------------------------------------------------------------- overview

async function overview() {
  const filter = document.getElementById("filter"), search = document.getElementById("search");
  const showAll = document.getElementById("show-all"), err = document.getElementById("filter-error");
  const params = new URLSearchParams(location.search);
  filter.value = params.get("q") || "";
  let page = 0, sort = "start", desc = true, timer = null, selected = new Set();
  const per = 50;

  function header(data) {
    const tr = el("tr");
    tr.append(el("th", { class: "sel" }, ""));
    const cols = [["name", "name"], ["status", "status"], ["start", "start"], ["duration", "duration"], ["epoch", "epoch"], [null, "commit"]];
    const fixed = new Set(cols.map((c) => c[1]));
    data.config_columns.forEach((c) => cols.push([`config.${c}`, fixed.has(c) ? `config.${c}` : c]));
    data.result_columns.forEach((c) => cols.push([`result.${c.name}`, `${c.name} (${c.mode})`]));
    for (const [key, label] of cols) {
      const th = el("th", { class: (key ? "sortable" : "") + (key === "name" ? " name" : ""), text: label + (key === sort ? (desc ? " ↓" : " ↑") : "") });
      if (key) th.addEventListener("click", () => { if (sort === key) desc = !desc; else { sort = key; desc = key !== "name"; } load(); });
      tr.append(th);
    }
    const thead = document.querySelector("#runs thead");
    thead.replaceChildren(tr);
  }

  function render(data) {
    header(data);
    const tbody = document.querySelector("#runs tbody");
    tbody.replaceChildren();
    for (const r of data.rows) {
      const box = el("input", { type: "checkbox", class: "select", "data-id": r.id, checked: selected.has(r.id) });
      box.addEventListener("change", () => { box.checked ? selected.add(r.id) : selected.delete(r.id); updateCompare(); });
      const name = el("td", { class: "name" },
        r.starred ? el("span", { class: "starred", text: "★ " }) : null,
        el("a", { href: `/run/${r.id}`, text: r.name }),
        r.damaged && r.damaged.length ? el("span", { class: "badge s-error damaged", title: r.damaged.map((d) => `${d.file}: ${d.error}`).join("\n"), text: "damaged" }) : null,
        ...r.tags.map((t) => el("span", { class: "tag", text: t })));
      if (r.purpose) name.append(el("div", { class: "purpose", text: r.purpose }));
      const tr = el("tr", { "data-id": r.id, class: r.removed ? "removed" : "" },
        el("td", { class: "sel" }, box), name, el("td", {}, badge(r.status), damaged(r)), el("td", { text: fmtTime(r.start) }),
        el("td", { text: fmtDuration(r.duration) }), el("td", { class: "num", text: fmt(r.epoch) }),
        el("td", { class: "mono", text: r.commit ? r.commit.slice(0, 7) : "–" }));
      data.config_columns.forEach((c) => tr.append(el("td", { class: "num", text: fmt(r.config[c]) })));
      data.result_columns.forEach((c) => {
        const v = r.results[c.name];
        tr.append(el("td", { class: "num", title: v ? `last ${fmt(v.last)}` : "" }, v ? fmt(v.best) : "–",
          v ? el("span", { class: "last", text: ` ${fmt(v.last)}` }) : null));
      });
      tbody.append(tr);
    }
    const pages = Math.max(1, Math.ceil(data.total / per));
    document.getElementById("page-info").textContent = `${data.total} runs · page ${page + 1} of ${pages}`;
    document.getElementById("prev").disabled = page === 0;
    document.getElementById("next").disabled = page + 1 >= pages;
    state.rows = data.rows; state.total = data.total; state.ready = true;
    clearTimeout(timer);
    // Always polled: a run that starts (or ends) while this page is open appears without a reload.
    timer = setTimeout(load, data.rows.some((r) => r.status === "running") ? 1500 : 4000);
  }

  function updateCompare() {
    const b = document.getElementById("compare");
    b.disabled = selected.size < 1;
    b.textContent = selected.size ? `Compare selected (${selected.size})` : "Compare selected";
  }

  async function load() {
    const q = new URLSearchParams({ q: filter.value, search: search.value, sort, desc: desc ? "1" : "0", page, per, all: showAll.checked ? "1" : "0" });
    try {
      const data = await getJSON(`/api/runs?${q}`);
      err.hidden = true;
      render(data);
    } catch (e) {
      // A failed filter shows no rows: the rows of the previous filter under its error would read as its answer.
      document.querySelector("#runs tbody").replaceChildren();
      document.getElementById("page-info").textContent = "no runs: the filter has an error";
      state.rows = []; state.total = 0;
      err.textContent = e.message; err.hidden = false; state.ready = true; state.error = e.message;
    }
  }

  let debounce = null;
  const later = () => { clearTimeout(debounce); page = 0; debounce = setTimeout(load, 250); };
  filter.addEventListener("input", later);
  search.addEventListener("input", later);
  filter.addEventListener("keydown", (e) => { if (e.key === "Enter") { clearTimeout(debounce); page = 0; load(); } });
  showAll.addEventListener("change", () => { page = 0; load(); });
  document.getElementById("prev").addEventListener("click", () => { page = Math.max(0, page - 1); load(); });
  document.getElementById("next").addEventListener("click", () => { page += 1; load(); });
  document.getElementById("compare").addEventListener("click", () => { location.href = `/compare?ids=${[...selected].join(",")}`; });
  state.reload = load;
  await load();
}

// ---------------------------------------------------------------------------------------- run page

function groupByTag(series) {
  const groups = new Map();
  for (const s of series) {
    const tag = s.tag || "(untagged)";
    if (!groups.has(tag)) groups.set(tag, []);
    groups.get(tag).push(s);
  }
  return groups;
}

function kvRows(table, obj, diff) {
  table.replaceChildren();
  const flat = {};
  (function walk(o, p) {
    for (const [k, v] of Object.entries(o || {})) {
      const key = p ? `${p}.${k}` : k;
      if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length) walk(v, key); else flat[key] = v;
    }
  })(obj, "");
  for (const [k, v] of Object.entries(flat)) {
    const d = diff && diff.keys[k];
    const tr = el("tr", { class: d ? "differs" : "" }, el("th", { text: k }),
      el("td", { class: "mono", text: typeof v === "object" ? JSON.stringify(v) : fmt(v) }));
    if (diff) tr.append(el("td", { class: "mono other", text: d ? fmt(d[1]) : "" }));
    table.append(tr);
  }
  if (diff) for (const [k, vals] of Object.entries(diff.keys)) {
    if (!(k in flat)) table.append(el("tr", { class: "differs" }, el("th", { text: k }), el("td", { class: "mono", text: "(absent)" }), el("td", { class: "mono other", text: fmt(vals[1]) })));
  }
}

async function runPage() {
  const rid = document.body.dataset.rid;
  let info = await getReadable(`/api/run/${rid}`);
  const regError = document.getElementById("reg-error");

  function showRegistry(reg, row) {
    const star = document.getElementById("star");
    star.textContent = reg && reg.starred ? "★" : "☆";
    star.classList.toggle("on", !!(reg && reg.starred));
    document.getElementById("purpose").textContent = (reg && reg.purpose) || "—";
    const tags = document.getElementById("tags");
    tags.replaceChildren(...((reg && reg.tags) || []).map((t) => el("span", { class: "tag", text: t })));
    const notes = document.getElementById("notes");
    notes.replaceChildren(...((reg && reg.notes) || []).map((n) => el("li", {}, el("time", { text: fmtTime(n.time) }), el("span", { text: n.text }))));
    document.getElementById("remove").textContent = reg && reg.removed ? "Restore" : "Remove";
    if (row) document.getElementById("run-name").textContent = reg && reg.display_name ? reg.display_name : row.name;
    state.registry = reg;
  }

  async function change(body) {
    try {
      const data = await post(`/api/run/${rid}/registry`, body);
      regError.hidden = true;
      info.registry = data.registry;
      showRegistry(data.registry, info.row);
      state.changes = (state.changes || 0) + 1;
    } catch (e) { regError.textContent = e.message; regError.hidden = false; state.regError = e.message; }
  }

  const row = info.row, meta = info.meta;
  document.getElementById("run-status").replaceWith(Object.assign(badge(row.status), { id: "run-status" }));
  const hurt = damaged(row);
  if (hurt) document.getElementById("run-status").after(" ", hurt);
  const head = { epoch: row.epoch, duration: row.duration, points: 0 };
  function showHead() {
    document.getElementById("run-sub").textContent = `${row.folder} · started ${fmtTime(row.start)} · ${fmtDuration(head.duration)} · epoch ${fmt(head.epoch)} · ${head.points} points`;
    state.head = { ...head };
  }
  showHead();
  showRegistry(info.registry, row);
  const editable = !!info.registry;
  for (const id of ["star", "rename", "remove", "edit-purpose"]) document.getElementById(id).disabled = !editable;
  document.getElementById("star").addEventListener("click", () => change({ action: "star", value: !(info.registry && info.registry.starred) }));
  document.getElementById("rename").addEventListener("click", () => { const n = prompt("Display name (the folder stays where it is):", document.getElementById("run-name").textContent); if (n !== null) change({ action: "rename", name: n }); });
  document.getElementById("remove").addEventListener("click", () => change({ action: info.registry && info.registry.removed ? "restore" : "remove" }));
  document.getElementById("edit-purpose").addEventListener("click", () => { const p = prompt("Purpose:", (info.registry && info.registry.purpose) || ""); if (p !== null) change({ action: "purpose", purpose: p }); });
  document.getElementById("note-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = document.getElementById("note-input");
    if (input.value.trim()) { change({ action: "note", text: input.value }); input.value = ""; }
  });
  document.getElementById("tag-input").addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    const words = e.target.value.split(/\s+/).filter(Boolean);
    change({ action: "tag", add: words.filter((w) => !w.startsWith("-")).map((w) => w.replace(/^\+/, "")), remove: words.filter((w) => w.startsWith("-")).map((w) => w.slice(1)) });
    e.target.value = "";
  });

  const metaTable = document.getElementById("meta");
  const keys = ["name", "status", "start", "end", "host", "user", "pid", "python", "seed", "epoch", "n_epochs", "resumed_from", "error"];
  for (const k of keys) if (meta[k] !== undefined && meta[k] !== null) metaTable.append(el("tr", {}, el("th", { text: k }), el("td", { class: "mono", text: fmt(meta[k]) })));
  if (meta.git && meta.git.commit) metaTable.append(el("tr", {}, el("th", { text: "git" }), el("td", { class: "mono", text: `${meta.git.commit.slice(0, 12)} ${meta.git.branch || ""}${meta.git.dirty ? " (dirty)" : ""}` })));
  if (meta.argv) metaTable.append(el("tr", {}, el("th", { text: "argv" }), el("td", { class: "mono", text: meta.argv.join(" ") })));
  if (info.machine) metaTable.append(el("tr", {}, el("th", { text: "machine" }), el("td", { class: "mono", text: info.machine })));

  kvRows(document.getElementById("config"), info.config, null);
  const diffWith = document.getElementById("diff-with");
  for (const o of info.others) diffWith.append(el("option", { value: o.id, text: o.name }));
  diffWith.addEventListener("change", async () => {
    const d = diffWith.value ? (await getJSON(`/api/run/${rid}?diff=${diffWith.value}`)).diff : null;
    kvRows(document.getElementById("config"), info.config, d);
  });

  const ck = document.getElementById("checkpoints");
  if (info.checkpoints.length) {
    ck.append(el("tr", {}, ...["step", "epoch", "metric", "file", "size"].map((h) => el("th", { text: h }))));
    for (const c of info.checkpoints) ck.append(el("tr", {}, ...[c.step, c.epoch, c.metric, c.file, c.size].map((v) => el("td", { class: "mono", text: fmt(v) }))));
  } else ck.append(el("tr", {}, el("td", { class: "muted", text: "no checkpoints" })));
  const src = document.getElementById("sources");
  if (info.sources.length) for (const s of info.sources) src.append(el("li", {}, el("span", { class: "mono", text: s.name }), el("span", { class: "muted", text: ` ${fmt(s.size)} B` })));
  else src.append(el("li", { class: "muted", text: info.sources_zip ? "save/sources.zip is empty (no files were archived)" : "no save/sources.zip" }));
  const saved = document.getElementById("saved");
  const artifacts = info.files.save.filter((f) => f.name !== "sources.zip");
  if (!artifacts.length) saved.append(el("li", { class: "muted", text: "nothing else in save/" }));
  for (const f of artifacts) {
    const url = `/api/run/${rid}/file/save/${f.name.split("/").map(encodeURIComponent).join("/")}`;
    saved.append(el("li", {}, el("a", { class: "mono", href: url, download: f.name.split("/").pop() , text: f.name }), el("span", { class: "muted", text: ` ${fmt(f.size)} B` })));
  }

  for (const [kind, target] of [["img", "images"], ["plot", "plots"]]) {
    const g = document.getElementById(target);
    if (!info.files[kind].length) g.append(el("p", { class: "muted", text: `nothing in ${kind}/` }));
    for (const f of info.files[kind]) {
      const url = `/api/run/${rid}/file/${kind}/${f.name.split("/").map(encodeURIComponent).join("/")}`;
      g.append(el("figure", {}, el("a", { href: url, target: "_blank", rel: "noopener" }, el("img", { src: url, alt: f.name, loading: "lazy" })), el("figcaption", { text: f.name })));
    }
  }
  const logs = document.getElementById("logs");
  if (!info.files.log.length) logs.append(el("p", { class: "muted", text: "nothing in log/" }));
  for (const f of info.files.log.filter((f) => !f.text)) logs.append(el("p", { class: "mono" }, f.name, el("span", { class: "muted", text: ` ${fmt(f.size)} B (not a text file)` })));
  for (const f of info.files.log.filter((f) => f.text)) {
    const pre = el("pre", { class: "log" });
    const det = el("details", {}, el("summary", { text: `${f.name} (${fmt(f.size)} B)` }), pre);
    det.addEventListener("toggle", async () => {
      if (det.open && !pre.dataset.loaded) {
        const r = await fetch(`/api/run/${rid}/file/log/${f.name.split("/").map(encodeURIComponent).join("/")}`);
        pre.textContent = await r.text(); // text, never HTML
        pre.dataset.loaded = "1";
      }
    });
    logs.append(det);
  }

  // curves
  const data = await getReadable(`/api/run/${rid}/series`);
  const curves = document.getElementById("curves");
  if (!data.series.length) curves.append(el("p", { class: "muted", text: "no numeric results yet" }));
  const lines = {};
  // final (last) and best value per series, kept up to date by the live tail
  const finals = document.getElementById("finals");
  const best = {};
  for (const [key, r] of Object.entries(row.results || {})) best[key] = { last: r.last, best: r.best, mode: r.mode };
  function showFinals() {
    finals.replaceChildren(el("tr", {}, ...[["series", ""], ["final (last)", "num"], ["best", "num"], ["", ""]].map(([h, c]) => el("th", { class: c, text: h }))));
    const keys = Object.keys(best).sort();
    for (const key of keys) {
      const b = best[key];
      finals.append(el("tr", { "data-key": key }, el("td", { class: "mono", text: key }), el("td", { class: "num last-value", text: fmt(b.last) }), el("td", { class: "num best-value", text: fmt(b.best) }), el("td", { class: "muted", text: b.mode || "" })));
    }
    if (!keys.length) finals.append(el("tr", {}, el("td", { class: "muted", text: "no results yet" })));
    state.finals = JSON.parse(JSON.stringify(best));
  }
  function record(key, y) {
    const b = best[key] || (best[key] = { last: null, best: null, mode: null });
    b.last = y;
    const mode = b.mode || "min";
    if (b.best === null || b.best === undefined || (mode === "max" ? y > b.best : y < b.best)) b.best = y;
  }
  showFinals();
  for (const [tag, list] of groupByTag(data.series)) {
    const section = el("div", { class: "tag-group" }, el("h3", { text: tag }));
    const grid = el("div", { class: "charts" });
    section.append(grid);
    curves.append(section);
    for (const s of list) {
      lines[s.key] = { x: s.x.slice(), y: s.y.slice(), total: s.total };
      head.points += s.total;
      let zooming = false;
      const u = makeChart(grid, s.key, `${s.name}  ·  ${s.total} points`, [{ label: s.name, stroke: COLORS[Object.keys(lines).length % COLORS.length] }], [s.x, s.y], {
        hooks: {
          setSelect: [async (u) => {
            if (u.select.width < 2) return;
            const lo = u.posToVal(u.select.left, "x"), hi = u.posToVal(u.select.left + u.select.width, "x");
            zooming = true;
            const z = await getJSON(`/api/run/${rid}/series?name=${encodeURIComponent(s.key)}&lo=${lo}&hi=${hi}`);
            if (z.series.length) { u.setData([z.series[0].x, z.series[0].y], false); u.setScale("x", { min: lo, max: hi }); countPoints(s.key); state.charts[s.key].zoomed = true; }
            u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
          }],
        },
      });
      u.root.addEventListener("dblclick", () => { const l = lines[s.key]; u.setData([l.x, l.y]); countPoints(s.key); state.charts[s.key].zoomed = false; });
    }
  }
  showHead();
  state.offset = data.offset;
  state.ready = true;

  // live: read only what was appended to results.jsonl since the last offset
  let status = data.status;
  const live = document.getElementById("live");
  // The server says the log was truncated or replaced: reload every curve and tail from the new offset.
  async function reset() {
    const fresh = await getReadable(`/api/run/${rid}/series`);
    head.points = fresh.series.reduce((n, s) => n + s.total, 0);
    for (const s of fresh.series) {
      if (!lines[s.key]) continue; // a new name: shown on reload
      lines[s.key] = { x: s.x.slice(), y: s.y.slice(), total: s.total };
      const c = state.charts[s.key];
      if (c) { c.chart.setData([lines[s.key].x, lines[s.key].y]); c.zoomed = false; countPoints(s.key); }
    }
    state.offset = fresh.offset;
    state.live.resets += 1;
  }
  async function poll() {
    try {
      const t = await getJSON(`/api/run/${rid}/tail?offset=${state.offset}`);
      state.live.polls += 1;
      state.offset = t.offset;
      status = t.status;
      const touched = new Set();
      for (const r of t.records) {
        const l = lines[r.key];
        if (!l) continue; // a new name: shown on reload
        l.x.push(r.x === null ? l.x.length : r.x); l.y.push(r.y); touched.add(r.key);
        state.live.appended += 1;
        head.points += 1;
        record(r.key, r.y);
      }
      if (t.epoch !== undefined) head.epoch = t.epoch;
      if (t.duration !== undefined) head.duration = t.duration;
      showHead();
      if (touched.size) showFinals();
      for (const key of touched) {
        const c = state.charts[key];
        if (c && !c.zoomed) { c.chart.setData([lines[key].x, lines[key].y]); countPoints(key); }
      }
      document.getElementById("run-status").replaceWith(Object.assign(badge(status), { id: "run-status" }));
    } catch (e) {
      state.live.error = e.message;
      if (e.status === 409 && e.data && e.data.reset) await reset();
    }
    live.hidden = status !== "running";
    if (status === "running") setTimeout(poll, 1000);
  }
  live.hidden = status !== "running";
  if (status === "running") setTimeout(poll, 1000);
}

// ------------------------------------------------------------------------------------------ compare

async function comparePage() {
  const ids = document.body.dataset.ids;
  const select = document.getElementById("combine");
  let first = true;
  async function load() {
    const combine = select.value;
    const data = await getJSON(`/api/compare?ids=${ids}&combine=${encodeURIComponent(combine)}`);
    if (first) {
      for (const k of Object.keys(data.diff)) if (k !== "seed") select.append(el("option", { value: k, text: k }));
      first = false;
    }
    document.getElementById("n-runs").textContent = `${data.runs.length} runs`;
    const diff = document.getElementById("diff");
    diff.replaceChildren(el("tr", {}, el("th", { text: "key" }), ...data.runs.map((r, i) => el("th", {}, el("span", { class: "swatch", style: `background:${COLORS[i % COLORS.length]}` }), el("a", { href: `/run/${r.id}`, text: r.label })))));
    for (const [k, vals] of Object.entries(data.diff)) diff.append(el("tr", {}, el("th", { text: k }), ...vals.map((v) => el("td", { class: "mono", text: fmt(v) }))));
    if (!Object.keys(data.diff).length) diff.append(el("tr", {}, el("td", { class: "muted", text: "the configs are equal" })));
    const curves = document.getElementById("curves");
    curves.replaceChildren();
    state.charts = {};
    const grid = el("div", { class: "charts" });
    curves.append(grid);
    if (!combine) {
      const keys = [...new Set(data.runs.flatMap((r) => (data.series[r.id] || []).map((s) => s.key)))].sort();
      for (const key of keys) {
        const parts = [], labels = [];
        data.runs.forEach((r, i) => {
          const s = (data.series[r.id] || []).find((x) => x.key === key);
          if (s) { parts.push([s.x, s.y]); labels.push({ label: r.label, stroke: COLORS[i % COLORS.length] }); }
        });
        makeChart(grid, key, key, labels, uPlot.join(parts), { legend: true });
      }
    } else {
      const labels = Object.keys(data.combined);
      const keys = [...new Set(labels.flatMap((g) => Object.keys(data.combined[g])))].sort();
      for (const key of keys) {
        const parts = [], series = [], bands = [];
        labels.forEach((g, i) => {
          const c = data.combined[g][key];
          if (!c) return;
          const color = COLORS[i % COLORS.length];
          parts.push([c.x, c.mean.map((m, j) => m + c.std[j]), c.mean, c.mean.map((m, j) => m - c.std[j])]);
          const base = series.length + 1;
          series.push({ label: `${g} +σ`, stroke: color + "55", width: 0.5 }, { label: `${g} (n=${c.n}) mean`, stroke: color, width: 2 }, { label: `${g} −σ`, stroke: color + "55", width: 0.5 });
          bands.push({ series: [base, base + 2], fill: color + "22" });
        });
        makeChart(grid, key, `${key}  ·  mean ± std`, series, uPlot.join(parts), { bands, legend: false, hideLegend: true });
        const legend = el("div", { class: "legend" });
        labels.forEach((g, i) => { const c = data.combined[g][key]; if (c) legend.append(el("span", {}, el("span", { class: "swatch", style: `background:${COLORS[i % COLORS.length]}` }), `${g} (n=${c.n})`)); });
        grid.lastChild.append(legend);
      }
    }
    state.compare = { runs: data.runs.length, combine, groups: data.groups };
    state.ready = true;
  }
  select.addEventListener("change", () => { state.ready = false; load(); });
  await load();
}

document.addEventListener("DOMContentLoaded", () => {
  const run = { overview, run: runPage, compare: comparePage }[state.page];
  if (run) run().catch((e) => { state.error = e.message; state.ready = true; document.querySelector("main").prepend(el("p", { class: "error", text: e.message })); });
});
