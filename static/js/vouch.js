// Site-wide behaviour. The Content-Security-Policy forbids inline script and on*=
// attributes (config/settings/): templates mark elements with data-* attributes
// and this file, loaded with `defer` by base.html, wires them up.
(function () {
  "use strict";

  // <button data-nav-toggle aria-controls="…">: on a phone, "Menu" (and the console's
  // "Console pages") opens and closes its navigation (CSS shows it while aria-expanded is
  // "true"); Escape closes it and gives the focus back to the button.
  document.querySelectorAll("[data-nav-toggle]").forEach(function (navToggle) {
    var nav = document.getElementById(navToggle.getAttribute("aria-controls"));
    if (!nav) {
      return;
    }
    function setNavOpen(open) {
      navToggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    navToggle.addEventListener("click", function () {
      setNavOpen(navToggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      var inMenu = nav.contains(document.activeElement) || document.activeElement === navToggle;
      if (event.key === "Escape" && inMenu && navToggle.getAttribute("aria-expanded") === "true") {
        setNavOpen(false);
        navToggle.focus();
      }
    });
  });

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
    // <button data-copy="#field">: copy the field's value, said in the box's
    // [data-copy-status] live region.
    var copy = target.closest("[data-copy]");
    if (copy) {
      copyField(copy);
    }
  });

  // Copy buttons ship hidden: without JavaScript, or where the page may not write to the
  // clipboard (plain http), the readonly field beside them is the way to copy.
  function showCopyButtons() {
    if (!(navigator.clipboard && window.isSecureContext)) {
      return;
    }
    document.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }
  showCopyButtons();
  document.addEventListener("htmx:afterSettle", showCopyButtons);

  function copyField(button) {
    var field = document.querySelector(button.getAttribute("data-copy"));
    var box = button.closest("section, .card, form") || document.body;
    var status = box.querySelector("[data-copy-status]");
    if (!field) {
      return;
    }
    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }
    // The words come translated from the page (<body data-copied data-copy-failed>,
    // templates/base.html); English when a page has none.
    var texts = document.body.dataset;
    navigator.clipboard.writeText(field.value).then(
      function () { say(texts.copied || "Copied"); },
      function () {
        // Refused (permissions): leave the link selected for Ctrl+C instead.
        field.select();
        say(texts.copyFailed || "Could not copy: the link is selected, copy it from there");
      }
    );
  }

  // <details data-one-open="group">: opening one closes the others of its group (the
  // challenges' forms). "toggle" does not bubble: listened to while it is captured.
  document.addEventListener(
    "toggle",
    function (event) {
      var opened = event.target;
      if (!(opened instanceof HTMLDetailsElement) || !opened.open) {
        return;
      }
      var group = opened.getAttribute("data-one-open");
      if (!group) {
        return;
      }
      document.querySelectorAll("details[open][data-one-open]").forEach(function (other) {
        if (other !== opened && other.getAttribute("data-one-open") === group) {
          other.open = false;
        }
      });
    },
    true
  );

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
