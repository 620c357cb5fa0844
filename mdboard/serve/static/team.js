/* mdboard serve --team: actions in place. The pages work without this file (every action
   is a plain form); with it, cards move by drag and drop or with a "move to…" menu (taps
   only, for phones), the card panel's forms act without leaving the page, and a refused
   action shows why while the tile snaps back to where it was. The server decides
   everything: this file only sends what the person did and shows the answer. */
(function () {
  "use strict";
  var bar = document.getElementById("mdboard-team");
  var csrf = bar ? bar.getAttribute("data-csrf") : "";
  var types = {};
  try { types = JSON.parse(bar ? bar.getAttribute("data-types") || "{}" : "{}"); } catch (e) { types = {}; }
  var lang = (document.documentElement.getAttribute("lang") || "zh-CN").toLowerCase();
  var zh = lang.indexOf("zh") === 0;
  var TEXT = zh ? { moveTo: "移到…", moveMenu: "把卡片移到", cancel: "取消", force: "强制移动",
                    reason: "原因（会记在提交里）", close: "关闭", working: "正在保存…" }
                : { moveTo: "Move to…", moveMenu: "Move the card to", cancel: "Cancel", force: "Move anyway",
                    reason: "Reason (kept in the commit)", close: "Close", working: "Saving…" };

  function post(url, data) {
    var body = data instanceof FormData ? new URLSearchParams(data) : new URLSearchParams(data || {});
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
    }).then(function (response) {
      return response.json().catch(function () {
        return { ok: false, message: response.status + " " + response.statusText, problems: [] };
      });
    }, function () {
      return { ok: false, message: zh ? "连不上看板服务器，请稍后再试" : "Cannot reach the board server; try again",
               problems: [] };
    });
  }

  /* --- messages ------------------------------------------------------------------ */

  var toastBox = null;

  function toast(outcome, forceAction) {
    if (!toastBox) {
      toastBox = document.createElement("div");
      toastBox.className = "mdb-toast";
      toastBox.setAttribute("data-keep", "");
      document.body.appendChild(toastBox);
    }
    toastBox.textContent = "";
    toastBox.className = "mdb-toast " + (outcome.ok ? "mdb-ok" : "mdb-refused");
    toastBox.setAttribute("role", outcome.ok ? "status" : "alert");
    var p = document.createElement("p");
    p.textContent = outcome.message || "";
    toastBox.appendChild(p);
    if (outcome.problems && outcome.problems.length) {
      var ul = document.createElement("ul");
      outcome.problems.forEach(function (problem) {
        var li = document.createElement("li");
        li.textContent = problem.message + (problem.hint ? (zh ? "（" + problem.hint + "）" : " (" + problem.hint + ")") : "");
        ul.appendChild(li);
      });
      toastBox.appendChild(ul);
    }
    if (forceAction) {
      var form = document.createElement("form");
      form.className = "mdb-force-form";
      var label = document.createElement("label");
      label.textContent = TEXT.reason + " ";
      var input = document.createElement("input");
      input.name = "reason";
      input.required = true;
      label.appendChild(input);
      var go = document.createElement("button");
      go.type = "submit";
      go.textContent = TEXT.force;
      form.appendChild(label);
      form.appendChild(go);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (input.value.trim()) forceAction(input.value.trim());
      });
      toastBox.appendChild(form);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "mdb-close";
    close.textContent = TEXT.close;
    close.addEventListener("click", function () { toastBox.hidden = true; });
    toastBox.appendChild(close);
    toastBox.hidden = false;
    clearTimeout(toastBox.timer);
    if (outcome.ok) toastBox.timer = setTimeout(function () { toastBox.hidden = true; }, 4000);
  }

  /* --- the kanban ------------------------------------------------------------------ */

  function boardOf(tile) { return tile.closest(".board[data-board]"); }

  function column(board, state) {
    return board.querySelector('[data-column="' + (window.CSS && CSS.escape ? CSS.escape(state) : state) + '"] .tiles');
  }

  function recount(board) {
    Array.prototype.forEach.call(board.querySelectorAll("[data-column]"), function (col) {
      var count = col.querySelector(".col-count");
      if (!count) return;
      var n = col.querySelectorAll(".tiles > [data-card]").length;
      count.setAttribute("data-count", String(n));
      count.textContent = String(n);
    });
  }

  /* live.js keeps a moved tile where this page put it until the pages show the move */
  function hold(tile, state) {
    document.dispatchEvent(new CustomEvent("mdboard:hold", { detail: { id: tile.getAttribute("data-id"), state: state } }));
  }

  /* A card is on a board once. While a tile is being dragged the live update leaves it
     alone (live.js keeps it) and may put the server's tile for the same card beside it:
     when the move is answered, the moved tile stays and any other copy goes. */
  function dropCopies(board, tile) {
    var id = tile.getAttribute("data-id");
    var sel = '[data-card][data-id="' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"]';
    Array.prototype.forEach.call(board.querySelectorAll(sel), function (other) {
      if (other !== tile) other.remove();
    });
  }

  function moveCard(tile, target, revert, reason) {
    var board = boardOf(tile);
    var from = tile.getAttribute("data-state");
    var data = { to: target, from: from };
    if (reason) data.reason = reason;
    tile.classList.add("mdb-pending");
    tile.setAttribute("aria-busy", "true");
    hold(tile, target);
    return post("/__mdboard/cards/" + encodeURIComponent(tile.getAttribute("data-id")) + "/move", data)
      .then(function (outcome) {
        tile.classList.remove("mdb-pending");
        tile.removeAttribute("aria-busy");
        if (outcome.ok) {
          var dest = board && column(board, outcome.state || target);
          if (dest && tile.parentNode !== dest) dest.insertBefore(tile, dest.firstChild);
          tile.setAttribute("data-state", outcome.state || target);
          if (board) dropCopies(board, tile);
          hold(tile, outcome.state || target);
          if (board) recount(board);
          toast(outcome);
        } else {
          hold(tile, null);
          revert();
          if (board) recount(board);
          toast(outcome, outcome.forcible ? function (why) {
            var here = board && column(board, target);
            if (here && tile.parentNode !== here) here.insertBefore(tile, here.firstChild);
            moveCard(tile, target, revert, why);
          } : null);
        }
        return outcome;
      });
  }

  /* someone (maybe this page) moved a card: its tile goes to the new column at once, and
     stays there while pages rebuilt before the move are still being served */
  function onCardEvent(event) {
    var d = event.detail || {};
    if (!d.id || !d.state) return;
    var sel = '.board[data-board] .tiles > [data-id="' + (window.CSS && CSS.escape ? CSS.escape(d.id) : d.id) + '"]';
    Array.prototype.forEach.call(document.querySelectorAll(sel), function (tile) {
      if (tile.classList.contains("sortable-chosen") || tile.classList.contains("mdb-pending")) return;
      var board = boardOf(tile);
      var dest = board && column(board, d.state);
      if (!dest) return;
      hold(tile, d.state);
      if (tile.getAttribute("data-state") === d.state && tile.parentNode === dest) return;
      dest.insertBefore(tile, dest.firstChild);
      tile.setAttribute("data-state", d.state);
      recount(board);
    });
  }

  document.addEventListener("mdboard:card", onCardEvent);

  function onDrop(event) {
    var tile = event.item;
    var fromCol = event.from.closest("[data-column]");
    var toCol = event.to.closest("[data-column]");
    var back = function () {
      event.from.insertBefore(tile, event.from.children[event.oldIndex] || null);
    };
    if (!fromCol || !toCol || fromCol === toCol) { back(); return; }
    moveCard(tile, toCol.getAttribute("data-column"), back);
  }

  function targets(typeKey, state) {
    var type = types[typeKey];
    if (!type) return [];
    var allowed = type.transitions ? (type.transitions[state] || []) : null;
    return type.states.filter(function (s) {
      return s[0] !== state && (allowed === null || allowed.indexOf(s[0]) >= 0);
    });
  }

  function openMenu(button, tile) {
    closeMenus();
    var board = boardOf(tile);
    var menu = document.createElement("div");
    menu.className = "mdb-menu";
    menu.setAttribute("role", "menu");
    menu.setAttribute("aria-label", TEXT.moveMenu);
    menu.setAttribute("data-keep", "");
    targets(board.getAttribute("data-board"), tile.getAttribute("data-state")).forEach(function (s) {
      var item = document.createElement("button");
      item.type = "button";
      item.setAttribute("role", "menuitem");
      item.textContent = s[1];
      item.addEventListener("click", function () {
        closeMenus();
        var home = tile.parentNode;
        var next = tile.nextSibling;
        moveCard(tile, s[0], function () { home.insertBefore(tile, next); });
      });
      menu.appendChild(item);
    });
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "mdb-cancel";
    cancel.textContent = TEXT.cancel;
    cancel.addEventListener("click", closeMenus);
    menu.appendChild(cancel);
    button.setAttribute("aria-expanded", "true");
    button.parentNode.appendChild(menu);
    var first = menu.querySelector("button");
    if (first) first.focus();
  }

  function closeMenus() {
    Array.prototype.forEach.call(document.querySelectorAll(".mdb-menu"), function (menu) {
      var button = menu.parentNode && menu.parentNode.querySelector(".mdb-move-button");
      if (button) button.setAttribute("aria-expanded", "false");
      menu.remove();
    });
  }

  function addMoveButton(tile) {
    if (tile.querySelector(".mdb-tile-actions")) return;
    var holder = document.createElement("p");
    holder.className = "mdb-tile-actions";
    holder.setAttribute("data-keep", "");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "mdb-move-button";
    button.setAttribute("aria-haspopup", "menu");
    button.setAttribute("aria-expanded", "false");
    button.textContent = TEXT.moveTo;
    button.setAttribute("aria-label", TEXT.moveTo + " " + (tile.getAttribute("data-id") || ""));
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (button.getAttribute("aria-expanded") === "true") closeMenus(); else openMenu(button, tile);
    });
    holder.appendChild(button);
    tile.appendChild(holder);
  }

  function initBoards() {
    Array.prototype.forEach.call(document.querySelectorAll(".board[data-board]"), function (board) {
      var typeKey = board.getAttribute("data-board");
      if (!types[typeKey]) return;
      board.classList.add("mdb-live-board");
      Array.prototype.forEach.call(board.querySelectorAll("[data-column] .tiles"), function (list) {
        if (list.mdbSortable || !window.Sortable) return;
        list.mdbSortable = window.Sortable.create(list, {
          group: "mdb-" + typeKey, animation: 120, draggable: "[data-card]",
          /* the move button and its menu are pressed, not dragged; the rest of their row,
             like the rest of the tile, drags it */
          filter: ".mdb-move-button, .mdb-menu", preventOnFilter: false,
          delayOnTouchOnly: true, delay: 300, onEnd: onDrop
        });
      });
      Array.prototype.forEach.call(board.querySelectorAll(".tiles > [data-card]"), addMoveButton);
    });
  }

  /* --- forms: the card panel, and the new / edit pages ----------------------------------- */

  function panelForm(form) {
    return form.closest("#mdb-panel") && form.getAttribute("method") === "post";
  }

  function reloadPanel(panel) {
    var id = panel.getAttribute("data-mdb-card");
    return fetch("/__mdboard/cards/" + encodeURIComponent(id) + "/panel", { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (text === null) return;
        var doc = new DOMParser().parseFromString(text, "text/html");
        var fresh = doc.getElementById("mdb-panel");
        if (!fresh) return;
        fresh = document.adoptNode(fresh);
        keepTyping(panel, fresh);
        panel.replaceWith(fresh);
        if (kept.focus && document.contains(kept.focus)) {
          kept.focus.focus();
          if (kept.range) kept.focus.setSelectionRange(kept.range[0], kept.range[1]);
        }
      });
  }

  /* A form the person has typed in (data-dirty) goes into the fresh panel as it is - its
     words, and the caret where it was - in place of the fresh copy: a panel reloaded after
     an earlier action (a tick) must not empty a note being written. */
  var kept = {};
  function keepTyping(panel, fresh) {
    var active = document.activeElement;
    kept = { focus: null, range: null };
    Array.prototype.forEach.call(panel.querySelectorAll("form[data-dirty]"), function (form) {
      var action = form.getAttribute("action");
      var twin = Array.prototype.filter.call(fresh.querySelectorAll("form"), function (f) {
        return f.getAttribute("action") === action;
      })[0];
      if (!twin) return;
      if (active && form.contains(active)) {
        kept.focus = active;
        if (typeof active.selectionStart === "number") kept.range = [active.selectionStart, active.selectionEnd];
      }
      twin.replaceWith(form);
    });
  }

  function submitPanel(form, reason) {
    var data = new FormData(form);
    if (reason) data.set("reason", reason);
    var buttons = form.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    return post(form.action, data).then(function (outcome) {
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      var panel = form.closest("#mdb-panel");
      if (outcome.ok) {
        form.removeAttribute("data-dirty");
        toast(outcome);
        if (panel) reloadPanel(panel);
        document.dispatchEvent(new CustomEvent("mdboard:refresh"));
      } else {
        var forcible = outcome.forcible && form.classList.contains("mdb-move-form");
        toast(outcome, forcible ? function (why) { submitPanel(form, why); } : null);
      }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!panelForm(form) || !window.fetch) return;
    event.preventDefault();
    submitPanel(form);
  });

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form");
    if (form) form.setAttribute("data-dirty", "");
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest(".mdb-menu, .mdb-move-button")) closeMenus();
    var add = event.target.closest(".mdb-add-row");
    if (add) {
      var set = add.closest(".mdb-links");
      var inputs = set.querySelectorAll("input");
      var last = inputs[inputs.length - 1];
      var row = last.cloneNode(false);
      row.value = "";
      row.mdbPick = null;
      set.insertBefore(row, add);
      initPick(row);
      row.focus();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMenus();
  });

  /* --- link fields: a searchable pick ------------------------------------------------
     The form lists no cards (a big board has thousands): what the person types is sent to
     the server, which answers with the matching cards (newest first, a few at a time);
     a tap or Enter puts the card's ID in the field. Without this script the field is
     plain text: the card's ID is typed in. */

  var pickSerial = 0;

  function initPick(input) {
    if (input.mdbPick) return;
    input.mdbPick = true;
    var list = document.createElement("ul");
    list.className = "mdb-pick";
    list.id = "mdb-pick-" + (++pickSerial);
    list.setAttribute("role", "listbox");
    list.setAttribute("data-keep", "");
    list.hidden = true;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.parentNode.insertBefore(list, input.nextSibling);
    var timer = null;
    var asked = 0;
    var active = -1;

    function options() { return list.querySelectorAll("[role=option]"); }

    function close() {
      list.hidden = true;
      list.textContent = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function choose(id) {
      input.value = id;
      var form = input.closest("form");
      if (form) form.setAttribute("data-dirty", "");
      close();
    }

    function mark(n) {
      var all = options();
      if (!all.length) return;
      active = (n + all.length) % all.length;
      Array.prototype.forEach.call(all, function (o, i) { o.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }

    function show(cards) {
      list.textContent = "";
      active = -1;
      if (!cards.length) { close(); return; }
      cards.forEach(function (card, i) {
        var option = document.createElement("li");
        option.setAttribute("role", "option");
        option.id = list.id + "-" + i;
        option.setAttribute("data-id", card.id);
        var id = document.createElement("strong");
        id.textContent = card.id;
        option.appendChild(id);
        option.appendChild(document.createTextNode(" " + card.title));
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { choose(card.id); input.focus(); });
        list.appendChild(option);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function ask() {
      var n = ++asked;
      var url = "/__mdboard/find?type=" + encodeURIComponent(input.getAttribute("data-pick")) +
                "&q=" + encodeURIComponent(input.value.trim());
      fetch(url, { cache: "no-store", credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (cards) { if (n === asked && document.activeElement === input) show(cards); })
        .catch(function () { /* the field stays plain text */ });
    }

    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 150); });
    input.addEventListener("focus", ask);
    input.addEventListener("blur", function () { setTimeout(function () { if (document.activeElement !== input) close(); }, 250); });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        mark(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        choose(options()[active].getAttribute("data-id"));
      } else if (event.key === "Escape") {
        close();
      }
    });
  }

  function initForms() {
    Array.prototype.forEach.call(document.querySelectorAll(".mdb-add-row"), function (b) { b.hidden = false; });
    Array.prototype.forEach.call(document.querySelectorAll("input[data-pick]"), initPick);
  }

  function start() {
    initBoards();
    initForms();
  }

  document.addEventListener("mdboard:updated", start);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
