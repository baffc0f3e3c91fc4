// The one client of the HTTP and websocket API (docs/api.md). Views never fetch on their own.

const TOKEN_PREFIX = "taffy.token.";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function request(method, path, { body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const payload = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, payload);
  return payload;
}

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

  get(path = "") {
    return request("GET", this.base + path);
  }

  post(path, body = {}) {
    return request("POST", this.base + path, { body, token: this.token });
  }

  summary() { return this.get(); }
  data() { return this.get("/data"); }
  network() { return this.get("/network"); }
  trace() { return this.get("/trace"); }
  history() { return this.get("/history"); }
  boundary(resolution) { return this.get(`/boundary?resolution=${resolution}`); }
  gradcheck() { return this.get("/gradcheck"); }
  exportDocument() { return this.get("/export"); }

  phase(name) { return this.post(`/${name}`); }
  train(amount) { return this.post("/train", amount); }
  rewind(iterations) { return this.post("/rewind", { iterations }); }

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
