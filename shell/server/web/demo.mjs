// A gate's demo from its last run (GET /v1/runs?gate=ID&limit=1): the story, the verdict, the pictures
// (before/after), criteria and metrics; live parts where the milestone has them (play, the API).
import { api, criteriaTable, el, metricsTable, page, pictures, table, verdict } from "./common.mjs";

const DEMOS = {
  m1: ["reconstruct", "Can a small codec squeeze a game frame into a latent and bring it back? The pictures show real frames beside their reconstructions (before / after) and the latent space; the criteria say how close is close enough.", null],
  m2: ["predict", "Given the last frames and an action, can the model predict the next frame? Truth beside prediction, the error over a rollout, and how different futures look from one start. Try it live: the same model runs on the play page.", ["/play", "Play this model →"]],
  m3: ["goal", "Can an agent tell from pixels alone that it reached its goal? The distance to a captured goal template along a replayed trace: it must drop below the threshold at the goal, and stay above it everywhere else.", null],
  m4: ["generate", "From one frame, can the model make 30 more under the player's actions, coherent, obeying gravity, keeping its coins and enemies, and different each time? The game's clip beside the model's, several samples from one start, the player decoded from the pixels, and a GIF.", ["/play", "Play this model →"]],
  m5: ["control", "Does the model do what each of the 5 actions says? An inverse-dynamics model trained on the game reads the action back from the generated frames: the confusion matrix, and one state under each action, game beside model.", ["/play", "Play this model →"]],
  m12: ["community", "Can others train it on their own game? A shipped model fine-tuned on a Game Boy ROM it never saw, against the same budget from scratch: the learning curves and the held-out predictions.", null],
  m11: ["api", "Can others build on it? The world models and the harness over HTTP and WebSocket, with keys, a contract and measured latency. The API documentation is live on this server.", ["/docs", "Open the API docs →"]],
};

page(null, async (main) => {
  const gate = location.pathname.split("/").pop();
  const [name, story, live] = DEMOS[gate] || [gate, "", null];
  document.title = `${gate} ${name} demo · worldgate`;
  main.querySelector("h1").textContent = `${gate}: ${name}`;
  main.append(el("p", { class: "story" }, story));
  if (live) main.append(el("p", {}, el("a", { href: live[0] }, live[1])));
  if (gate === "m1") main.append(await uploader());
  if (gate === "m11") main.append(await serverNow());
  const rows = (await api(`/v1/runs?gate=${encodeURIComponent(gate)}&limit=1`)).runs;
  if (!rows.length) {
    main.append(el("p", { class: "empty" }, `No run of ${gate} yet: run `, el("code", {}, `uv run gate ${gate}`), " and reload."));
    return;
  }
  const run = await api(`/v1/runs/${encodeURIComponent(rows[0].id)}`);
  main.append(
    el("p", {}, "last run ", el("a", { href: `/runs/${encodeURIComponent(run.id)}` }, run.id), " · ", verdict(run),
      ` · ${(run.started_at || "").replace("T", " ").slice(0, 19)} UTC`),
    el("h2", {}, "Pictures"), pictures(run),
    el("h2", {}, "Criteria"), criteriaTable(run),
    el("h2", {}, "Metrics"), metricsTable(run),
  );
});

// m1 live: a screenshot through the golden codec -> the frame it saw, its reconstruction, the error.
async function uploader() {
  const cfg = await api("/v1/web/config");
  const out = el("div", { class: "pics", id: "m1-live", "aria-live": "polite" });
  const input = el("input", { id: "shot", type: "file", accept: "image/png,image/jpeg" });
  input.addEventListener("change", async () => {
    const file = input.files[0];
    if (!file) return;
    out.replaceChildren(el("p", {}, "reconstructing…"));
    try {
      const b64 = await new Promise((ok, bad) => {
        const r = new FileReader();
        r.onload = () => ok(String(r.result).split(",", 2)[1]);
        r.onerror = bad;
        r.readAsDataURL(file);
      });
      const headers = { "Content-Type": "application/json" };
      if (cfg.key) headers.Authorization = `Bearer ${cfg.key}`;
      const res = await api("/v1/demo/m1/reconstruct", { method: "POST", headers, body: JSON.stringify({ image: b64 }) });
      const fig = (b, cap) => el("figure", {}, el("img", { src: `data:image/png;base64,${b}`, alt: cap }), el("figcaption", {}, cap));
      out.replaceChildren(fig(res.input, "your frame (256x256)"), fig(res.reconstruction, `reconstruction: PSNR ${res.psnr_db.toFixed(1)} dB`),
        fig(res.heatmap, `error heatmap; latent ${res.latent_bytes} B of ${res.frame_bytes} B`));
    } catch (e) {
      out.replaceChildren(el("p", { class: "error", role: "alert" }, String(e.message || e)));
    }
  });
  return el("section", {}, el("h2", {}, "Try it: upload a screenshot"),
    el("label", { for: "shot" }, "a PNG or JPEG of a game frame", input), out);
}

// m11 live: this very server's health, its play sessions and the step timing it measured so far.
async function serverNow() {
  const [health, stats] = await Promise.all([api("/v1/health"), api("/v1/stats")]);
  const rows = Object.entries(stats.models).map(([name, m]) =>
    [name, String(m.frames ?? "—"), m.step_ms_p95 != null ? m.step_ms_p95.toFixed(1) : "—"]);
  return el("section", {}, el("h2", {}, "This server, now"),
    el("p", {}, `health: ${health.ok ? "ok" : "not ok"} · live play sessions: ${stats.sessions} · batching: ${stats.batching.enabled ? `on (up to ${stats.batching.max_batch})` : "off"}`),
    rows.length ? table(["loaded model", "frames served", "step p95 ms"], rows) : el("p", {}, "No model loaded yet: play one and come back."));
}
