// A table that scrolls sideways (a wide table on a phone) must be reachable by keyboard
// and named for screen readers: its wrapper becomes a focusable region while it scrolls
// (axe-core: scrollable-region-focusable), and stops being one when it fits again.
(function () {
  "use strict";
  function name(wrap) {
    var box = wrap.closest("section, .card, main");
    var heading = box && box.querySelector("h1, h2, h3");
    // Translated by the page (<body data-table-label data-scrolls-sideways>,
    // templates/base.html); English when a page has none.
    var texts = document.body.dataset;
    var label = heading ? heading.textContent.trim() : texts.tableLabel || "Table";
    return (texts.scrollsSideways || "{name} (scrolls sideways)").replace("{name}", function () { return label; });
  }
  function mark() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        wrap.tabIndex = 0;
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", name(wrap));
        wrap.dataset.scrolls = "1";
      } else if (!scrolls && wrap.dataset.scrolls) {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
        delete wrap.dataset.scrolls;
      }
    });
  }
  var timer;
  document.addEventListener("DOMContentLoaded", mark);
  document.addEventListener("htmx:afterSettle", mark);
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(mark, 150);
  });
})();

// Irreversible actions ask first: a submit button with data-confirm="question" goes ahead
// only when the question is answered OK (with or without htmx: no submit event otherwise).
document.addEventListener(
  "click",
  function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true
);

// Timezones: a <select data-tz-detect> the server filled with a default takes the
// browser's own zone (Intl) when it is in the list; with data-tz-detect="submit" its
// GET form is sent once, so the page's times come back in that zone. Without
// JavaScript the select and its button do the same by hand.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    if (!zone) return;
    document.querySelectorAll("select[data-tz-detect]").forEach(function (select) {
      if (select.value === zone || !select.querySelector('option[value="' + zone + '"]')) return;
      select.value = zone;
      if (select.dataset.tzDetect === "submit" && select.form) select.form.submit();
    });
  });
})();
