// One WebSocket per tab: reconnects with backoff, rejoins every room with `since` so nothing is
// missed or shown twice, and keeps messages written while offline until the server acks them.

const SEEN_LIMIT = 5000;
// Event ids are handed out in commit order, but each server process sends its own events, so
// one from another process can arrive just after a later one. A rejoin therefore replays from a
// little before the newest id seen (never before where this tab began the room: what the page
// showed before that was not seen here); what was already shown is dropped as seen.
const REPLAY_OVERLAP = 200;
const SIGNED_OUT = 4401;
const STATUS_GRACE_MS = 1200;

function socketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/ws`;
}

function newClientId() {
  if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class LiveSocket extends EventTarget {
  constructor({ statusElement = null, url = socketUrl() } = {}) {
    super();
    this.url = url;
    this.statusElement = statusElement;
    this.rooms = new Map(); // room -> newest event id seen (or null: join without replay)
    this.floors = new Map(); // room -> the id this tab began it from: replay never goes below
    this.pending = new Map(); // client_id -> say frame, until acked
    this.reads = new Map(); // room -> newest message id read: sent again on every reconnect
    this.seen = new Set();
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.statusTimer = null;
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.showStatus("offline"));
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    window.clearTimeout(this.retryTimer);
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => this.onOpen(ws));
    ws.addEventListener("message", (message) => this.onMessage(message.data));
    ws.addEventListener("close", (close) => this.onClose(ws, close));
  }

  // The network is back. A socket that outlived the outage needs no new one, only the
  // banner gone; one that did not is reconnected at once rather than at its next backoff.
  reconnectNow() {
    if (this.isOpen) {
      this.showStatus(null);
      return;
    }
    this.attempt = 0;
    this.connect();
  }

  onOpen(ws) {
    if (ws !== this.ws) return;
    this.attempt = 0;
    this.showStatus(null);
    for (const [room, since] of this.rooms) this.sendJoin(room, this.replayFrom(room, since));
    for (const frame of this.pending.values()) this.send(frame);
    for (const [room, messageId] of this.reads) this.sendRead(room, messageId);
    this.dispatch("open", {});
  }

  onClose(ws, close) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.dispatch("close", { code: close.code });
    if (close.code === SIGNED_OUT) {
      window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
      return;
    }
    this.showStatus(navigator.onLine === false ? "offline" : "reconnecting");
    // 0.5 s, 1 s, 2 s ... up to 30 s, with jitter so a restarted server is not hit all at once.
    const delay = Math.min(30_000, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  onMessage(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === "event" && frame.id !== undefined) {
      // Logged events carry an id: replay after a reconnect must not show one twice.
      // (Unlogged ones such as analytics.updated have none and are never replayed.)
      if (this.seen.has(frame.id)) return;
      this.remember(frame.id);
      if (this.rooms.has(frame.room)) {
        this.rooms.set(frame.room, Math.max(this.rooms.get(frame.room) ?? 0, frame.id));
      }
    } else if (frame.type === "joined" && this.rooms.has(frame.room)) {
      // (A room left before its join was answered stays left.)
      const known = this.rooms.get(frame.room) ?? 0;
      this.rooms.set(frame.room, Math.max(known, frame.last_event_id));
      if ((this.floors.get(frame.room) ?? null) === null) {
        this.floors.set(frame.room, frame.last_event_id);
      }
    } else if (frame.type === "ack") {
      this.pending.delete(frame.client_id);
    } else if (frame.type === "error" && frame.client_id && this.pending.has(frame.client_id)) {
      // Refused for good (too long, not allowed, closed ticket): do not send it again.
      if (!["unavailable", "rate_limited"].includes(frame.code)) this.pending.delete(frame.client_id);
    }
    this.dispatch(frame.type, frame);
  }

  remember(eventId) {
    this.seen.add(eventId);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value);
  }

  dispatch(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  on(type, handler) {
    this.addEventListener(type, (event) => handler(event.detail));
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  replayFrom(room, since) {
    if (since === null || since === undefined) return since;
    return Math.max(this.floors.get(room) ?? since, since - REPLAY_OVERLAP);
  }

  sendJoin(room, since) {
    const frame = { op: "join", room };
    if (since !== null && since !== undefined) frame.since = since;
    this.send(frame);
  }

  join(room, since = null) {
    this.rooms.set(room, since);
    this.floors.set(room, since);
    this.sendJoin(room, since);
  }

  leave(room) {
    this.rooms.delete(room);
    this.floors.delete(room);
    this.reads.delete(room);
    this.send({ op: "leave", room });
  }

  // Queue a message; it is (re)sent on every reconnect until acked, with the same client_id,
  // so the server stores it once however many times it arrives. Its files were uploaded
  // before: the frame carries only their ids.
  say(room, body, internal = false, attachmentIds = []) {
    const clientId = newClientId();
    const frame = { op: "say", room, body, internal, client_id: clientId };
    if (attachmentIds.length) frame.attachment_ids = attachmentIds;
    this.pending.set(clientId, frame);
    this.send(frame);
    return clientId;
  }

  typing(room, internal = false) {
    this.send({ op: "typing", room, internal });
  }

  // Markers only move forward on the server, so sending one again is harmless, and a marker
  // set while offline (or lost with the connection) still arrives.
  markRead(room, messageId) {
    if (messageId <= (this.reads.get(room) ?? 0)) return;
    this.reads.set(room, messageId);
    this.sendRead(room, messageId);
  }

  sendRead(room, messageId) {
    this.send({ op: "read", room, message_id: messageId });
  }

  showStatus(state) {
    window.clearTimeout(this.statusTimer);
    const element = this.statusElement;
    if (!element) return;
    if (state === null) {
      element.hidden = true;
      element.textContent = "";
      return;
    }
    const text = state === "offline"
      ? "You are offline. What you write is sent when the connection is back."
      : "Reconnecting… live updates will resume in a moment.";
    // A blip shorter than the grace period is not worth a banner.
    this.statusTimer = window.setTimeout(() => {
      element.textContent = text;
      element.hidden = false;
    }, STATUS_GRACE_MS);
  }
}
