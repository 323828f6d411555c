// Ticket desk, the ticket page: j / k through the list it was opened from,
// Shift+O / P / C to set the status and move on, Ctrl/Cmd+Enter to add the
// comment, Esc to cancel the description editor; drafts kept per ticket in
// this browser; the timeline, status and details brought up to date in place
// while the agent types; the comments-only switch remembered. Everything here
// is an enhancement of plain links and forms.
"use strict";

(() => {
  const layout = document.querySelector(".ticket-layout[data-ticket-id]");
  if (!layout) return; // not a ticket page
  const ticketId = Number(layout.dataset.ticketId);
  const TYPING =
    "input, textarea, select, [contenteditable=''], [contenteditable='true']";
  const liveEl = () => document.getElementById("live");
  const me = () => liveEl()?.dataset.user ?? "";

  /** The dashboard URL this page goes back to (and whose list j / k walk). */
  const back = () =>
    document.getElementById("back-link")?.getAttribute("href") ?? "/dashboard";

  /** A ticket page's URL keeping the way back. */
  function pageOf(id) {
    const q = back() === "/dashboard"
      ? ""
      : `?back=${encodeURIComponent(back())}`;
    return `/tickets/${id}${q}`;
  }

  /** Says `text` in a polite live region (again, even when it repeats). */
  function say(el, text) {
    if (!el) return;
    el.textContent = "";
    requestAnimationFrame(() => (el.textContent = text));
  }

  // ---- Drafts: per ticket, in this browser, until posted or emptied ----------

  const DRAFT = "desk:draft:";
  const draftKey = (kind) => `${DRAFT}${ticketId}:${kind}`;

  function readDraft(kind) {
    try {
      const d = JSON.parse(localStorage.getItem(draftKey(kind)) ?? "null");
      return d && typeof d.text === "string" ? d : null;
    } catch {
      return null; // storage blocked or a foreign value: no draft
    }
  }

  function writeDraft(kind, draft) {
    try {
      if (draft) {
        localStorage.setItem(
          draftKey(kind),
          JSON.stringify({ ...draft, at: Date.now() }),
        );
      } else localStorage.removeItem(draftKey(kind));
    } catch { /* storage full or blocked: the box still holds the text */ }
  }

  // Drafts nobody came back to in 30 days go.
  try {
    const old = Date.now() - 30 * 86400_000;
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (!key?.startsWith(DRAFT)) continue;
      const at = JSON.parse(localStorage.getItem(key) ?? "null")?.at;
      if (!(at > old)) localStorage.removeItem(key);
    }
  } catch { /* nothing to tidy */ }

  function saveDescriptionDraft(box) {
    const form = box.form;
    const seen = form?.elements.seen?.value ?? "";
    writeDraft(
      "description",
      box.value === seen ? null : {
        text: box.value,
        version: form?.elements.version?.value ?? "",
        seen,
      },
    );
  }

  document.addEventListener("input", (e) => {
    const box = e.target;
    if (!(box instanceof HTMLTextAreaElement)) return;
    if (box.id === "comment-body") {
      writeDraft("comment", box.value.trim() ? { text: box.value } : null);
    } else if (box.id === "description-text") saveDescriptionDraft(box);
  });

  /** The path and method of an htmx request, and its answer's status. */
  function requestOf(ctx) {
    const url = new URL(ctx?.request?.action ?? "", location.href);
    return {
      path: url.pathname,
      method: (ctx?.request?.method ?? "GET").toUpperCase(),
      status: ctx?.response?.status ?? 0,
    };
  }

  // Posted (or the editor cancelled): the draft has served.
  document.addEventListener("htmx:finally:request", (e) => {
    const { path, method, status } = requestOf(e.detail?.ctx);
    if (status !== 200) return; // refused or failed: the text is still wanted
    const base = `/tickets/${ticketId}`;
    if (method === "POST" && path === `${base}/comments`) {
      writeDraft("comment", null);
    } else if (
      (method === "POST" || method === "GET") &&
      path === `${base}/description`
    ) writeDraft("description", null);
  });

  /**
   * Opens the description editor with `text` in it. `compare`: the text was
   * begun on an older description, so the editor shows the current one
   * beside it, as after a conflict (saving is then a choice, never silent).
   */
  async function openEditor(text, compare) {
    const q = new URLSearchParams();
    if (back() !== "/dashboard") q.set("back", back());
    if (compare) q.set("compare", "1");
    document.getElementById("live-banner")?.remove();
    await htmx.ajax(
      "GET",
      `/tickets/${ticketId}/description/edit${q.size ? `?${q}` : ""}`,
      { target: "#description", swap: "outerHTML" },
    );
    const box = document.getElementById("description-text");
    if (!box) return;
    box.value = text;
    saveDescriptionDraft(box);
  }

  /** The description as the page shows it (its text, or none). */
  function shownDescription(root) {
    return root?.querySelector(".text")?.textContent ?? "";
  }

  function restoreDrafts() {
    const box = document.getElementById("comment-body");
    const comment = readDraft("comment");
    if (box && comment && !box.value.trim()) {
      box.value = comment.text;
      say(
        document.getElementById("thread-news"),
        "Your unsent comment is back in the box.",
      );
    }
    const description = readDraft("description");
    const here = document.getElementById("description");
    if (!description || !here) return;
    if (here.tagName === "FORM") {
      const editor = document.getElementById("description-text");
      // The server put someone's text there (a refused save): leave it.
      if (editor && editor.value === editor.form?.elements.seen?.value) {
        editor.value = description.text;
      }
      return;
    }
    const current = shownDescription(here);
    if (description.text === current) return writeDraft("description", null);
    openEditor(description.text, description.seen !== current);
  }

  // ---- The timeline and the panels, current while the agent types -----------

  let refreshing = null;
  let again = false;
  let news = [];
  let skipped = false;

  /** Brings every part of the page up to date that is not being edited. */
  function refresh() {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        again = false;
        await refreshOnce();
      } while (again);
    })().finally(() => (refreshing = null));
    return refreshing;
  }

  async function refreshOnce() {
    const q = back() === "/dashboard"
      ? ""
      : `?back=${encodeURIComponent(back())}`;
    let text;
    try {
      const res = await fetch(`/tickets/${ticketId}/latest${q}`, {
        headers: { "HX-Request": "true" },
      });
      // Signed out meanwhile (a redirect to the login page): the stream says so.
      if (!res.ok || res.redirected) return;
      text = await res.text();
    } catch {
      return; // offline: the stream catches up when it is back
    }
    const parts = document.createElement("template");
    parts.innerHTML = text;
    const before = new Set(
      [...document.querySelectorAll("#timeline > li[id]")].map((li) => li.id),
    );
    const chosen = [];
    skipped = false;
    for (const part of [...parts.content.children]) {
      const here = part.id && document.getElementById(part.id);
      if (!here) continue;
      if (part.id === "description" && here.tagName === "FORM") {
        checkDescription(here, part);
        continue;
      }
      // Never swap a part the agent is in (a select, a button they are on).
      if (here.contains(document.activeElement) && part.id !== "timeline") {
        skipped = true;
        continue;
      }
      part.setAttribute("hx-swap-oob", "true");
      for (const li of part.id === "timeline" ? part.children : []) {
        if (li.id && !before.has(li.id)) li.classList.add("arrived");
      }
      chosen.push(part.outerHTML);
    }
    const live = liveEl();
    if (chosen.length && live) {
      await htmx.swap({
        text: chosen.join(""),
        swap: "none swapEmpty:false",
        target: live,
        sourceElement: live,
      });
    }
    if (news.length) {
      const line = news.length === 1
        ? news[0]
        : `${news.length} updates, the latest: ${news.at(-1)}`;
      news = [];
      say(document.getElementById("thread-news"), line);
    }
  }

  // A part skipped because the agent was in it is brought up to date when they leave it.
  document.addEventListener("focusout", () =>
    queueMicrotask(() => {
      if (skipped) refresh();
    }));

  let changedBy = "";

  /** The description editor stays; if the text under it changed, say so, with the way to compare. */
  function checkDescription(form, fresh) {
    const seen = form.elements.seen?.value ?? "";
    if (shownDescription(fresh) === seen) return;
    let banner = document.getElementById("live-banner");
    if (!banner) {
      banner = document.createElement("p");
      banner.id = "live-banner";
      banner.className = "live-banner";
      banner.setAttribute("role", "status");
      form.before(banner);
    }
    banner.textContent = `The description was changed by ${
      changedBy || "someone else"
    } while you were editing it. Your text is kept. `;
    const show = document.createElement("button");
    show.type = "button";
    show.className = "secondary outline";
    show.id = "show-latest";
    show.textContent = "Show the latest";
    show.addEventListener("click", () => {
      const box = document.getElementById("description-text");
      openEditor(box?.value ?? "", true);
    });
    banner.append(show);
  }

  document.addEventListener("ticket-changed", (e) => {
    if (e.target !== liveEl()) return;
    let change = {};
    try {
      change = JSON.parse(e.detail?.data ?? "{}");
    } catch { /* refresh all the same */ }
    // Your own changes in another tab count too; only others' are announced.
    if (change.actor && change.actor !== me()) {
      changedBy = change.actor;
      news.push(change.text ?? `${change.actor} changed this ticket`);
    }
    refresh();
  });

  // The stream could not replay what was missed: fetch it all again.
  document.addEventListener("reload", (e) => {
    if (e.target === liveEl()) refresh();
  });

  // ---- Comments only: a link without JavaScript, a remembered toggle with it --

  const MODE = "desk:thread";

  function setCommentsOnly(only, remember) {
    const thread = document.getElementById("thread");
    const toggle = document.getElementById("thread-filter");
    if (!thread || !toggle) return;
    thread.classList.toggle("comments-only", only);
    toggle.setAttribute("aria-pressed", String(only));
    const url = new URL(location.href);
    if (only) url.searchParams.set("thread", "comments");
    else url.searchParams.delete("thread");
    const flip = new URL(url);
    if (only) flip.searchParams.delete("thread");
    else flip.searchParams.set("thread", "comments");
    toggle.href = flip.pathname + flip.search + "#thread";
    if (!remember) return;
    try {
      localStorage.setItem(MODE, only ? "comments" : "all");
    } catch { /* the URL still says it */ }
    history.replaceState(history.state, "", url.pathname + url.search);
  }

  function toggleCommentsOnly(e) {
    e.preventDefault();
    const on = document.getElementById("thread-filter")?.getAttribute(
      "aria-pressed",
    ) === "true";
    setCommentsOnly(!on, true);
  }

  document.addEventListener("click", (e) => {
    if (e.target instanceof Element && e.target.closest("#thread-filter")) {
      toggleCommentsOnly(e);
    }
  });

  if (!new URL(location.href).searchParams.has("thread")) {
    let mode = null;
    try {
      mode = localStorage.getItem(MODE);
    } catch { /* the server's choice stands */ }
    if (mode === "comments") setCommentsOnly(true, false);
  }

  // ---- Keys ------------------------------------------------------------------

  /** The board's order, when this ticket was opened from it (static/app.js writes it). */
  function boardList() {
    try {
      const list = JSON.parse(sessionStorage.getItem("desk:list") ?? "null");
      // The same list whatever the order of its parameters.
      const norm = (u) => {
        const url = new URL(u, location.origin);
        url.searchParams.sort();
        return url.pathname + url.search;
      };
      const same = (a, b) => norm(a) === norm(b);
      if (!list || !Array.isArray(list.ids) || !same(list.back, back())) {
        return null;
      }
      return list.ids.map(Number);
    } catch {
      return null;
    }
  }

  /** Where j (+1) or k (-1) goes: the board's neighbour if it had one loaded, else the page's link; null at an end. */
  function neighbour(step) {
    const ids = boardList();
    const i = ids ? ids.indexOf(ticketId) : -1;
    if (i >= 0 && ids[i + step] !== undefined) return pageOf(ids[i + step]);
    const link = document.getElementById(
      step > 0 ? "ticket-next" : "ticket-prev",
    );
    return link instanceof HTMLAnchorElement ? link.href : null;
  }

  const navStatus = () => document.getElementById("ticket-nav-status");

  function go(step) {
    const to = neighbour(step);
    if (to) location.href = to;
    else {
      say(
        navStatus(),
        step > 0
          ? "This is the last ticket in this list."
          : "This is the first ticket in this list.",
      );
    }
  }

  // Shift+O / P / C: the status form's own button (its version check, htmx),
  // then, once the change is saved, the next ticket, with the Undo offer.
  let moving = null;

  function statusAndNext(key) {
    const button = document.querySelector(
      `#ticket-status [data-status-key="${key}"]`,
    );
    const form = button?.form;
    if (!form || moving) return;
    if (!form.hasAttribute("data-htmx-powered")) {
      // htmx has not wired the form yet: clicked now, the browser would post it itself.
      const wired = () => {
        document.removeEventListener("htmx:after:process", wired);
        statusAndNext(key);
      };
      document.addEventListener("htmx:after:process", wired);
      return;
    }
    let ctx = null;
    const start = (e) => (ctx = e.detail?.ctx ?? null);
    form.addEventListener("htmx:before:request", start, { once: true });
    button.click(); // htmx starts the request synchronously
    form.removeEventListener("htmx:before:request", start);
    if (ctx) moving = { ctx, to: neighbour(1) };
  }

  document.addEventListener("htmx:finally:request", (e) => {
    if (!moving || e.detail?.ctx !== moving.ctx) return;
    const { ctx, to } = moving;
    moving = null;
    if (ctx.response?.status !== 200) return; // refused: the panel says why
    if (!to) {
      say(
        navStatus(),
        "Saved. This was the last ticket in this list.",
      );
      return;
    }
    // The change's Undo goes along to the next page.
    const answer = document.createElement("template");
    answer.innerHTML = ctx.text ?? "";
    const change = answer.content.querySelector(
      '#undo input[name="change"]',
    )?.value;
    const url = new URL(to, location.href);
    if (change) url.searchParams.set("undo", change);
    location.href = url.pathname + url.search;
  });

  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.isComposing) return;
    const target = e.target instanceof Element ? e.target : null;
    // In the comment box, Ctrl/Cmd+Enter adds it as an internal note (the
    // form's first button); a public reply stays a deliberate click.
    if (
      target?.id === "comment-body" && e.key === "Enter" &&
      (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey
    ) {
      e.preventDefault();
      document.getElementById("comment-submit")?.click();
      return;
    }
    if (
      target?.id === "description-text" && e.key === "Escape" &&
      !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey
    ) {
      const cancel = document.getElementById("description-cancel");
      if (cancel) {
        e.preventDefault();
        cancel.click();
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (target?.closest(TYPING)) return;
    if (document.querySelector("dialog[open]")) return;
    if (e.key === "j" || e.key === "k") {
      e.preventDefault();
      go(e.key === "j" ? 1 : -1);
    } else if (e.shiftKey && ["O", "P", "C"].includes(e.key)) {
      e.preventDefault();
      statusAndNext(e.key.toLowerCase());
    } else if (
      e.key === " " && target?.id === "thread-filter"
    ) {
      toggleCommentsOnly(e); // a link that acts as a button answers Space too
    }
  }, true);

  // After htmx has wired the page (it starts on a timer queued before this one).
  setTimeout(restoreDrafts);
})();
