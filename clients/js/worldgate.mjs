// The JavaScript client of `gate serve`: a plain ES module (fetch + WebSocket), no dependencies,
// for browsers and Node.js (fetch from Node 18, WebSocket from Node 22).
//
//   import { Client } from "./worldgate.mjs";
//   const api = new Client("http://127.0.0.1:8000", { key: "wg_..." });
//   const s = await api.createSession({ seed: 0 });
//   const step = await api.step(s.id, 1);          // {frame, format, data (base64 PNG), ...}
//   await api.endSession(s.id);

export class APIError extends Error {
  constructor(status, problem) {
    super(`${status}: ${problem?.detail ?? JSON.stringify(problem)}`);
    this.status = status;
    this.problem = problem;
  }
}

export class Client {
  constructor(url = "http://127.0.0.1:8000", { key = null, fetch: f = globalThis.fetch } = {}) {
    this.url = url.replace(/\/+$/, "");
    this.key = key;
    this.fetch = f;
  }

  async request(method, path, body) {
    const headers = {};
    if (this.key) headers.Authorization = `Bearer ${this.key}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await this.fetch(this.url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = r.headers.get("content-type") || "";
    if (r.status >= 400) {
      const problem = type.includes("json") ? await r.json() : { detail: await r.text() };
      throw new APIError(r.status, problem);
    }
    return type.includes("json") ? r.json() : new Uint8Array(await r.arrayBuffer());
  }

  health() { return this.request("GET", "/v1/health"); }
  async models() { return (await this.request("GET", "/v1/models")).models; }
  async gates() { return (await this.request("GET", "/v1/gates")).gates; }
  status() { return this.request("GET", "/v1/status"); }
  stats() { return this.request("GET", "/v1/stats"); }
  async runs(filters = {}) {
    const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v != null));
    return (await this.request("GET", `/v1/runs${q.size ? `?${q}` : ""}`)).runs;
  }
  run(runId) { return this.request("GET", `/v1/runs/${encodeURIComponent(runId)}`); }

  submit(gate, opts = {}) { return this.request("POST", "/v1/jobs", { gate, ...opts }); }
  submitBatch(runs, budgetS = null) { return this.request("POST", "/v1/batches", { runs, budget_s: budgetS }); }
  job(id) { return this.request("GET", `/v1/jobs/${encodeURIComponent(id)}`); }
  cancel(id) { return this.request("POST", `/v1/jobs/${encodeURIComponent(id)}/cancel`); }

  createSession({ model = "predictor", seed = 0, startPng = null } = {}) {
    const body = { model, seed };
    if (startPng) body.start_png = startPng; // base64
    return this.request("POST", "/v1/sessions", body);
  }
  step(sessionId, action, format = "png") {
    return this.request("POST", `/v1/sessions/${encodeURIComponent(sessionId)}/step`, { action, format });
  }
  endSession(sessionId) { return this.request("DELETE", `/v1/sessions/${encodeURIComponent(sessionId)}`); }

  // A WebSocket play stream: send(action) resolves to {meta, frame: Uint8Array (PNG or raw RGB)}.
  stream(sessionId, { format = "png", WebSocket: WS = globalThis.WebSocket } = {}) {
    if (!WS) throw new Error("no WebSocket here (Node 22+, a browser, or pass one: {WebSocket})");
    const q = new URLSearchParams({ format });
    if (this.key) q.set("key", this.key);
    const ws = new WS(`${this.url.replace(/^http/, "ws")}/v1/sessions/${encodeURIComponent(sessionId)}/stream?${q}`);
    ws.binaryType = "arraybuffer";
    const waiting = [];
    let meta = null;
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") {
        const m = JSON.parse(ev.data);
        if (m.error) return waiting.shift()?.reject(new APIError(m.error.status, m.error));
        meta = m;
        return;
      }
      waiting.shift()?.resolve({ meta, frame: new Uint8Array(ev.data) });
    };
    const opened = new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    return {
      async send(action) {
        await opened;
        return new Promise((resolve, reject) => {
          waiting.push({ resolve, reject });
          ws.send(JSON.stringify({ action }));
        });
      },
      close() { ws.close(); },
    };
  }
}
