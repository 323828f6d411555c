// Ticket desk, live, in each tab: the connection indicator, new cards that
// never jump under the cursor, toasts, desktop notifications and the unseen
// count in the title. The browser's one shared connection (live_hub.js) brings
// this page's frames; htmx's public API (htmx.swap, htmx.trigger) puts them in
// the page; this file decides what the agent sees, and when.
"use strict";

(() => {
  const liveEl = () => document.getElementById("live");
  const statusEl = document.getElementById("live-status");
  if (!statusEl) return; // a page without a stream

  const me = () => liveEl()?.dataset.user ?? "";
  const baseTitle = document.title;
  let unseen = 0;
  let held = [];

  // ---- The connection: one per browser, shared by its tabs (live_hub.js) ------

  function setStatus(state, text) {
    if (statusEl.dataset.state === state && statusEl.textContent === text) {
      return;
    }
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  /** The hub's port: the browser's shared worker, or this tab's own hub. */
  function openHub() {
    const el = liveEl();
    if ("SharedWorker" in window && el?.dataset.worker) {
      try {
        // A requester's status page names a hub of its own: its stream never
        // carries an agent's channels, nor theirs its.
        const worker = new SharedWorker(el.dataset.worker, {
          name: el.dataset.hub || "ticket-desk-live",
        });
        return worker.port;
      } catch {
        // Blocked (some privacy modes): fall back to a stream of our own.
      }
    }
    const { port1, port2 } = new MessageChannel();
    new self.DeskLiveHub().attach(port2);
    return port1;
  }

  const el = liveEl();
  const hub = el ? openHub() : null;

  function tellHub(msg) {
    hub?.postMessage(msg);
  }

  if (hub) {
    hub.onmessage = (e) => fromHub(e.data ?? {});
    hub.start();
    tellHub({
      type: "watch",
      channel: el.dataset.channel ?? "",
      after: Number(el.dataset.after) || 0,
      user: me(),
      ticket: Number(el.dataset.ticket) || 0,
    });
    const seen = () =>
      tellHub({
        type: "seen",
        visible: !document.hidden,
        focused: document.hasFocus(),
      });
    addEventListener("focus", seen);
    // pagehide, not unload: it also fires when the page goes into the back/forward cache.
    addEventListener("pagehide", () => tellHub({ type: "bye" }));
    addEventListener("pageshow", (e) => {
      if (!e.persisted) return;
      // Back from the back/forward cache: watch again from where this page was.
      tellHub({
        type: "watch",
        channel: el.dataset.channel ?? "",
        after: lastFrame,
        user: me(),
        ticket: Number(el.dataset.ticket) || 0,
      });
    });
    addEventListener("online", () => tellHub({ type: "kick" }));
    addEventListener("offline", () => setStatus("offline", "Offline"));
    document.addEventListener("visibilitychange", () => {
      seen();
      if (document.hidden) return;
      tellHub({ type: "kick" });
      if (atRest()) showHeld();
      updateTitle();
    });
  }

  let lastFrame = Number(el?.dataset.after) || 0;

  // ---- Who else is here --------------------------------------------------------

  let present = {};
  const ticketOfPage = Number(el?.dataset.ticket) || 0;

  /** Others on a ticket, in words: "maria is writing a comment", "maria and li are viewing". */
  function presenceText(who) {
    const others = who.filter((p) => p.user !== me());
    if (others.length === 0) return "";
    const typing = others.filter((p) => p.state === "typing").map((p) =>
      p.user
    );
    const viewing = others.filter((p) => p.state !== "typing").map((p) =>
      p.user
    );
    const and = (names) =>
      names.length < 2
        ? names.join("")
        : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
    const parts = [];
    if (typing.length) {
      parts.push(
        `${and(typing)} ${typing.length > 1 ? "are" : "is"} writing a comment`,
      );
    }
    if (viewing.length) {
      parts.push(
        `${and(viewing)} ${viewing.length > 1 ? "are" : "is"} viewing`,
      );
    }
    return parts.join("; ");
  }

  function showPresence(map) {
    present = map;
    const line = document.getElementById("presence");
    if (line && ticketOfPage) {
      const text = presenceText(present[ticketOfPage] ?? []);
      if (line.textContent !== text) line.textContent = text;
    }
    markCards();
  }

  /** A small marker on the cards someone else has open (cards from the stream get theirs again). */
  function markCards() {
    for (const card of document.querySelectorAll(".ticket-card")) {
      const text = presenceText(present[card.dataset.ticketId] ?? []);
      let marker = card.querySelector(".presence-marker");
      if (!text) {
        marker?.remove();
        continue;
      }
      if (!marker) {
        marker = document.createElement("p");
        marker.className = "presence-marker";
        card.querySelector("header")?.after(marker);
      }
      marker.title = text;
      marker.textContent = text;
    }
  }
  document.addEventListener("htmx:after:settle", markCards);

  // On a ticket page, this tab views the ticket, and writes while a box has text.
  function reportView() {
    if (!ticketOfPage) return;
    const box = document.activeElement;
    const typing = box instanceof HTMLTextAreaElement &&
      box.value.trim() !== "";
    tellHub({
      type: "presence",
      ticket: ticketOfPage,
      state: typing ? "typing" : "viewing",
    });
  }
  if (ticketOfPage) {
    reportView();
    document.addEventListener("input", reportView);
    document.addEventListener("focusout", () => queueMicrotask(reportView));
  }
  let watching = el;

  // A new board (a tab, a search, a refetch) brings a #live for its own filter:
  // watch that one from the point the new board is current to.
  document.addEventListener("htmx:after:settle", () => {
    const now = liveEl();
    if (!hub || !now || now === watching) return;
    watching = now;
    lastFrame = Number(now.dataset.after) || 0;
    tellHub({
      type: "watch",
      channel: now.dataset.channel ?? "",
      after: lastFrame,
      user: me(),
      ticket: Number(now.dataset.ticket) || 0,
    });
  });

  // A card with a request of this tab in flight is not replaced by the stream:
  // the request's own answer brings the card as the change left it (with its
  // Undo), and replacing the card under it would leave that answer nowhere.
  const busyCards = new Map();
  document.addEventListener("htmx:before:request", (e) => {
    const card = e.target instanceof Element &&
      e.target.closest(".ticket-card");
    const ctx = e.detail?.ctx;
    if (!card || !ctx) return;
    ctx.deskCard = card.id;
    busyCards.set(card.id, (busyCards.get(card.id) ?? 0) + 1);
  });
  document.addEventListener("htmx:finally:request", (e) => {
    const id = e.detail?.ctx?.deskCard;
    if (!id) return;
    const n = (busyCards.get(id) ?? 1) - 1;
    if (n > 0) busyCards.set(id, n);
    else busyCards.delete(id);
  });
  document.addEventListener("htmx:before:swap", (e) => {
    if (e.target !== liveEl() || busyCards.size === 0) return;
    const tasks = e.detail?.tasks;
    if (!Array.isArray(tasks)) return;
    for (let i = tasks.length - 1; i >= 0; i--) {
      const target = tasks[i].target;
      if (target instanceof Element && busyCards.has(target.id)) {
        tasks.splice(i, 1);
      }
    }
  });

  /** What the hub says: the connection's state, a frame of this page's filter, a notification to show. */
  async function fromHub(msg) {
    if (msg.type === "status") return setStatus(msg.state, msg.text);
    if (msg.type === "login") {
      location.href = `/login?next=${
        encodeURIComponent(location.pathname + location.search)
      }`;
      return;
    }
    if (msg.type === "notify") return notify(msg.text, msg.ticket);
    if (msg.type === "presence") return showPresence(msg.present ?? {});
    if (msg.type !== "frame" || msg.id <= lastFrame) return;
    lastFrame = msg.id;
    const target = liveEl();
    if (!target) return;
    if (msg.event) {
      // Named events (ticket-changed, reload) are DOM events on #live.
      htmx.trigger(target, msg.event, { data: msg.data, id: msg.id });
      return;
    }
    if (msg.data) {
      await htmx.swap({
        text: msg.data,
        swap: "none swapEmpty:false",
        target,
        sourceElement: target,
      });
    }
    drainIncoming();
    readNotes();
  }

  // ---- New cards: slide in at the top, or wait behind a button ---------------

  function atRest() {
    const focused = document.activeElement?.closest?.(".ticket-card");
    return !document.hidden && scrollY < 200 && !focused &&
      !document.querySelector("dialog[open]");
  }

  function placeAtTop(cards) {
    const grid = document.getElementById("cards");
    if (!grid) return;
    document.getElementById("empty")?.remove();
    // Newest first: insert in reverse so the newest ends up on top.
    for (const card of [...cards].reverse()) {
      const old = grid.querySelector(`#${CSS.escape(card.id)}`);
      if (old) old.replaceWith(card);
      else grid.prepend(card);
      card.classList.add("arrived");
    }
    // The sentence's two forms come with the board (BoardSummary in
    // views/ticket_card.tsx); only the count is ours.
    const summary = document.getElementById("board-summary");
    if (summary?.dataset.many) {
      const n = grid.querySelectorAll(".ticket-card").length;
      const more = document.querySelector("#more a") ? "+" : "";
      summary.textContent = n === 1 && !more
        ? summary.dataset.one
        : summary.dataset.many.replace("{n}", `${n}${more}`);
    }
  }

  function showHeld() {
    if (held.length === 0) return;
    const cards = held;
    held = [];
    placeAtTop(cards);
    unseen = 0;
    updateHeldButton();
    updateTitle();
    return cards;
  }

  function updateHeldButton() {
    const button = document.getElementById("new-tickets");
    if (!button) return;
    button.hidden = held.length === 0;
    button.textContent = held.length === 1
      ? "1 new ticket"
      : `${held.length} new tickets`;
  }

  function drainIncoming() {
    const incoming = document.getElementById("incoming");
    if (!incoming || incoming.children.length === 0) return;
    const fresh = [...incoming.children];
    for (const card of fresh) card.remove();
    if (atRest() && held.length === 0) {
      placeAtTop(fresh);
      return;
    }
    // Newest first, ahead of what was already waiting.
    const ids = new Set(fresh.map((c) => c.id));
    held = [...fresh, ...held.filter((c) => !ids.has(c.id))];
    unseen = held.length;
    updateHeldButton();
    updateTitle();
  }

  function revealHeld() {
    const cards = showHeld();
    if (!cards?.length) return;
    scrollTo({ top: 0, behavior: "smooth" });
    cards[0].focus({ preventScroll: true });
  }

  document.addEventListener("click", (e) => {
    if (e.target instanceof Element && e.target.closest("#new-tickets")) {
      revealHeld();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "." || e.ctrlKey || e.metaKey || e.altKey) return;
    if (
      e.target instanceof Element &&
      e.target.closest("input, textarea, select, [contenteditable]")
    ) return;
    if (held.length === 0) return;
    e.preventDefault();
    revealHeld();
  });
  // Scrolled back to the top: whatever waited can slide in now.
  addEventListener("scroll", () => {
    if (held.length && atRest()) showHeld();
  }, { passive: true });

  function updateTitle() {
    document.title = unseen > 0 ? `(${unseen}) ${baseTitle}` : baseTitle;
  }

  // ---- Toasts and desktop notifications --------------------------------------

  const toasts = () => document.getElementById("toasts");

  function toast(text, ticketId) {
    const box = toasts();
    if (!box) return;
    const item = document.createElement("div");
    item.className = "toast";
    const link = document.createElement(ticketId ? "a" : "span");
    if (ticketId) link.href = `/tickets/${ticketId}`;
    link.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "secondary outline";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => item.remove());
    item.append(link, close);
    box.append(item);
    while (box.children.length > 4) box.firstElementChild.remove();
    setTimeout(() => item.remove(), 8000);
  }

  function notify(text, ticketId) {
    if (!("Notification" in window) || Notification.permission !== "granted") {
      return; // the toast already said it
    }
    try {
      const n = new Notification(text, {
        tag: `ticket-${ticketId}`,
        body: "Ticket desk",
      });
      n.onclick = () => {
        focus();
        // The hub picked this tab because it shows the ticket, if one does.
        if (location.pathname !== `/tickets/${ticketId}`) {
          location.href = `/tickets/${ticketId}`;
        }
        n.close();
      };
    } catch {
      /* some browsers only notify from a service worker: toasts stay */
    }
  }

  // A burst of new tickets is one toast that counts, not a wall of toasts. Its
  // number is the button's when they wait behind it, so the two never differ.
  let burst = null;
  function toastNewTicket(text, ticketId) {
    const waiting = held.length;
    const words = waiting > 0
      ? `${
        waiting === 1 ? "1 new ticket" : `${waiting} new tickets`
      } waiting: press . to show`
      : null;
    if (burst?.item.isConnected && Date.now() - burst.at < 5000) {
      burst.count++;
      burst.at = Date.now();
      const link = burst.item.querySelector("a");
      link.href = `/tickets/${ticketId}`;
      link.textContent = words ??
        `${burst.count} new tickets, the latest: ${text}`;
      return;
    }
    toast(words ?? text, ticketId);
    burst = { item: toasts()?.lastElementChild, count: 1, at: Date.now() };
  }

  function readNotes() {
    const notes = document.getElementById("live-notes");
    if (!notes) return;
    for (const note of [...notes.children]) {
      note.remove();
      const d = note.dataset;
      if (d.actor === me()) continue; // your own change is already on screen
      const text = note.textContent.trim();
      // A new ticket this view shows is counted with the others; one it does
      // not show is its own toast.
      const shown = d.type === "ticket.created" &&
        (document.getElementById(`ticket-${d.ticket}`) ||
          held.some((c) => c.id === `ticket-${d.ticket}`));
      if (shown) toastNewTicket(text, d.ticket);
      else toast(text, d.ticket);
      // Desktop notifications come from the hub: one per event per browser.
    }
  }

  function setUpNotifyButton() {
    const button = document.getElementById("notify");
    if (!button || !("Notification" in window)) return;
    const sync = () => {
      button.hidden = Notification.permission !== "default";
    };
    sync();
    button.addEventListener("click", async () => {
      // Asked only on this click, never on page load.
      await Notification.requestPermission();
      sync();
      toast(
        Notification.permission === "granted"
          ? "Desktop notifications are on"
          : "Desktop notifications are off: updates show here instead",
        "",
      );
    });
  }
  setUpNotifyButton();

  // The server could not replay what was missed (too long offline): refetch.
  // A ticket page brings its parts up to date itself (static/ticket_page.js).
  document.addEventListener("reload", (e) => {
    if (e.target !== liveEl()) return;
    if (document.getElementById("board")) {
      htmx.ajax("GET", location.pathname + location.search, {
        target: "#board",
        swap: "outerHTML",
      });
    } else if (!document.querySelector(".ticket-layout")) {
      location.reload();
    }
  });

  // A ticket page's own changes (ticket-changed) are handled by
  // static/ticket_page.js: they appear in place, so they make no toast here.

  // ---- The Reports page ------------------------------------------------------

  // A frame says the figures may have changed: refetch #report, at once when
  // the last refetch is 5 seconds old, else when it will be (one refetch
  // however many events come meanwhile).
  const REPORT_EVERY_MS = 5000;
  let reportAt = 0;
  let reportTimer = 0;
  document.addEventListener("report-changed", (e) => {
    if (e.target !== liveEl() || reportTimer) return;
    if (!document.getElementById("report")) return;
    reportTimer = setTimeout(() => {
      reportTimer = 0;
      reportAt = Date.now();
      htmx.ajax("GET", location.pathname + location.search, {
        target: "#report",
        swap: "outerHTML",
      });
    }, Math.max(0, reportAt + REPORT_EVERY_MS - Date.now()));
  });
})();
