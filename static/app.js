// Ticket desk: keyboard shortcuts, focus care after htmx swaps, fresh relative
// times. Everything here is an enhancement: every action also works as a plain
// form or link without JavaScript.
"use strict";

(() => {
  const TYPING =
    "input, textarea, select, [contenteditable=''], [contenteditable='true']";
  const STATUS_KEYS = { o: "o", p: "p", c: "c" };

  /** A polite live region for outcomes that have no visible message of their own. */
  const announcer = document.createElement("div");
  announcer.className = "visually-hidden";
  announcer.setAttribute("aria-live", "polite");
  announcer.id = "announcer";
  document.body.append(announcer);

  function announce(text) {
    announcer.textContent = "";
    // A change after a frame is announced even when the text repeats.
    requestAnimationFrame(() => (announcer.textContent = text));
  }

  function cards() {
    return [...document.querySelectorAll(".ticket-card")];
  }

  // The card last focused: a swap replaces the focused card and focus comes back
  // a moment later; a key pressed in between still acts where the admin was.
  let lastCardId = null;
  document.addEventListener("focusin", (e) => {
    const card = e.target instanceof Element &&
      e.target.closest(".ticket-card");
    if (card) lastCardId = card.id;
  });

  function currentCard() {
    const active = document.activeElement;
    const card = active?.closest?.(".ticket-card");
    if (card) return card;
    if ((!active || active === document.body) && lastCardId) {
      return document.getElementById(lastCardId);
    }
    return null;
  }

  function focusCard(card) {
    if (!card) return;
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = cards();
    if (all.length === 0) return;
    const i = all.indexOf(currentCard());
    const next = i < 0 ? (step > 0 ? 0 : all.length - 1) : i + step;
    focusCard(all[Math.max(0, Math.min(all.length - 1, next))]);
  }

  /** The card or status panel a status key acts on. */
  function statusScope() {
    return currentCard() ?? document.getElementById("ticket-status");
  }

  function openHelp() {
    const dialog = document.getElementById("keys-help");
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target instanceof Element && e.target.closest(TYPING)) return;
    if (document.querySelector("dialog[open]")) return; // Esc is the dialog's own
    const key = e.key;
    if (key === "j" || key === "k") {
      e.preventDefault();
      move(key === "j" ? 1 : -1);
    } else if (
      key === "Enter" && e.target instanceof Element &&
      e.target.matches(".ticket-card")
    ) {
      e.preventDefault();
      e.target.querySelector("a[data-open]")?.click();
    } else if (key in STATUS_KEYS) {
      const button = statusScope()?.querySelector(
        `[data-status-key="${STATUS_KEYS[key]}"]`,
      );
      if (button) {
        e.preventDefault();
        button.click();
      }
    } else if (key === "/") {
      const search = document.getElementById("q");
      if (search) {
        e.preventDefault();
        search.focus();
        search.select();
      }
    } else if (key === "?") {
      e.preventDefault();
      openHelp();
    }
  });

  for (const button of document.querySelectorAll("[data-open-help]")) {
    button.hidden = false;
    button.addEventListener("click", openHelp);
  }

  document.addEventListener("click", (e) => {
    const dismiss = e.target instanceof Element &&
      e.target.closest("[data-dismiss]");
    if (dismiss) {
      dismiss.closest(".error-notice")?.remove();
      document.getElementById("main")?.focus();
    }
  });

  // Old error messages go once the next request starts.
  document.addEventListener("htmx:before:request", () => {
    const flash = document.getElementById("flash");
    if (flash) flash.textContent = "";
  });

  // Focus is never lost to <body> by a swap: htmx restores it by id when it can;
  // otherwise it moves to the new content's [data-swap-focus], or its first card.
  let focusedBeforeSwap = null;
  document.addEventListener("htmx:before:swap", () => {
    focusedBeforeSwap = document.activeElement;
  });
  document.addEventListener("htmx:after:settle", (e) => {
    // Live updates are announced by their toasts (static/live.js), not here.
    if (e.target instanceof Element && e.target.id === "live") return;
    const fresh = (e.detail?.newContent ?? []).filter((n) =>
      n instanceof Element
    );
    const said = fresh.find((n) => n.dataset.announce);
    if (said) announce(said.dataset.announce);
    const status = fresh.find((n) => n.matches(".ticket-card"));
    if (status && fresh.length === 1) {
      announce(
        `Ticket ${status.dataset.ticketId} is ${
          status.querySelector(".badge")?.textContent
        }`,
      );
    }
    // Let htmx's own autofocus run first.
    setTimeout(() => {
      const lost = focusedBeforeSwap && !focusedBeforeSwap.isConnected &&
        (document.activeElement === document.body || !document.activeElement);
      if (!lost) return;
      focusedBeforeSwap = null;
      const target = fresh.map((n) =>
        n.matches("[data-swap-focus]")
          ? n
          : n.querySelector("[data-swap-focus]")
      )
        .find(Boolean) ??
        fresh.find((n) =>
          n.matches(".ticket-card")
        ) ?? fresh[0];
      if (!target) return;
      if (target.tabIndex < 0 && !target.hasAttribute("tabindex")) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus({ preventScroll: true });
    }, 0);
  });

  // Relative times ("3 minutes ago") are rendered by the server; keep them fresh.
  const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  const units = [
    ["year", 31536000],
    ["month", 2592000],
    ["week", 604800],
    ["day", 86400],
    ["hour", 3600],
    [
      "minute",
      60,
    ],
  ];
  function refreshTimes() {
    const now = Date.now();
    for (const t of document.querySelectorAll("time[data-relative]")) {
      const seconds = (Date.parse(t.dateTime) - now) / 1000;
      const unit = units.find(([, size]) => Math.abs(seconds) >= size);
      t.textContent = unit
        ? relative.format(Math.round(seconds / unit[1]), unit[0])
        : "just now";
    }
  }
  setInterval(refreshTimes, 60_000);
})();
