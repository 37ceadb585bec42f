// Site-wide behaviour. The Content-Security-Policy forbids inline script and on*=
// attributes (config/settings.py): templates mark elements with data-* attributes
// and this file, loaded with `defer` by base.html, wires them up.
(function () {
  "use strict";

  // On a phone the nav scrolls sideways: bring the current page's link into view.
  var current = document.querySelector('.nav [aria-current="page"]');
  if (current) {
    current.scrollIntoView({ block: "nearest", inline: "center" });
  }

  // Delegated, so elements htmx swaps in later work too.
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) {
      return;
    }
    // <input data-select-on-click>: one click selects a link to copy.
    var field = target.closest("[data-select-on-click]");
    if (field && typeof field.select === "function") {
      field.select();
    }
    // <button data-print>: print the page (referral cards).
    if (target.closest("[data-print]")) {
      window.print();
    }
  });

  // <button data-once> in a form: a second click while the first submit is on its way
  // sends nothing new (the server is idempotent anyway; this saves the round trip).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) {
      return;
    }
    form.querySelectorAll("button[data-once]").forEach(function (button) {
      setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();
