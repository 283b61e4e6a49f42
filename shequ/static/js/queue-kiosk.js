/* Public queue pages: the kiosk's two steps and on-screen keypads, the idle reset of kiosk
   pages, printing the ticket, and the booking form's matter list. Plain JS, no network of its
   own (the slot list is loaded by htmx). Every page also works without it. */
(function () {
  "use strict";

  var IDLE_MS = 60000;

  /* ---------------------------------------------------------------- on-screen keypads */
  function setupKeypad(pad) {
    var scope = pad.closest("form") || document;
    var target = document.getElementById(pad.getAttribute("data-target"));
    var fields = scope.querySelectorAll("[data-keypad-field]");

    function refresh() {
      var digitsOnly = target && target.hasAttribute("data-keypad-digits-only");
      pad.querySelectorAll(".key-x").forEach(function (key) { key.disabled = !!digitsOnly; });
      fields.forEach(function (field) { field.classList.toggle("keypad-target", field === target); });
    }

    fields.forEach(function (field) {
      field.addEventListener("focus", function () { target = field; refresh(); });
    });
    // Keep the caret in the field: pressing a key must not take the focus away.
    pad.addEventListener("pointerdown", function (event) { event.preventDefault(); });
    pad.addEventListener("click", function (event) {
      var key = event.target.closest ? event.target.closest("[data-key]") : null;
      if (!key || !target || key.disabled) { return; }
      var value = key.getAttribute("data-key");
      var max = parseInt(target.getAttribute("maxlength") || "32", 10);
      if (value === "clear") { target.value = ""; }
      else if (value === "back") { target.value = target.value.slice(0, -1); }
      else if (target.hasAttribute("data-keypad-digits-only") && !/^[0-9]$/.test(value)) { return; }
      else if (target.value.length < max) { target.value += value; }
      target.dispatchEvent(new Event("input", { bubbles: true }));
      target.focus();
    });
    refresh();
  }

  document.querySelectorAll("[data-keypad]").forEach(setupKeypad);

  /* Codes and ID numbers in capitals; a scanner's Enter after an ID number does not take the
     number yet (the resident may still tick a box), it just tidies the field. */
  document.querySelectorAll("[data-upper]").forEach(function (field) {
    field.addEventListener("input", function () {
      var upper = field.value.replace(/\s+/g, "").toUpperCase();
      if (upper !== field.value) { field.value = upper; }
    });
  });
  document.querySelectorAll("[data-scanner-hold]").forEach(function (field) {
    field.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); field.blur(); }
    });
  });

  /* ------------------------------------------------------------------ kiosk: two steps */
  var qk = document.getElementById("qk");
  var form = document.getElementById("qk-form");
  if (qk && form) {
    qk.classList.add("qk-js");
    var chosenName = document.getElementById("qk-chosen-name");
    var phone = document.getElementById("qk-phone");
    var showStep = function (step) {
      qk.setAttribute("data-step", String(step));
      window.scrollTo(0, 0);
    };
    var checked = function () { return form.querySelector("input[name=category]:checked"); };
    var describe = function () {
      var radio = checked();
      if (chosenName) { chosenName.textContent = radio ? radio.getAttribute("data-name") : ""; }
    };
    if (qk.getAttribute("data-step") !== "2" || !checked()) { showStep(1); }
    describe();
    form.querySelectorAll("input[name=category]").forEach(function (radio) {
      // "click" too: choosing the same category again after going back still moves on.
      ["change", "click"].forEach(function (type) {
        radio.addEventListener(type, function () {
          describe();
          showStep(2);
          if (phone) { phone.focus(); }
        });
      });
    });
    var back = form.querySelector("[data-qk-back]");
    if (back) { back.addEventListener("click", function () { showStep(1); }); }
    var sent = false;
    form.addEventListener("submit", function (event) {
      if (sent) { event.preventDefault(); return; }  // a double tap: the first one is on its way
      sent = true;
      var button = document.getElementById("qk-issue");
      if (button) { button.classList.add("is-busy"); }
    });
  }

  /* --------------------------------------------------- kiosk pages: reset when left idle */
  var homed = document.querySelector("[data-kiosk-home]");
  if (homed) {
    var home = homed.getAttribute("data-kiosk-home");
    var last = Date.now();
    ["pointerdown", "keydown", "touchstart", "input"].forEach(function (type) {
      document.addEventListener(type, function () { last = Date.now(); }, true);
    });
    var dirty = function () {
      if (window.location.pathname + window.location.search !== home) { return true; }
      if (homed.getAttribute("data-step") === "2") { return true; }
      if (document.querySelector(".errorlist, .message")) { return true; }
      var fields = homed.querySelectorAll("input[type=text], input:checked");
      for (var i = 0; i < fields.length; i++) {
        if (fields[i].type === "text" ? fields[i].value : true) { return true; }
      }
      return false;
    };
    window.setInterval(function () {
      if (Date.now() - last >= IDLE_MS && dirty()) { window.location.replace(home); }
    }, 5000);
  }

  /* ------------------------------------------------------------------- printed ticket */
  /* Thermal paper is a roll: the page is as long as the ticket. Chromium ignores
     `size: 80mm auto`, so measure the ticket and set the page length in millimetres. */
  var paper = document.querySelector(".ticket-paper[data-paper]");
  var pageStyle = document.getElementById("qt-page");
  var fitPage = function () {
    if (!paper || !pageStyle) { return; }
    var zoom = paper.style.zoom;
    paper.style.zoom = "1";
    var mm = Math.ceil(paper.getBoundingClientRect().height * 25.4 / 96) + 2;
    paper.style.zoom = zoom;
    pageStyle.textContent = "@page { size: " + paper.getAttribute("data-paper") + "mm " + mm + "mm; margin: 0; }";
  };
  fitPage();
  window.addEventListener("load", fitPage);
  window.addEventListener("beforeprint", fitPage);
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  var qt = document.querySelector("[data-auto-print]");
  if (qt) {
    var backTo = qt.getAttribute("data-kiosk-home");
    var after = parseInt(qt.getAttribute("data-return-ms") || "8000", 10);
    window.addEventListener("load", function () {
      window.setTimeout(function () { window.location.replace(backTo); }, after);
      window.setTimeout(function () { window.print(); }, 150);
    });
  }

  /* ------------------------------------------------- booking: matters of the category */
  var book = document.getElementById("qb-form");
  if (book) {
    var matter = document.getElementById("qb-matter");
    var filterMatters = function () {
      var radio = book.querySelector("input[name=category]:checked");
      var id = radio ? radio.value : "";
      if (!matter) { return; }
      matter.querySelectorAll("optgroup").forEach(function (group) {
        var mine = group.getAttribute("data-category") === id;
        group.hidden = !mine;
        group.disabled = !mine;
      });
      var selected = matter.options[matter.selectedIndex];
      if (selected && selected.parentNode.disabled) { matter.value = ""; }
    };
    book.querySelectorAll("input[name=category]").forEach(function (radio) {
      radio.addEventListener("change", filterMatters);
    });
    filterMatters();
  }
})();
