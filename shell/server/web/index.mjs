// The capability matrix (GET /v1/status): every gate, its last verdict, demo and run links, progress.
import { api, el, page, table } from "./common.mjs";

page("/", async (main) => {
  const [st, cfg] = await Promise.all([api("/v1/status"), api("/v1/web/config")]);
  const gates = st.gates || [];
  const passed = gates.filter((g) => g.last_verdict === "pass").length;
  main.append(
    el("p", { class: "story" }, "Each milestone of the roadmap is a gate: a command that measures a capability on real frames and passes or fails. This is where the project stands."),
    el("p", {}, el("label", {}, `progress: ${passed} of ${gates.length} gates passed`,
      el("progress", { max: gates.length, value: passed }))),
    el("p", {}, el("a", { href: "/play" }, "Play the world model in your browser →")),
    table(["gate", "name", "state", "last verdict", "when", "run", "demo"], gates.map((g) => [
      g.id, g.name, el("span", { class: `badge ${g.state === "built" ? "none" : "planned"}` }, g.state),
      g.last_verdict ? el("span", { class: `badge ${g.last_verdict}` }, g.last_verdict) : "—",
      g.when ? g.when.replace("T", " ").slice(0, 19) : "—",
      g.run_id ? el("a", { href: `/runs/${encodeURIComponent(g.run_id)}` }, g.run_id) : "—",
      cfg.demos.includes(g.id) ? el("a", { href: `/demo/${g.id}` }, `${g.id} demo`) : "—",
    ])),
  );
  if ((st.composites || []).length) {
    main.append(el("h2", {}, "Go / no-go"), table(["id", "name", "verdict", "members"],
      st.composites.map((c) => [c.id, c.name, c.verdict, (c.members || []).join(", ")])));
  }
});
