// Ticket desk, live: the connection indicator, reconnecting, new cards that
// never jump under the cursor, toasts, desktop notifications and the unseen
// count in the title. htmx's SSE extension does the streaming and swapping;
// this file only decides what the admin sees, and when.
"use strict";

(() => {
  const liveEl = () => document.getElementById("live");
  const statusEl = document.getElementById("live-status");
  if (!statusEl) return; // a page without a stream

  const me = () => liveEl()?.dataset.user ?? "";
  const baseTitle = document.title;
  let unseen = 0;
  let held = [];
  let firstTries = 0;
  let firstTimer = 0;

  // ---- Connection status ---------------------------------------------------

  function setStatus(state, text) {
    if (statusEl.dataset.state === state && statusEl.textContent === text) {
      return;
    }
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  /** The wait before reconnect attempt n (htmx's own backoff: base × 2^(n-1), at most 60 s). */
  function backoff(attempt, base) {
    return Math.min(base * 2 ** Math.max(0, attempt - 1), 60_000);
  }

  function reconnecting(ms) {
    if (!navigator.onLine) return setStatus("offline", "Offline");
    const s = Math.max(1, Math.round(ms / 1000));
    setStatus("reconnecting", `Reconnecting… next try in ${s} s`);
  }

  document.addEventListener("htmx:sse:after:connection", (e) => {
    if (e.target !== liveEl()) return;
    firstTries = 0;
    setStatus("live", "Live");
  });

  document.addEventListener("htmx:sse:before:connection", (e) => {
    const c = e.detail?.connection;
    if (e.target !== liveEl() || !c || c.attempt === 0) return;
    reconnecting(backoff(c.attempt, Number(c.config?.reconnectDelay) || 1000));
  });

  document.addEventListener("htmx:sse:error", (e) => {
    if (e.target !== liveEl()) return;
    // The session ended: reconnecting cannot help; log in again and come back.
    if (e.detail?.status === 401) {
      location.href = `/login?next=${
        encodeURIComponent(location.pathname + location.search)
      }`;
    }
  });

  // htmx does not retry a failed *first* connect (it would swap the error body;
  // #live swaps nothing): retry it here with backoff.
  function firstConnectFailed(e) {
    const el = liveEl();
    if (e.target !== el || el._htmx?.sse) return;
    clearTimeout(firstTimer);
    const wait = backoff(++firstTries, 1000);
    reconnecting(wait);
    firstTimer = setTimeout(() => {
      if (el.isConnected && !el._htmx?.sse) htmx.trigger(el, "desk:reconnect");
    }, wait);
  }
  document.addEventListener("htmx:error", firstConnectFailed);
  document.addEventListener("htmx:after:request", (e) => {
    if (e.detail?.ctx?.response?.status >= 300) firstConnectFailed(e);
  });

  /** Try again now: the network came back or the tab became visible. */
  function kick() {
    const el = liveEl();
    if (!el) return;
    const c = el._htmx?.sse;
    if (c?.delayCanceller) c.delayCanceller();
    else if (!c) {
      clearTimeout(firstTimer);
      htmx.trigger(el, "desk:reconnect");
    }
  }
  addEventListener("online", () => {
    const c = liveEl()?._htmx?.sse;
    // The stream may have survived the blip: then it is simply live again.
    if (c && !c.delayCanceller && c.reader) setStatus("live", "Live");
    else kick();
  });
  addEventListener("offline", () => setStatus("offline", "Offline"));
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    kick();
    if (atRest()) showHeld();
    updateTitle();
  });

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
    const summary = document.getElementById("board-summary");
    const n = grid.querySelectorAll(".ticket-card").length;
    const more = document.querySelector("#more a") ? "+" : "";
    if (summary) {
      summary.textContent = `Showing the newest ${n}${more} ${
        n === 1 && !more ? "ticket" : "tickets"
      }.`;
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

  // If the stream connected before this file ran, say so now.
  if (liveEl()?._htmx?.sse?.reader) setStatus("live", "Live");

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
        location.href = `/tickets/${ticketId}`;
      };
    } catch {
      /* some browsers only notify from a service worker: toasts stay */
    }
  }

  // A burst of new tickets is one toast that counts, not a wall of toasts.
  let burst = null;
  function toastNewTicket(text, ticketId) {
    if (burst?.item.isConnected && Date.now() - burst.at < 5000) {
      burst.count++;
      burst.at = Date.now();
      const link = burst.item.querySelector("a");
      link.href = `/tickets/${ticketId}`;
      link.textContent = `${burst.count} new tickets, the latest: ${text}`;
      return;
    }
    toast(text, ticketId);
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
      if (d.type === "ticket.created") toastNewTicket(text, d.ticket);
      else toast(text, d.ticket);
      const statusChange = d.type === "ticket.updated" &&
        /set #\d+ to /.test(text);
      if (d.type === "ticket.created" || statusChange) notify(text, d.ticket);
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

  // ---- After each message ----------------------------------------------------

  document.addEventListener("htmx:sse:after:message", (e) => {
    if (e.target !== liveEl()) return;
    drainIncoming();
    readNotes();
  });

  // The server could not replay what was missed (too long offline): refetch.
  document.addEventListener("reload", (e) => {
    if (e.target !== liveEl()) return;
    if (document.getElementById("board")) {
      htmx.ajax("GET", location.pathname + location.search, {
        target: "#board",
        swap: "outerHTML",
      });
    } else if (!editing()) {
      location.reload();
    }
  });

  // ---- The ticket page -------------------------------------------------------

  function editing() {
    const draft = document.getElementById("comment-body");
    return Boolean(
      document.getElementById("description-text") ||
        (draft && draft.value.trim()),
    );
  }

  function banner(text) {
    let b = document.getElementById("live-banner");
    if (!b) {
      b = document.createElement("p");
      b.id = "live-banner";
      b.className = "live-banner";
      b.setAttribute("role", "status");
      const main = document.getElementById("main");
      main?.prepend(b);
    }
    b.textContent = `${text}. `;
    const show = document.createElement("a");
    show.href = location.href;
    show.textContent = "Show the latest";
    b.append(show);
  }

  function refreshTicket() {
    htmx.ajax("GET", location.pathname + location.search, {
      target: ".ticket-layout",
      select: ".ticket-layout",
      swap: "outerHTML",
    });
  }

  document.addEventListener("ticket-changed", (e) => {
    if (e.target !== liveEl()) return;
    let change;
    try {
      change = JSON.parse(e.detail?.data ?? "{}");
    } catch {
      return;
    }
    if (change.actor === me()) return;
    toast(
      change.text ?? "This ticket changed",
      location.pathname.split("/").pop(),
    );
    // Never overwrite what the admin is typing: say what happened instead.
    if (editing()) banner(`This ticket was changed by ${change.actor}`);
    else refreshTicket();
  });
})();
