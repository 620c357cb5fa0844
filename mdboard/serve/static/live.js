/* mdboard serve: the open page follows every change to the board without reloading.
   The server sends `change` over server-sent events; the page fetches itself again and
   morphs the new body into the old one (idiomorph), so the scroll position, the filter,
   a form being filled in and an open menu all stay. Nothing here runs on the static site. */
(function () {
  "use strict";
  var me = document.currentScript;
  var version = me ? me.getAttribute("data-version") || "" : "";
  var running = false;
  var again = false;

  function kept(node) {
    if (node.nodeType !== 1) return false;
    if (node.id === "filters" || node.hasAttribute("data-keep")) return true;
    if (node.tagName === "SCRIPT") return true;
    if (node.tagName === "FORM" && (node.hasAttribute("data-dirty") || node.contains(document.activeElement))) {
      return true;
    }
    if (node.classList.contains("sortable-chosen") || node.classList.contains("sortable-ghost")) return true;
    if (node.tagName === "DETAILS" && node.open) return true;
    return false;
  }

  function keepAttribute(name, element) {
    // the filter hides tiles with `hidden`; the page from the server has none
    if (name === "hidden" && element.hasAttribute("data-card")) return false;
    if (name === "open" && element.tagName === "DETAILS") return false;
    return true;
  }

  var OPTIONS = {
    morphStyle: "innerHTML",
    ignoreActiveValue: true,
    callbacks: {
      beforeNodeMorphed: function (oldNode) { return !kept(oldNode); },
      beforeNodeRemoved: function (oldNode) { return !kept(oldNode); },
      beforeAttributeUpdated: keepAttribute
    }
  };

  function parse(text) {
    var doc = new DOMParser().parseFromString(text, "text/html");
    Array.prototype.forEach.call(doc.querySelectorAll("script"), function (s) { s.remove(); });
    return doc;
  }

  /* The new body's children are morphed into the open body. Given the new <body> element
     itself, idiomorph takes it as the one child to put inside the open body: a second body
     that re-inserted the page's stylesheets, so for some frames the page showed without them
     and every tile jumped under the pointer. */
  function morphBody(body) {
    window.Idiomorph.morph(document.body, Array.prototype.slice.call(body.childNodes), OPTIONS);
  }

  function morph(text) {
    var doc = parse(text);
    if (doc.title) document.title = doc.title;
    morphBody(doc.body);
  }

  /* A big kanban (thousands of finished cards in one column) is put in place column by
     column: only the columns whose HTML changed are parsed and morphed, the rest of the
     page without the board. The HTML of each column is remembered from the last fetch
     (fetched once in the background after the page loads). */
  var BIG = 300;
  var COLUMN = /<section class="column[^"]*" data-column="([^"]*)"[\s\S]*?<\/section>/g;
  var BOARD = /(<div class="board" data-board="[^"]*">)[\s\S]*<\/section>(\s*<\/div>)/;
  var columns = null;

  function bigBoard() {
    var boards = document.querySelectorAll(".board[data-board]");
    return boards.length === 1 && boards[0].querySelectorAll("[data-card]").length >= BIG ? boards[0] : null;
  }

  function columnsOf(text) {
    var found = {};
    text.replace(COLUMN, function (whole, key) { found[key] = whole; return whole; });
    return found;
  }

  function sameKeys(a, b) {
    var ka = Object.keys(a).sort().join("\n");
    return ka === Object.keys(b).sort().join("\n") && ka !== "";
  }

  function morphBoard(board, text) {
    var fresh = columnsOf(text);
    if (!columns || !sameKeys(columns, fresh) || !BOARD.test(text)) {
      morph(text);
      keep(text);
      return;
    }
    var rest = parse(text.replace(BOARD, "$1$2"));
    if (rest.title) document.title = rest.title;
    board.setAttribute("data-keep", "");
    try {
      morphBody(rest.body);
    } finally {
      board.removeAttribute("data-keep");
    }
    Object.keys(fresh).forEach(function (key) {
      if (fresh[key] === columns[key]) return;
      var live = board.querySelector('[data-column="' + (window.CSS && CSS.escape ? CSS.escape(key) : key) + '"]');
      var template = document.createElement("template");
      template.innerHTML = fresh[key];
      if (live && template.content.firstElementChild) {
        window.Idiomorph.morph(live, template.content.firstElementChild,
                               { morphStyle: "outerHTML", ignoreActiveValue: true, callbacks: OPTIONS.callbacks });
      }
    });
    columns = fresh;
  }

  function keep(text) {
    columns = columnsOf(text);
    document.documentElement.setAttribute("data-mdb-columns", "remembered");
  }

  function remember() {
    if (!bigBoard() || columns) return;
    fetch(location.pathname + location.search, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (text !== null && !columns) keep(text);
      })
      .catch(function () { /* the first change morphs the whole page instead */ });
  }

  /* A card this page has just moved (team.js says so with `mdboard:hold`) stays where it
     was put: a page fetched before the server rebuilt it still shows the card where it was,
     and is not put in place (it is fetched again a moment later) until it shows the card
     where it now is, or a few seconds have passed. */
  var HOLD_MS = 15000;
  var holds = {};

  document.addEventListener("mdboard:hold", function (event) {
    var d = event.detail || {};
    if (!d.id) return;
    if (d.state) holds[d.id] = { state: d.state, until: Date.now() + HOLD_MS }; else delete holds[d.id];
  });

  function stateIn(text, id) {
    var tag = new RegExp('<[^>]*\\sdata-id="' + id.replace(/[^A-Za-z0-9_-]/g, "") + '"[^>]*>').exec(text);
    var state = tag && /\sdata-state="([^"]*)"/.exec(tag[0]);
    return state ? state[1] : null;
  }

  function behind(text) {
    var now = Date.now();
    var stale = false;
    Object.keys(holds).forEach(function (id) {
      var hold = holds[id];
      if (hold.until < now) { delete holds[id]; return; }
      var state = stateIn(text, id);
      if (state === null) return;
      if (state === hold.state) delete holds[id]; else stale = true;
    });
    return stale;
  }

  function apply(text) {
    if (behind(text)) {
      setTimeout(refresh, 300);
      return;
    }
    var board = bigBoard();
    if (board) {
      morphBoard(board, text);
    } else {
      morph(text);
      // the board became big through this change: remember its columns from this very text
      if (bigBoard()) keep(text);
    }
    document.dispatchEvent(new CustomEvent("mdboard:updated"));
  }

  function refresh() {
    if (running) { again = true; return; }
    running = true;
    again = false;
    fetch(location.pathname + location.search, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok || response.redirected) return null;
        return response.text();
      })
      .then(function (text) { if (text !== null) apply(text); })
      .catch(function () { /* offline for a moment: the next change tries again */ })
      .then(function () {
        running = false;
        if (again) refresh();
      });
  }

  if (!window.EventSource) return;
  if (!window.Idiomorph || !window.fetch || !window.DOMParser) {
    var plain = new EventSource("/__mdboard/events?v=" + encodeURIComponent(version));
    plain.addEventListener("change", function () { plain.close(); location.reload(); });
    return;
  }
  var source = new EventSource("/__mdboard/events?v=" + encodeURIComponent(version));
  source.addEventListener("change", function (event) {
    version = event.data;
    refresh();
  });
  /* team mode: a card was just moved by someone (sent right after the commit, before the
     pages are rebuilt); team.js puts its tile in the new column at once */
  source.addEventListener("card", function (event) {
    var detail = null;
    try { detail = JSON.parse(event.data); } catch (e) { return; }
    document.dispatchEvent(new CustomEvent("mdboard:card", { detail: detail }));
  });
  document.addEventListener("mdboard:refresh", refresh);
  window.addEventListener("load", function () {
    setTimeout(function () {
      if (window.requestIdleCallback) window.requestIdleCallback(remember); else remember();
    }, 1000);
  });
})();
