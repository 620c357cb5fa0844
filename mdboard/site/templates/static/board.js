/* mdboard site: filter cards by owner, platform, tag, state, text and "overdue only".
   The filter lives in the URL hash (#owner=wangli&overdue=1) so a link can be shared.
   Without JavaScript the filter bar stays hidden and every card is shown. */
(function () {
  "use strict";
  var NAMES = ["q", "owner", "platform", "tag", "state", "overdue"];

  function list(text) {
    try {
      var value = JSON.parse(text || "[]");
      return Array.isArray(value) ? value : [];
    } catch (e) {
      return [];
    }
  }

  function fromUrl() {
    var raw = location.hash.length > 1 ? location.hash.slice(1) : location.search.slice(1);
    return new URLSearchParams(raw);
  }

  function ensureOption(select, value) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) return;
    }
    var option = document.createElement("option");
    option.value = value;
    option.textContent = value;
    select.appendChild(option);
  }

  function setControls(form, params) {
    NAMES.forEach(function (name) {
      var control = form.elements[name];
      if (!control) return;
      var value = params.get(name) || "";
      if (control.type === "checkbox") {
        control.checked = value === "1";
      } else {
        if (control.tagName === "SELECT" && value) ensureOption(control, value);
        control.value = value;
      }
    });
  }

  function current(form) {
    var filter = {};
    NAMES.forEach(function (name) {
      var control = form.elements[name];
      if (!control) return;
      if (control.type === "checkbox") {
        if (control.checked) filter[name] = "1";
      } else if (control.value.trim()) {
        filter[name] = control.value.trim();
      }
    });
    return filter;
  }

  function matches(item, filter) {
    var d = item.dataset;
    if (filter.owner && (d.owner || "").split(" ").indexOf(filter.owner) < 0) return false;
    if (filter.platform && list(d.platforms).indexOf(filter.platform) < 0) return false;
    if (filter.tag && list(d.tags).map(String).indexOf(filter.tag) < 0) return false;
    if (filter.state && d.state !== filter.state) return false;
    if (filter.overdue && d.overdue !== "1") return false;
    if (filter.q) {
      var text = d.text || "";
      var words = filter.q.toLowerCase().split(/\s+/);
      for (var i = 0; i < words.length; i++) {
        if (words[i] && text.indexOf(words[i]) < 0) return false;
      }
    }
    return true;
  }

  function writeUrl(filter) {
    var query = new URLSearchParams(filter).toString();
    var url = query ? "#" + query : location.pathname + location.search;
    try {
      history.replaceState(null, "", url);
    } catch (e) {
      if (query) location.replace("#" + query);
    }
  }

  function apply(form, updateUrl) {
    var items = Array.prototype.slice.call(document.querySelectorAll("[data-card]"));
    var filter = current(form);
    var active = Object.keys(filter).length > 0;
    var shown = 0;
    items.forEach(function (item) {
      var ok = !active || matches(item, filter);
      item.hidden = !ok;
      if (ok) shown += 1;
    });
    document.querySelectorAll("[data-column]").forEach(function (column) {
      var count = column.querySelector(".col-count");
      if (!count) return;
      count.textContent = active ? String(column.querySelectorAll("[data-card]:not([hidden])").length)
        : count.getAttribute("data-count");
    });
    var status = form.querySelector(".filter-status");
    if (status) {
      status.textContent = active ? (form.getAttribute("data-shown") || "{n}/{total}")
        .replace("{n}", shown).replace("{total}", items.length) : "";
    }
    document.body.classList.toggle("filtered", active);
    if (updateUrl) writeUrl(filter);
  }

  function start() {
    var form = document.getElementById("filters");
    if (!form) return;
    form.hidden = false;
    setControls(form, fromUrl());
    apply(form, false);
    form.addEventListener("input", function () { apply(form, true); });
    form.addEventListener("change", function () { apply(form, true); });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("reset", function () {
      setTimeout(function () { apply(form, true); }, 0);
    });
    window.addEventListener("hashchange", function () {
      setControls(form, fromUrl());
      apply(form, false);
    });
    // `mdboard serve` puts a changed board in place without reloading: filter it again
    document.addEventListener("mdboard:updated", function () { apply(form, false); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
