// Shared by every page: a JSON fetch that turns problems into errors, a tiny DOM builder (text only,
// never innerHTML from data), the site's header and the page state (data-state on <main>).

export async function api(path, opts = {}) {
  const r = await fetch(path, opts);
  const type = r.headers.get("content-type") || "";
  const body = type.includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw new Error(`${r.status} ${path}: ${body?.detail ?? body}`);
  return body;
}

export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k != null) e.append(k instanceof Node ? k : String(k));
  return e;
}

export function fmt(v) {
  if (typeof v !== "number") return String(v ?? "—");
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(a < 1 ? 4 : 2);
}

export function verdict(row) {
  if (!row) return el("span", { class: "badge none" }, "no run");
  const v = row.exit_code === 0 ? "pass" : row.exit_code === 1 ? "fail" : "error";
  return el("span", { class: `badge ${v}` }, `${v.toUpperCase()} (exit ${row.exit_code})`);
}

const NAV = [["/", "Gates"], ["/play", "Play"], ["/runs", "Runs"], ["/docs", "API"]];

export function header(active) {
  const nav = el("nav", { "aria-label": "main" },
    ...NAV.map(([href, label]) => el("a", { href, "aria-current": href === active ? "page" : null }, label)));
  document.body.prepend(el("a", { href: "#main", class: "skip" }, "Skip to content"),
    el("header", {}, el("a", { href: "/", class: "brand" }, "worldgate"), nav));
}

export function table(cols, rows) {
  return el("div", { class: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, ...cols.map((c) => el("th", { scope: "col" }, c)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c)))))));
}

export function metricsTable(run) {
  return table(["metric", "value", "unit"], (run.metrics || []).map((m) => [m.name, fmt(m.value), m.unit || ""]));
}

export function criteriaTable(run) {
  return table(["criterion", "value", "needs", "passed"], (run.criteria || []).map((c) =>
    [c.name, fmt(c.value), `${c.op} ${fmt(c.threshold)}`,
     el("span", { class: `badge ${c.passed ? "pass" : "fail"}` }, c.passed ? "yes" : "no")]));
}

export function pictures(run) {
  const names = run.pictures || [];
  if (!names.length) return el("p", {}, "This run left no pictures.");
  return el("div", { class: "pics" }, ...names.map((n) => {
    const src = `/v1/runs/${encodeURIComponent(run.id)}/pictures/${encodeURIComponent(n)}`;
    return el("figure", {}, el("a", { href: src }, el("img", { src, alt: n})), el("figcaption", {}, n));
  }));
}

// Run a page's async body: data-state="ready" when it rendered, "error" (and the message) when not.
export async function page(active, body) {
  header(active);
  const main = document.querySelector("main");
  try {
    await body(main);
    main.dataset.state = "ready";
  } catch (e) {
    main.append(el("p", { class: "error", role: "alert" }, String(e.message || e)));
    main.dataset.state = "error";
    throw e;
  }
}
