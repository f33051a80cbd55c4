// Play a world model: a session over the m11 WebSocket, one action in flight, frames drawn on a canvas.
// Keys: WASD / arrows, Space or K to jump; touch buttons on phones. The game has no no-op, so while no
// key is held the page sends DOWN (brake on the ground). URL: ?model=&seed=&level= (share a session).
import { api, el, page } from "./common.mjs";

const KEYS = { KeyW: 0, ArrowUp: 0, KeyS: 1, ArrowDown: 1, KeyA: 2, ArrowLeft: 2, KeyD: 3, ArrowRight: 3, Space: 4, KeyK: 4 };
const NAMES = ["UP", "DOWN", "LEFT", "RIGHT", "JUMP"];
const IDLE = 1;
const MAX_FPS = 30;

page("/play", async (main) => {
  const cfg = await api("/v1/web/config");
  const q = new URLSearchParams(location.search);
  const held = [];  // actions held, the last pressed wins
  let key = cfg.key || sessionStorage.getItem("worldgate-key") || q.get("key");
  let run = null;   // the live session: {id, ws, stop}

  const canvas = el("canvas", { width: 256, height: 256, tabindex: 0, id: "screen",
    "aria-label": "the game: WASD or arrow keys to move, Space to jump" });
  const ctx2d = canvas.getContext("2d");
  const hud = (id, label) => el("span", {}, `${label} `, el("output", { id }, "—"));
  const status = el("p", { id: "status", role: "status", "aria-live": "polite" }, "starting…");
  const model = el("select", { id: "model", name: "model" },
    ...cfg.models.map((m) => el("option", { value: m.name, selected: m.name === q.get("model"), title: m.summary }, m.name)));
  const wanted = q.get("model");  // a model the list does not name (the server decides: 404 if unknown)
  if (wanted && !cfg.models.some((m) => m.name === wanted)) model.append(el("option", { value: wanted, selected: true }, wanted));
  const about = el("p", { class: "story", id: "model-summary" });
  const describe = () => { about.textContent = cfg.models.find((m) => m.name === model.value)?.summary || ""; };
  model.addEventListener("change", describe);
  describe();
  const seed = el("input", { id: "seed", name: "seed", type: "number", min: 0, value: q.get("seed") || "0", inputmode: "numeric" });
  const level = el("select", { id: "level", name: "level" }, el("option", { value: "" }, "the seed's"),
    ...Array.from({ length: cfg.levels }, (_, i) => el("option", { value: i, selected: q.get("level") === String(i) }, String(i))));
  const form = el("form", { class: "filters", id: "settings" },
    el("label", { for: "model" }, "model", model), el("label", { for: "seed" }, "seed", seed),
    el("label", { for: "level" }, "level", level), el("button", { type: "submit", id: "restart" }, "Restart"));
  if (!cfg.key) form.append(el("label", { for: "key" }, "API key (gate keys create)",
    el("input", { id: "key", type: "password", value: key || "", autocomplete: "off" })));
  const pad = el("div", { class: "pad", "aria-label": "touch controls" },
    ...[["up", 0, "▲"], ["down", 1, "▼"], ["left", 2, "◀"], ["right", 3, "▶"], ["jump", 4, "JUMP"]].map(([c, a, t]) => {
      const b = el("button", { type: "button", class: c, "aria-label": NAMES[a], "data-action": a }, t);
      const up = () => { const i = held.indexOf(a); if (i >= 0) held.splice(i, 1); };
      b.addEventListener("pointerdown", (e) => { e.preventDefault(); up(); held.push(a); });
      for (const ev of ["pointerup", "pointerleave", "pointercancel"]) b.addEventListener(ev, up);
      return b;
    }));
  main.append(el("div", { class: "play" },
    el("div", {}, canvas, pad),
    el("div", {}, form, about, el("div", { class: "hud" }, hud("fps", "FPS"), hud("latency", "latency ms"), hud("server", "server ms"), hud("frame", "frame"), hud("action", "action")), status,
      el("p", { class: "story" }, "Every frame here is drawn by the world model, not the game: it sees the last frames and your action and predicts the next one. Keys: WASD or arrows, Space to jump; idle sends DOWN (the game has no no-op)."))));

  const focusGame = (e) => !e.target.closest("input, select, textarea, button, a");
  document.addEventListener("keydown", (e) => {
    if (!(e.code in KEYS) || !focusGame(e)) return;
    e.preventDefault();
    const a = KEYS[e.code];
    if (!held.includes(a)) held.push(a);
  });
  document.addEventListener("keyup", (e) => {
    if (!(e.code in KEYS)) return;
    const i = held.indexOf(KEYS[e.code]);
    if (i >= 0) held.splice(i, 1);
  });
  window.addEventListener("blur", () => held.splice(0));

  async function start() {
    if (run) await run.stop();
    const body = { model: model.value, seed: Number(seed.value) || 0 };
    if (level.value !== "") body.level = Number(level.value);
    const u = new URLSearchParams({ model: body.model, seed: body.seed });
    if (level.value !== "") u.set("level", level.value);
    history.replaceState(null, "", `/play?${u}`);
    const kin = document.getElementById("key");
    if (kin) { key = kin.value; sessionStorage.setItem("worldgate-key", key); }
    status.textContent = `loading ${body.model}…`;
    for (const id of ["fps", "latency", "server", "frame", "action"]) document.getElementById(id).textContent = "—";
    const s = await api("/v1/sessions", { method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` } });
    canvas.width = s.width; canvas.height = s.height;
    run = stream(s);
  }

  function stream(s) {
    const ws = new WebSocket(`${location.origin.replace(/^http/, "ws")}/v1/sessions/${s.id}/stream?format=png&key=${encodeURIComponent(key)}`);
    ws.binaryType = "arraybuffer";
    let stopped = false, sent = 0, meta = null, drawn = [], lats = [];
    const send = () => {
      if (stopped || ws.readyState !== WebSocket.OPEN) return;
      const wait = 1000 / MAX_FPS - (performance.now() - sent);
      if (wait > 0) return void setTimeout(send, wait);
      const a = held.length ? held[held.length - 1] : IDLE;
      document.getElementById("action").textContent = NAMES[a];
      sent = performance.now();
      ws.send(JSON.stringify({ action: a }));
    };
    ws.onopen = () => { status.textContent = `playing ${s.model}, session ${s.id}`; main.dataset.playing = "1"; send(); };
    ws.onmessage = async (ev) => {
      if (typeof ev.data === "string") {
        const m = JSON.parse(ev.data);
        if (m.error) { status.textContent = `error: ${m.error.detail}`; return send(); }
        meta = m;
        return;
      }
      const bmp = await createImageBitmap(new Blob([ev.data], { type: "image/png" }));
      ctx2d.drawImage(bmp, 0, 0);
      const now = performance.now();
      drawn.push(now); drawn = drawn.filter((t) => now - t <= 1000);
      lats.push(now - sent); if (lats.length > 20) lats.shift();
      document.getElementById("fps").textContent = drawn.length;
      document.getElementById("latency").textContent = (lats.reduce((x, y) => x + y, 0) / lats.length).toFixed(0);
      document.getElementById("server").textContent = meta ? meta.server_ms.toFixed(0) : "—";
      document.getElementById("frame").textContent = meta ? meta.frame : "—";
      send();
    };
    ws.onclose = (ev) => {
      if (stopped) return;
      status.textContent = `connection lost (${ev.code} ${ev.reason || ""}): press Restart`;
      main.dataset.playing = "0";
    };
    return {
      id: s.id,
      async stop() {
        stopped = true; ws.close(1000);
        await fetch(`/v1/sessions/${s.id}`, { method: "DELETE", headers: { Authorization: `Bearer ${key}` }, keepalive: true }).catch(() => {});
      },
    };
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); start().catch((err) => { status.textContent = String(err.message || err); }); canvas.focus(); });
  window.addEventListener("pagehide", () => run && run.stop());
  if (!key) { status.textContent = "an API key is needed: gate keys create --name me, then paste it and press Restart"; return; }
  await start();
  canvas.focus();
});
