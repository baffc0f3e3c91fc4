// The one client of the HTTP and websocket API (docs/api.md). Views never fetch on their own.

const TOKEN_PREFIX = "taffy.token.";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

// JSON in and out; `text: true` returns the body as text (the CSV and LaTeX exports).
async function request(method, path, { body, token, text = false } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  if (response.ok && text) return response.text();
  const payload = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, payload);
  return payload;
}

// "?layer=1&i=0&j=2", leaving out the parameters that are null (a bias has no i).
const query = (params) => {
  const kept = Object.entries(params).filter(([, v]) => v !== null && v !== undefined);
  return kept.length ? `?${new URLSearchParams(kept)}` : "";
};

export const catalogue = {
  presets: () => request("GET", "/presets"),
  datasets: () => request("GET", "/datasets"),
};

// Creates a session (from a config, or from an exported document) and keeps its token,
// so this browser steers it from now on.
export async function createSession(config) {
  const created = await request("POST", "/sessions", { body: config });
  localStorage.setItem(TOKEN_PREFIX + created.id, created.token);
  return created;
}

export async function importSession(document) {
  const created = await request("POST", "/sessions/import", { body: document });
  localStorage.setItem(TOKEN_PREFIX + created.id, created.token);
  return created;
}

export class SessionApi {
  constructor(id) {
    this.id = id;
    this.token = localStorage.getItem(TOKEN_PREFIX + id);
    this.base = `/sessions/${encodeURIComponent(id)}`;
  }

  get canSteer() {
    return Boolean(this.token);
  }

  get(path = "", options = {}) {
    return request("GET", this.base + path, options);
  }

  // `body` undefined sends none (the phase routes take no body, or `{"layers": n}`).
  change(method, path, body) {
    return request(method, this.base + path, { body, token: this.token });
  }

  post(path, body) {
    return this.change("POST", path, body);
  }

  summary() { return this.get(); }
  data() { return this.get("/data"); }
  network() { return this.get("/network"); }
  trace() { return this.get("/trace"); }
  history() { return this.get("/history"); }
  boundary(resolution, iteration = null) { return this.get(`/boundary${query({ resolution, iteration })}`); }
  gradcheck() { return this.get("/gradcheck"); }
  exportDocument() { return this.get("/export"); }

  // Debugging (docs/api.md, last section): the past, the numbers that explain, exports.
  historyAt(iteration) { return this.get(`/history/${iteration}`); }
  diagnostics() { return this.get("/diagnostics"); }
  breakpoints() { return this.get("/breakpoints"); }
  fullGradient() { return this.get("/full_gradient"); }
  chainRule(layer, i, j) { return this.get(`/chain_rule${query({ layer, i, j })}`); }
  chainRuleTex(layer, i, j) { return this.get(`/chain_rule.tex${query({ layer, i, j })}`, { text: true }); }
  traceCsv() { return this.get("/trace.csv", { text: true }); }

  // `layers`: advance forward or backward that many layers only (null: the whole phase).
  phase(name, layers = null) { return this.post(`/${name}`, layers ? { layers } : undefined); }
  train(amount) { return this.post("/train", amount); }
  rewind(iterations) { return this.post("/rewind", { iterations }); }
  reset() { return this.post("/reset"); }
  setBreakpoints(conditions) { return this.change("PUT", "/breakpoints", conditions); }
  patchConfig(changes) { return this.change("PATCH", "/config", changes); }
  editParameters(edits) { return this.change("PATCH", "/network", { edits }); }

  // The event stream. Reconnects with a growing pause; `onMessage` gets every message,
  // `onStatus` gets "open" / "closed" so the page can say when it is offline.
  connect(onMessage, onStatus) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/api${this.base}/ws`;
    let retryMs = 500;
    const open = () => {
      const socket = new WebSocket(url);
      this.socket = socket;
      socket.onopen = () => {
        retryMs = 500;
        if (this.token) socket.send(JSON.stringify({ type: "auth", token: this.token }));
        onStatus("open");
      };
      socket.onmessage = (event) => onMessage(JSON.parse(event.data));
      socket.onclose = () => {
        onStatus("closed");
        if (this.closed) return;
        setTimeout(open, retryMs);
        retryMs = Math.min(retryMs * 2, 8000);
      };
    };
    open();
  }

  send(command) {
    if (this.socket?.readyState !== WebSocket.OPEN) throw new Error("Not connected to the server");
    this.socket.send(JSON.stringify(command));
  }
}
