// Ticket desk, the live connection of a browser: ONE server-sent-events stream
// for every open tab of the desk, multiplexing the filters they watch.
//
// Browsers allow six HTTP/1.1 connections per origin, so a stream per tab
// made the seventh tab wait forever. This hub runs in a SharedWorker (one per
// browser and origin) and holds a single `GET /events?watch=…&after=…`
// carrying every tab's filter (its "channel"), each with its own cursor. Each
// frame names its channel (`f:`); the hub hands it to the tabs watching that
// channel, each tab exactly once (a tab drops ids it has already had). Where
// SharedWorker is missing, the page runs this same hub for itself (a stream
// per tab: a phone does not keep seven tabs of a helpdesk open).
//
// Messages, tab → hub: watch {channel, after, user, ticket}, bye, kick,
// seen {visible, focused}. Hub → tab: status {state, text}, frame {id, event,
// data}, notify {id, text, ticket}, login.
"use strict";

(() => {
  /** Frames a channel keeps for tabs that open late (older ones are replayed by the server). */
  const KEEP = 500;
  const MAX_BACKOFF_MS = 60_000;

  class DeskLiveHub {
    constructor() {
      /** @type {Map<number, {port: MessagePort, channel: string, lastId: number, user: string, ticket: number, seenAt: number, visible: boolean}>} */
      this.tabs = new Map();
      /** @type {Map<string, {cursor: number, frames: {id: number, event?: string, data: string}[]}>} */
      this.channels = new Map();
      this.nextTab = 1;
      this.status = { state: "connecting", text: "Connecting…" };
      this.attempt = 0;
      this.stream = null; // AbortController of the open stream
      this.timer = 0;
      this.retryMs = 1000;
      this.notified = new Set();
      /** Who has which ticket open, as the server last said: {ticket: [{user, state}]}. */
      this.present = {};
      /** This browser, to the server's presence board. */
      this.browser = crypto.randomUUID();
      this.reported = "[]";
      this.presenceTimer = 0;
    }

    /** A tab's port: everything the tab says arrives here. */
    attach(port) {
      const id = this.nextTab++;
      port.onmessage = (e) => this.fromTab(id, port, e.data ?? {});
      port.start?.();
    }

    fromTab(id, port, msg) {
      if (msg.type === "watch") return this.watch(id, port, msg);
      const tab = this.tabs.get(id);
      if (msg.type === "bye") {
        this.tabs.delete(id);
        this.reportPresence();
        if (this.tabs.size === 0) this.disconnect();
      } else if (msg.type === "presence" && tab) {
        tab.view = msg.ticket ? { ticket: msg.ticket, state: msg.state } : null;
        this.reportPresence();
      } else if (msg.type === "kick") {
        // The tab saw the network or itself come back: try now, or say all is well.
        if (this.status.state !== "live") this.connectSoon(0);
        else port.postMessage({ type: "status", ...this.status });
      } else if (msg.type === "seen" && tab) {
        tab.visible = Boolean(msg.visible);
        if (msg.focused) tab.seenAt = Date.now();
      }
    }

    watch(id, port, msg) {
      const channel = String(msg.channel ?? "");
      const after = Number(msg.after) || 0;
      this.tabs.set(id, {
        port,
        channel,
        lastId: after,
        user: String(msg.user ?? ""),
        ticket: Number(msg.ticket) || 0,
        seenAt: Date.now(),
        visible: true,
      });
      port.postMessage({ type: "status", ...this.status });
      port.postMessage({ type: "presence", present: this.present });
      const ch = this.channels.get(channel);
      if (!ch) {
        // A new filter: the stream must carry it too, from this tab's point.
        this.channels.set(channel, { cursor: after, frames: [] });
        return this.connectSoon(25);
      }
      const oldest = ch.frames[0]?.id ?? ch.cursor + 1;
      if (after + 1 < oldest && after < ch.cursor) {
        // The tab is older than what is kept: replay the channel from its point
        // (tabs already past it drop what they have had).
        ch.cursor = after;
        ch.frames = [];
        return this.connectSoon(25);
      }
      for (const f of ch.frames) this.send(this.tabs.get(id), f);
    }

    /** Gives a frame to a tab once: a tab never sees an id twice, or an old one. */
    send(tab, frame) {
      if (!tab || frame.id <= tab.lastId) return;
      tab.lastId = frame.id;
      tab.port.postMessage({ type: "frame", ...frame });
    }

    setStatus(state, text) {
      this.status = { state, text };
      for (const tab of this.tabs.values()) {
        tab.port.postMessage({ type: "status", state, text });
      }
    }

    connectSoon(ms) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.connect(), ms);
    }

    disconnect() {
      clearTimeout(this.timer);
      this.stream?.abort();
      this.stream = null;
    }

    /** Opens (or reopens) the one stream, for every channel a tab watches. */
    async connect() {
      this.disconnect();
      const watched = new Set([...this.tabs.values()].map((t) => t.channel));
      for (const name of [...this.channels.keys()]) {
        if (!watched.has(name)) this.channels.delete(name);
      }
      if (this.channels.size === 0) return;
      const q = new URLSearchParams();
      for (const [name, ch] of this.channels) {
        q.append("watch", name);
        q.append("after", String(ch.cursor));
      }
      const abort = new AbortController();
      this.stream = abort;
      try {
        const res = await fetch(`/events?${q}`, {
          signal: abort.signal,
          headers: { Accept: "text/event-stream" },
          credentials: "same-origin",
          cache: "no-store",
        });
        if (res.status === 401) {
          // The session ended: reconnecting cannot help; every tab logs in again.
          for (const tab of this.tabs.values()) {
            tab.port.postMessage({ type: "login" });
          }
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        await this.read(res.body, abort.signal);
      } catch {
        // The network or the server went away: try again, backing off.
      }
      if (this.stream !== abort) return; // replaced or closed on purpose
      this.stream = null;
      this.retry();
    }

    retry() {
      if (this.tabs.size === 0) return;
      this.attempt++;
      const wait = Math.min(
        this.retryMs * 2 ** (this.attempt - 1),
        MAX_BACKOFF_MS,
      );
      if (self.navigator?.onLine === false) {
        this.setStatus("offline", "Offline");
      } else {
        this.setStatus(
          "reconnecting",
          `Reconnecting… next try in ${Math.max(1, Math.round(wait / 1000))} s`,
        );
      }
      this.connectSoon(wait);
    }

    /** Reads server-sent events off the stream until it ends. */
    async read(body, signal) {
      const reader = body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      let frame = { data: [] };
      try {
        while (!signal.aborted) {
          const { done, value } = await reader.read();
          if (done) return;
          buf += value;
          const lines = buf.split(/\r\n|\r|\n/);
          buf = lines.pop() ?? "";
          for (const line of lines) {
            if (line === "") {
              this.frame(frame);
              frame = { data: [] };
              continue;
            }
            const i = line.indexOf(":");
            if (i === 0) continue; // a comment (heartbeat)
            const field = i < 0 ? line : line.slice(0, i);
            const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
            if (field === "data") frame.data.push(value);
            else if (field === "id") frame.id = Number(value);
            else if (field === "f") frame.f = value;
            else if (field === "event") frame.event = value;
            else if (field === "note") frame.note = value;
            else if (field === "retry") this.retryMs = Number(value) || 1000;
          }
        }
      } finally {
        reader.releaseLock();
      }
    }

    frame(raw) {
      if (raw.event === "hello") {
        this.attempt = 0;
        this.present = {}; // the whole picture follows
        this.reportPresence(true);
        return this.setStatus("live", "Live");
      }
      if (raw.event === "presence") return this.presence(raw.data.join("\n"));
      if (raw.id === undefined || raw.f === undefined) return;
      const ch = this.channels.get(raw.f);
      if (!ch || raw.id <= ch.cursor) return;
      ch.cursor = raw.id;
      const frame = { id: raw.id, data: raw.data.join("\n") };
      if (raw.event) frame.event = raw.event;
      ch.frames.push(frame);
      if (ch.frames.length > KEEP) ch.frames.shift();
      for (const tab of this.tabs.values()) {
        if (tab.channel === raw.f) this.send(tab, frame);
      }
      if (raw.note) this.notify(raw.id, raw.note);
    }

    /** Who is on which ticket now (a change, or the whole picture after hello), for every tab. */
    presence(json) {
      try {
        for (const [ticket, who] of Object.entries(JSON.parse(json))) {
          if (who.length) this.present[ticket] = who;
          else delete this.present[ticket];
        }
      } catch {
        return;
      }
      for (const tab of this.tabs.values()) {
        tab.port.postMessage({ type: "presence", present: this.present });
      }
    }

    /**
     * Tells the server which tickets this browser's tabs show (typing wins
     * over viewing): at once when that changes, and again every 4 s while
     * there are any, so that a report that stops coming (a closed laptop)
     * drops out by itself.
     */
    reportPresence(force = false) {
      const views = new Map();
      for (const tab of this.tabs.values()) {
        const v = tab.view;
        if (!v) continue;
        if (views.get(v.ticket) !== "typing") views.set(v.ticket, v.state);
      }
      const list = [...views].map(([ticket, state]) => ({ ticket, state }));
      const text = JSON.stringify(list);
      clearTimeout(this.presenceTimer);
      if (list.length) {
        this.presenceTimer = setTimeout(() => this.reportPresence(true), 4000);
      }
      if (!force && text === this.reported) return;
      if (list.length === 0 && this.reported === "[]") return;
      this.reported = text;
      fetch("/presence", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({ browser: this.browser, views: list }),
        keepalive: true,
      }).catch(() => {
        // Offline: the next report (or the expiry) puts it right.
      });
    }

    /** One desktop notification per event per browser, shown by the tab that suits it best. */
    notify(id, json) {
      if (this.notified.has(id)) return;
      this.notified.add(id);
      if (this.notified.size > 1000) {
        this.notified.delete(this.notified.values().next().value);
      }
      let note;
      try {
        note = JSON.parse(json);
      } catch {
        return;
      }
      const tabs = [...this.tabs.values()].filter((t) => t.user !== note.actor);
      if (tabs.length === 0) return;
      // The ticket's own page (so a click lands there), else the tab used last.
      const best = (list) =>
        [...list].sort((a, b) =>
          Number(b.visible) - Number(a.visible) || b.seenAt - a.seenAt
        )[0];
      const tab = best(tabs.filter((t) => t.ticket === note.ticket)) ??
        best(tabs);
      tab.port.postMessage({
        type: "notify",
        id,
        text: note.text,
        ticket: note.ticket,
      });
    }
  }

  // In a SharedWorker, every tab that connects shares this one hub.
  if (
    typeof SharedWorkerGlobalScope !== "undefined" &&
    self instanceof SharedWorkerGlobalScope
  ) {
    const hub = new DeskLiveHub();
    self.onconnect = (e) => hub.attach(e.ports[0]);
  } else {
    self.DeskLiveHub = DeskLiveHub;
  }
})();
