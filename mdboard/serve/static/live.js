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

  function morph(text) {
    var doc = new DOMParser().parseFromString(text, "text/html");
    Array.prototype.forEach.call(doc.querySelectorAll("script"), function (s) { s.remove(); });
    if (doc.title) document.title = doc.title;
    window.Idiomorph.morph(document.body, doc.body, {
      morphStyle: "innerHTML",
      ignoreActiveValue: true,
      callbacks: {
        beforeNodeMorphed: function (oldNode) { return !kept(oldNode); },
        beforeNodeRemoved: function (oldNode) { return !kept(oldNode); },
        beforeAttributeUpdated: keepAttribute
      }
    });
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
      .then(function (text) { if (text !== null) morph(text); })
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
  document.addEventListener("mdboard:refresh", refresh);
})();
