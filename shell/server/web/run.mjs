// One run: verdict, metrics, criteria, pictures, the repro command, lineage links and the receipt.
import { api, criteriaTable, el, metricsTable, page, pictures, table, verdict } from "./common.mjs";

const runLink = (id) => (id ? el("a", { href: `/runs/${encodeURIComponent(id)}` }, id) : "—");

page("/runs", async (main) => {
  const id = decodeURIComponent(location.pathname.split("/").pop());
  const run = await api(`/v1/runs/${encodeURIComponent(id)}`);
  document.title = `${run.id} · worldgate`;
  main.querySelector("h1").textContent = `Run ${run.id}`;
  const repro = `uv run gate ${(run.argv || ["run", run.gate]).join(" ")}`;
  main.append(
    el("p", {}, "gate ", el("a", { href: `/demo/${run.gate}` }, run.gate), " · ", verdict(run),
      ` · ${(run.started_at || "").replace("T", " ").slice(0, 19)} UTC · ${(run.duration_s ?? 0).toFixed(1)} s · `,
      `${run.backend || "—"} on ${run.device || "—"} · commit ${(run.git_commit || "—").slice(0, 10)}`),
    el("h2", {}, "Repro"), el("pre", {}, el("code", {}, repro)),
    el("h2", {}, "Criteria"), criteriaTable(run),
    el("h2", {}, "Metrics"), metricsTable(run),
    el("h2", {}, "Pictures"), pictures(run),
  );
  const [lin, rec] = await Promise.allSettled([
    api(`/v1/runs/${encodeURIComponent(id)}/lineage`), api(`/v1/runs/${encodeURIComponent(id)}/receipt`)]);
  main.append(el("h2", {}, "Lineage"));
  if (lin.status === "fulfilled") {
    const L = lin.value;
    const arts = L.used.filter((u) => u.kind !== "code");
    main.append(
      el("p", {}, `used ${L.used.length} files (${L.used.filter((u) => u.kind === "code").length} of code); produced ${L.produced.length}; approved ${L.approved.length}`),
      table(["used", "kind", "made by"], arts.map((u) => [u.path, u.kind, runLink(u.produced_by)])),
      el("p", {}, "Later runs that used what this run made: ", L.used_by.length ? "" : "none."),
      table(["run", "gate", "via"], L.used_by.map((u) => [runLink(u.run_id), u.gate, u.via.join(", ")])));
  } else main.append(el("p", {}, "No lineage for this run on this machine."));
  main.append(el("h2", {}, "Receipt"));
  if (rec.status === "fulfilled") {
    const lines = rec.value.lines;
    main.append(el("details", {}, el("summary", {}, `${lines.length} lines (receipt.jsonl)`),
      el("pre", {}, lines.map((l) => JSON.stringify(l)).join("\n"))));
  } else main.append(el("p", {}, "The receipt is not on this machine."));
  if (run.exit_code !== 0) main.append(el("p", {}, `Failure bundle: .gate/runs/${run.id}/bundle/ (repro.sh)`));
});
