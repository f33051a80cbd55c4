// The runs (GET /v1/runs): filters by gate, verdict and date in the URL; search over id, gate, commit.
import { api, el, page, table, verdict } from "./common.mjs";

page("/runs", async (main) => {
  const q = new URLSearchParams(location.search);
  const [gates, cfg] = await Promise.all([api("/v1/gates"), api("/v1/web/config")]);
  const ids = (gates.gates || []).filter((g) => g.state === "built" || g.built).map((g) => g.id);
  const field = (name, label, input) => el("label", { for: name }, label, input);
  const sel = (name, opts) => el("select", { id: name, name },
    ...opts.map(([v, t]) => el("option", { value: v, selected: q.get(name) === v && v !== "" }, t)));
  const form = el("form", { class: "filters", role: "search" },
    field("search", "search", el("input", { id: "search", name: "search", type: "search", value: q.get("search") || "", placeholder: "run id, gate, commit" })),
    field("gate", "gate", sel("gate", [["", "any"], ...ids.map((g) => [g, g])])),
    field("verdict", "verdict", sel("verdict", [["", "any"], ["pass", "pass"], ["fail", "fail"], ["error", "error"]])),
    field("since", "since", el("input", { id: "since", name: "since", type: "date", value: q.get("since") || "" })),
    field("until", "until", el("input", { id: "until", name: "until", type: "date", value: q.get("until") || "" })),
    el("button", { type: "submit" }, "Filter"));
  const api_q = new URLSearchParams();
  for (const k of ["gate", "verdict", "since", "until"]) if (q.get(k)) api_q.set(k, q.get(k));
  api_q.set("limit", "500");
  const runs = (await api(`/v1/runs?${api_q}`)).runs;
  const s = (q.get("search") || "").toLowerCase();
  const shown = runs.filter((r) => !s || [r.id, r.gate, r.git_commit, r.backend].join(" ").toLowerCase().includes(s));
  main.append(form, el("p", { "aria-live": "polite" }, `${shown.length} of ${runs.length} runs`),
    table(["run", "gate", "verdict", "started", "duration", "backend", "device"], shown.map((r) => [
      el("a", { href: `/runs/${encodeURIComponent(r.id)}` }, r.id),
      cfg.demos.includes(r.gate) ? el("a", { href: `/demo/${r.gate}` }, r.gate) : r.gate,
      verdict(r), (r.started_at || "").replace("T", " ").slice(0, 19),
      r.duration_s != null ? `${r.duration_s.toFixed(1)} s` : "—", r.backend || "—", r.device || "—",
    ])));
});
