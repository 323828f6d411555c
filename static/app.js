// Ticket desk: keyboard shortcuts, focus care after htmx swaps, fresh relative
// times. Everything here is an enhancement: every action also works as a plain
// form or link without JavaScript.
"use strict";

(() => {
  const TYPING =
    "input, textarea, select, [contenteditable=''], [contenteditable='true']";
  // Keys that press a card's (or the ticket page's) button: status o/p/c,
  // take t, priority 1–4 (on a card, its priority select).
  const ACTION_KEYS = new Set(["o", "p", "c", "t", "1", "2", "3", "4"]);
  const PRIORITIES = ["Low", "Normal", "High", "Urgent"];
  document.documentElement.classList.add("js");

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

  /** Whether a card is a placeholder for a ticket that left the view. */
  const isMoved = (card) => card?.classList.contains("moved");

  // The card the admin is on. Key handlers move it at once; focus follows, but a
  // swap (a status change, the live stream) can take focus away for a moment and
  // keys typed meanwhile still mean this card.
  let currentId = null;
  document.addEventListener("focusin", (e) => {
    const card = e.target instanceof Element &&
      e.target.closest(".ticket-card");
    if (card) currentId = card.id;
  });

  function currentCard() {
    const active = document.activeElement;
    const card = active?.closest?.(".ticket-card");
    if (card) return card;
    if ((!active || active === document.body) && currentId) {
      return document.getElementById(currentId);
    }
    return null;
  }

  function focusCard(card) {
    if (!card) return;
    currentId = card.id;
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }

  // `j` on the last card loaded asks for the next page, then goes on there.
  let moveAfterLoad = false;

  function move(step) {
    const all = cards();
    if (all.length === 0) return;
    let i = all.indexOf(currentCard());
    if (i < 0) i = step > 0 ? -1 : all.length;
    // Step over placeholders of tickets that left the view.
    let next = i + step;
    while (next >= 0 && next < all.length && isMoved(all[next])) next += step;
    if (next >= all.length) {
      const more = document.querySelector("#more a");
      if (more) {
        moveAfterLoad = true;
        more.click();
      } else {
        announce("That is the last ticket in this view");
      }
      return;
    }
    if (next < 0) return;
    focusCard(all[next]);
  }
  document.addEventListener("htmx:after:settle", (e) => {
    if (!moveAfterLoad) return;
    const fresh = e.detail?.newContent ?? [];
    if (!fresh.some((n) => n instanceof Element && n.matches(".ticket-card"))) {
      return;
    }
    moveAfterLoad = false;
    queueMicrotask(() => move(1));
  });

  /** The card or triage panel a key acts on. */
  function statusScope() {
    return currentCard() ?? document.getElementById("ticket-status");
  }

  /** What a key does in a scope: the control to press, or null when it has none. */
  function actionFor(scope, key) {
    const button = scope?.querySelector(
      "ocp".includes(key)
        ? `[data-status-key="${key}"]`
        : `button[data-key="${key}"]`,
    );
    if (button) {
      // A card's Take sits beside Unassign; on your own card it is hidden and means nothing.
      if (key === "t" && button.closest(".ticket-card.mine")) return null;
      return { form: button.form, run: () => button.click() };
    }
    const select = /^[1-4]$/.test(key) &&
      scope?.querySelector("[data-priority-select]");
    if (!select) return null;
    return {
      form: select.form,
      run: () => {
        const wanted = PRIORITIES[Number(key) - 1];
        if (select.value === wanted) return false;
        select.value = wanted;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      },
    };
  }

  // Status keys wait in line, each bound to the card it was typed on. A status
  // form's button is only clicked once htmx has taken that form (htmx starts on
  // a timer after this script, and a swapped-in card is wired only after it
  // settles): clicked earlier, the browser submits the form itself and reloads
  // the page, and the keys typed after it land on a page that forgot the card.
  // One status request at a time, so a second key on a card posts the version
  // the first one produced instead of a stale one.
  const statusQueue = [];
  let statusInFlight = null; // the htmx request context of the key's change

  function ready(form) {
    return !globalThis.htmx || form.hasAttribute("data-htmx-powered");
  }

  function drainStatusQueue() {
    while (statusQueue.length > 0 && !statusInFlight) {
      const { scopeId, key } = statusQueue[0];
      const action = actionFor(document.getElementById(scopeId), key);
      if (action?.form && !ready(action.form)) return; // retried when htmx has wired it
      statusQueue.shift();
      if (!action) continue; // the card has left the page
      const form = action.form;
      let started = null;
      const start = (e) => (started = e.detail?.ctx ?? null);
      form?.addEventListener("htmx:before:request", start, { once: true });
      action.run(); // htmx starts the request synchronously
      form?.removeEventListener("htmx:before:request", start);
      statusInFlight = started;
    }
  }
  document.addEventListener("htmx:after:process", drainStatusQueue);
  // htmx fires this on the document when the swap has taken the form away.
  document.addEventListener("htmx:finally:request", (e) => {
    if (!statusInFlight || e.detail?.ctx !== statusInFlight) return;
    statusInFlight = null;
    drainStatusQueue();
  });

  function queueStatus(scope, key) {
    statusQueue.push({ scopeId: scope.id, key });
    drainStatusQueue();
  }

  // ---- Owners: the picker (key a), your own cards, selecting for a bulk change ----

  /** Opens the owner picker for a card (the dialog), or focuses the ticket page's picker. */
  function openPicker(scope) {
    const inPage = scope.querySelector(".assignee-picker select");
    if (inPage) return inPage.focus();
    const dialog = document.getElementById("assign-dialog");
    const id = scope.dataset.ticketId;
    if (!dialog || !id) return;
    const form = document.getElementById("assign-form");
    const from = scope.querySelector(".owner-take form, form.owner-take");
    form.setAttribute("hx-post", `/tickets/${id}/assignee`);
    form.setAttribute("hx-target", `#${scope.id}`);
    form.action = `/tickets/${id}/assignee`;
    form.elements.version.value = from?.elements.version.value ?? "";
    form.elements.seen.value = scope.dataset.owner ?? "";
    form.elements.assignee.value = scope.dataset.owner ?? "";
    htmx.process(form, true);
    dialog.showModal();
  }
  document.addEventListener("submit", (e) => {
    if (e.target?.id === "assign-form") {
      e.target.closest("dialog")?.close();
    }
  }, true);
  document.addEventListener("click", (e) => {
    const close = e.target instanceof Element &&
      e.target.closest("[data-close-dialog]");
    if (close) close.closest("dialog")?.close();
  });

  const me = () => document.getElementById("live")?.dataset.user ?? "";

  /** Marks the viewer's own cards (cards from the stream are the same for everyone). */
  function markMine(root = document) {
    const user = me();
    if (!user) return;
    for (const card of root.querySelectorAll(".ticket-card")) {
      card.classList.toggle("mine", card.dataset.owner === user);
    }
    // The Mine count is the viewer's share of the per-owner numbers.
    const all = document.getElementById("owner-count-all");
    const mine = document.getElementById("owner-count-mine");
    if (all?.dataset.byOwner && mine) {
      try {
        mine.textContent = String(JSON.parse(all.dataset.byOwner)[user] ?? 0);
      } catch { /* leave the count the page came with */ }
    }
  }
  markMine();
  document.addEventListener("htmx:after:settle", () => markMine());

  // Selecting cards for a bulk change: Shift-click selects a range, the
  // header box selects every card on the page, and the count says how many.
  let lastBox = null;
  function selectedBoxes() {
    return [...document.querySelectorAll("[data-select]:checked")];
  }
  function updateBulkCount() {
    const count = document.getElementById("bulk-count");
    if (!count) return;
    const n = selectedBoxes().length;
    count.textContent = n === 0 ? "" : n === 1 ? "1 selected" : `${n} selected`;
    count.closest(".bulk-bar")?.classList.toggle("has-selection", n > 0);
    const all = document.getElementById("select-all");
    const boxes = document.querySelectorAll("[data-select]");
    if (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
  }
  document.addEventListener("click", (e) => {
    const box = e.target instanceof Element &&
      e.target.closest("[data-select]");
    if (!box) return;
    if (e.shiftKey && lastBox?.isConnected && lastBox !== box) {
      const boxes = [...document.querySelectorAll("[data-select]")];
      const [a, b] = [boxes.indexOf(lastBox), boxes.indexOf(box)].sort((x, y) =>
        x - y
      );
      for (const other of boxes.slice(a, b + 1)) other.checked = box.checked;
    }
    lastBox = box;
    queueMicrotask(updateBulkCount);
  });
  document.addEventListener("change", (e) => {
    if (!(e.target instanceof Element)) return;
    if (e.target.matches("[data-select-all]")) {
      for (const box of document.querySelectorAll("[data-select]")) {
        box.checked = e.target.checked;
      }
    }
    if (e.target.matches("[data-select], [data-select-all]")) updateBulkCount();
  });

  function openHelp() {
    const dialog = document.getElementById("keys-help");
    if (dialog && !dialog.open) dialog.showModal();
  }

  // ---- Search: Escape leaves the field (a second one clears it), Enter shows the results ----

  let leftSearch = false; // the last Escape left a search that still has text
  let focusResults = false; // Enter in search: focus the first result when it arrives

  document.addEventListener("keydown", (e) => {
    const search = e.target instanceof Element && e.target.id === "q"
      ? e.target
      : null;
    if (search && e.key === "Escape") {
      // Not the browser's own Escape, which clears the field and reloads the board.
      e.preventDefault();
      search.blur();
      leftSearch = search.value !== "";
      document.getElementById("main")?.focus({ preventScroll: true });
    } else if (search && e.key === "Enter") {
      focusResults = true;
    } else if (
      e.key === "Escape" && leftSearch && !e.target.closest?.(TYPING)
    ) {
      const q = document.getElementById("q");
      if (q && q.value && !document.querySelector("dialog[open]")) {
        e.preventDefault();
        q.value = "";
        q.form?.requestSubmit();
        announce("Search cleared");
      }
      leftSearch = false;
    } else if (e.key !== "Shift") {
      leftSearch = false;
    }
  }, true);
  document.addEventListener("htmx:after:settle", (e) => {
    if (!focusResults) return;
    const board = (e.detail?.newContent ?? []).find((n) =>
      n instanceof Element && n.id === "board"
    );
    if (!board) return;
    focusResults = false;
    const first = board.querySelector(".ticket-card");
    // After htmx's own focus restore, which runs right after this event.
    if (first) queueMicrotask(() => focusCard(first));
  });

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
    } else if (ACTION_KEYS.has(key)) {
      const scope = statusScope();
      if (actionFor(scope, key)) {
        e.preventDefault();
        queueStatus(scope, key);
      }
    } else if (key === "x") {
      const box = currentCard()?.querySelector("[data-select]");
      if (box) {
        e.preventDefault();
        box.click();
      }
    } else if (key === "a") {
      const scope = statusScope();
      if (scope) {
        e.preventDefault();
        openPicker(scope);
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
    } else if (key === "u") {
      const undo = document.querySelector("#undo [data-undo]");
      if (undo) {
        e.preventDefault();
        undo.click();
      }
    } else if (key === "v") {
      const other = document.querySelector(
        '[data-layout-button][aria-pressed="false"]',
      );
      if (other) {
        e.preventDefault();
        other.click();
      }
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
  // otherwise it moves to the card the admin is on, or to the new content's
  // [data-swap-focus], or its first card.
  let focusedBeforeSwap = null;
  document.addEventListener("htmx:before:swap", () => {
    focusedBeforeSwap = document.activeElement;
  });

  /** What a card that a change of one's own swapped in says: its status, or where it went. */
  function cardWords(card) {
    const id = card.dataset.ticketId;
    if (card.matches(".moved")) {
      const where = card.querySelector("p")?.textContent.trim() ?? "";
      return where.replace(`#${id}`, `Ticket ${id}`);
    }
    return `Ticket ${id} is ${card.querySelector(".badge")?.textContent}`;
  }

  function fromLive(e) {
    const live = document.getElementById("live");
    return live !== null &&
      (e.target === live || e.detail?.task?.sourceElement === live);
  }

  function restoreFocus(before, fresh) {
    const active = document.activeElement;
    if (active && active !== document.body) return; // htmx put it back, or the admin moved on
    if (!before || before === document.body || before.isConnected) return;
    const card = before.closest(".ticket-card") && currentId &&
      document.getElementById(currentId);
    const target = card ||
      fresh.map((n) =>
        n.matches("[data-swap-focus]")
          ? n
          : n.querySelector("[data-swap-focus]")
      ).find(Boolean) ||
      fresh.find((n) => n.matches(".ticket-card")) || fresh[0];
    if (!target) return;
    if (target.tabIndex < 0 && !target.hasAttribute("tabindex")) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus({ preventScroll: true });
  }

  document.addEventListener("htmx:after:settle", (e) => {
    // Live updates are announced by their toasts (static/live.js), not here:
    // the stream's partials settle on the cards they replace, with #live as
    // their source, so a colleague's change (or the echo of one's own) is not
    // said twice, nor over what the agent just did.
    if (fromLive(e)) return;
    const fresh = (e.detail?.newContent ?? []).filter((n) =>
      n instanceof Element
    );
    const said = fresh.find((n) => n.dataset.announce);
    if (said) announce(said.dataset.announce);
    const card = fresh.find((n) => n.matches(".ticket-card"));
    if (card && fresh.length === 1) announce(cardWords(card));
    // After htmx's own autofocus, which runs right after this event, and before
    // any key typed meanwhile is handled (a timer would let one in between).
    const before = focusedBeforeSwap;
    queueMicrotask(() => restoreFocus(before, fresh));
  });

  // Relative times ("3 minutes ago") are rendered by the server, which puts the
  // table it used on <body> (views/relative_time.ts); keep them fresh with it.
  const times = JSON.parse(document.body.dataset.relativeTime ?? "null");
  function refreshTimes() {
    if (!times) return;
    const format = new Intl.RelativeTimeFormat(times.locale, {
      numeric: "auto",
    });
    const now = Date.now();
    for (const t of document.querySelectorAll("time[data-relative]")) {
      const seconds = (Date.parse(t.dateTime) - now) / 1000;
      const unit = times.units.find(([, size]) => Math.abs(seconds) >= size);
      t.textContent = unit
        ? format.format(Math.round(seconds / unit[1]), unit[0])
        : times.justNow;
    }
    // How long a ticket has waited: "3 h".
    for (const t of document.querySelectorAll("time[data-age]")) {
      const seconds = (now - Date.parse(t.dateTime)) / 1000;
      const unit = times.age.units.find(([, size]) => seconds >= size);
      t.textContent = unit
        ? `${Math.floor(seconds / unit[1])} ${unit[0]}`
        : times.age.under;
    }
  }
  setInterval(refreshTimes, 60_000);

  // ---- Undo: the offer stays 8 seconds (longer while pointed at or focused) ----

  const UNDO_MS = 8000;
  let undoTimer = null;

  function undoRegion() {
    return document.getElementById("undo");
  }

  function clearUndo() {
    const region = undoRegion();
    if (!region) return;
    const hadFocus = region.contains(document.activeElement);
    region.replaceChildren();
    if (hadFocus) focusCard(document.getElementById(currentId ?? ""));
    sizeDock();
  }

  function armUndo() {
    clearTimeout(undoTimer);
    const region = undoRegion();
    if (!region?.firstElementChild) return;
    undoTimer = setTimeout(function expire() {
      // Not while the agent is on its button.
      if (region.matches(":hover") || region.contains(document.activeElement)) {
        undoTimer = setTimeout(expire, 1000);
        return;
      }
      clearUndo();
    }, UNDO_MS);
    sizeDock();
  }
  // An offer comes out of band with a change; the page may also load with one.
  document.addEventListener("htmx:after:settle", () => {
    const region = undoRegion();
    if (
      region?.firstElementChild && region.dataset.armed !== region.innerHTML
    ) {
      region.dataset.armed = region.innerHTML;
      armUndo();
    }
  });
  if (undoRegion()?.firstElementChild) armUndo();
  document.addEventListener("click", (e) => {
    if (
      e.target instanceof Element && e.target.closest("[data-dismiss-undo]")
    ) {
      clearUndo();
    }
  });

  // ---- Placeholders of tickets that left the view go after a moment ----------

  const placeholderTimers = new WeakSet();

  function retirePlaceholders() {
    for (const card of document.querySelectorAll(".ticket-card.moved")) {
      if (placeholderTimers.has(card)) continue;
      placeholderTimers.add(card);
      setTimeout(function retire() {
        if (!card.isConnected || !card.classList.contains("moved")) return;
        // Kept while it is pointed at or focused; the keyboard moves on with j/k.
        if (card.matches(":hover") || card.contains(document.activeElement)) {
          setTimeout(retire, 1000);
          return;
        }
        const wasCurrent = currentId === card.id;
        const after = card.nextElementSibling?.closest?.(".ticket-card") ??
          card.previousElementSibling?.closest?.(".ticket-card");
        card.remove();
        if (wasCurrent && after && !isMoved(after)) currentId = after.id;
      }, UNDO_MS);
    }
  }
  retirePlaceholders();
  document.addEventListener("htmx:after:settle", retirePlaceholders);

  // ---- Back from a ticket: the same card, where it was --------------------------

  const RETURN_KEY = "desk:return";
  const LIST_KEY = "desk:list";

  /** Remembers, for this tab, where the agent was and the list around the ticket being opened. */
  function rememberPlace(card) {
    if (!document.getElementById("board")) return;
    const here = location.pathname + location.search;
    try {
      sessionStorage.setItem(
        RETURN_KEY,
        JSON.stringify({ url: here, id: card.id, y: scrollY }),
      );
      const ids = cards().filter((c) => !isMoved(c)).map((c) =>
        Number(c.dataset.ticketId)
      );
      sessionStorage.setItem(LIST_KEY, JSON.stringify({ back: here, ids }));
    } catch { /* storage full or off: back still works, without the place */ }
  }
  document.addEventListener("click", (e) => {
    const open = e.target instanceof Element &&
      e.target.closest("a[data-open]");
    const card = open?.closest(".ticket-card");
    if (card) rememberPlace(card);
  }, true);

  // A card further down than the first page: load pages until it is there.
  let restoring = null;

  function restorePlace(given) {
    let place = given;
    if (!place) {
      try {
        place = JSON.parse(sessionStorage.getItem(RETURN_KEY) ?? "null");
      } catch {
        return;
      }
    }
    if (!place || place.url !== location.pathname + location.search) return;
    const card = document.getElementById(place.id);
    if (!card) {
      const more = document.querySelector("#more a");
      if (more && (place.pages ?? 0) < 10) {
        restoring = { ...place, pages: (place.pages ?? 0) + 1 };
        more.click();
      }
      return;
    }
    sessionStorage.removeItem(RETURN_KEY);
    scrollTo({ top: place.y });
    currentId = card.id;
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("htmx:after:settle", () => {
    if (!restoring) return;
    const place = restoring;
    restoring = null;
    queueMicrotask(() => restorePlace(place));
  });
  restorePlace();
  // Back from the back/forward cache: the page is as it was, focus it again.
  addEventListener("pageshow", (e) => {
    if (e.persisted) restorePlace();
  });

  // ---- The phone: filters behind one button, room for the toasts ---------------

  for (const toggle of document.querySelectorAll("[data-filters-toggle]")) {
    toggle.hidden = false;
    toggle.addEventListener("click", () => {
      const more = document.getElementById(
        toggle.getAttribute("aria-controls") ?? "",
      );
      const open = !more?.classList.contains("open");
      more?.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", String(open));
    });
  }

  /** Tells the page how tall the bottom dock (toasts, Undo) is, so nothing stays under it. */
  function sizeDock() {
    const undo = undoRegion()?.offsetHeight ?? 0;
    const toasts = document.getElementById("toasts")?.offsetHeight ?? 0;
    const root = document.documentElement.style;
    root.setProperty("--undo-height", `${undo ? undo + 8 : 0}px`);
    root.setProperty(
      "--dock-height",
      `${undo + toasts ? undo + toasts + 16 : 0}px`,
    );
  }
  if ("ResizeObserver" in window) {
    const dock = new ResizeObserver(sizeDock);
    for (const id of ["toasts", "undo"]) {
      const el = document.getElementById(id);
      if (el) dock.observe(el);
    }
  }
})();
