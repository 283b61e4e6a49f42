/* Hall display (排队叫号显示屏): long-poll the centre's state, render it, announce new calls.

   The page is rendered on the server first; this script then keeps it current:
   - a loop of fetch(state?since=<version>): the server answers as soon as something changes
     (or after its long-poll timeout with the unchanged state);
   - a new call (a ticket id, recall count and call time not seen before) flashes its window and
     is spoken through speechSynthesis, queued so that two calls are both heard;
   - on a network error a small badge shows and the loop retries after 1 s, 2 s, 4 s … at most
     10 s; the first answer after that hides the badge and renders the whole state again.
   Browsers only speak after a user gesture, hence the one-time "点击开启语音播报" button. A TV
   whose browser runs with --autoplay-policy=no-user-gesture-required can open the page with
   ?autospeak=1 to skip the button.
   Only ticket and window numbers are ever shown or spoken. Plain ES5, no libraries. */
(function () {
  "use strict";

  var root = document.getElementById("qd");
  var initial = document.getElementById("qd-state");
  if (!root || !initial || !window.fetch) { return; }

  var stateUrl = root.getAttribute("data-state-url");
  var longPollMs = (parseFloat(root.getAttribute("data-long-poll")) || 20) * 1000;
  var timeZone = root.getAttribute("data-time-zone") || undefined;
  var speechLang = root.getAttribute("data-speech-lang") || "zh-CN";
  var phrase = root.getAttribute("data-phrase") || "{number} {window}";
  var voiceOnPhrase = root.getAttribute("data-voice-on") || "";

  var FRESH_CALL_MS = 2 * 60 * 1000;  // calls older than this (e.g. during an outage) are not spoken
  var FLASH_MS = 6000;
  var RELOAD_MS = 5 * 60 * 1000;
  var MAX_BACKOFF_MS = 10000;

  var version = null;
  var seen = {};
  var serverOffset = 0;
  var failures = 0;
  var offline = false;
  var loadedAt = Date.now();
  var lastSuccess = Date.now();
  var flashUntil = {};

  // ------------------------------------------------------------------ rendering

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function replaceChildren(parent, fragment) {
    while (parent.firstChild) { parent.removeChild(parent.firstChild); }
    parent.appendChild(fragment);
  }

  function renderWindows(windows) {
    var list = document.getElementById("qd-windows");
    var fragment = document.createDocumentFragment();
    var now = Date.now();
    windows.forEach(function (w) {
      var item = el("li", "qd-window is-" + w.state);
      item.setAttribute("data-window", w.number);
      if (flashUntil[w.number] && flashUntil[w.number] > now) { item.className += " is-flash"; }
      item.appendChild(el("span", "qd-window-label", w.label));
      item.appendChild(el("span", "qd-window-state", w.state_label));
      item.appendChild(el("span", "qd-window-ticket", w.ticket));
      fragment.appendChild(item);
    });
    replaceChildren(list, fragment);
    list.className = "qd-window-list" + (windows.length > 8 ? " qd-many" : "");
  }

  function renderRecent(recent) {
    var list = document.getElementById("qd-recent");
    var fragment = document.createDocumentFragment();
    recent.forEach(function (c) {
      var item = el("li");
      item.appendChild(el("span", "qd-recent-number", c.number));
      item.appendChild(el("span", "qd-recent-window", c.window_label));
      item.appendChild(el("span", "qd-recent-time", c.time));
      fragment.appendChild(item);
    });
    if (!recent.length) { fragment.appendChild(el("li", "qd-empty", list.getAttribute("data-empty"))); }
    replaceChildren(list, fragment);
  }

  function renderWaiting(waiting) {
    var list = document.getElementById("qd-waiting");
    var unit = list.getAttribute("data-unit") || "";
    var fragment = document.createDocumentFragment();
    waiting.forEach(function (w) {
      var item = el("li");
      item.appendChild(el("span", "qd-prefix", w.prefix));
      item.appendChild(el("span", "qd-category", w.name));
      var count = el("span", "qd-count", w.count);
      count.appendChild(el("small", "", unit));
      item.appendChild(count);
      fragment.appendChild(item);
    });
    replaceChildren(list, fragment);
  }

  function render(state) {
    renderWindows(state.windows || []);
    renderRecent(state.recent || []);
    renderWaiting(state.waiting || []);
  }

  function flash(windowNumber) {
    flashUntil[windowNumber] = Date.now() + FLASH_MS;
    var item = document.querySelector('.qd-window[data-window="' + windowNumber + '"]');
    if (item) {
      item.classList.remove("is-flash");
      void item.offsetWidth;  // restart the animation on a recall
      item.classList.add("is-flash");
    }
    window.setTimeout(function () {
      var current = document.querySelector('.qd-window[data-window="' + windowNumber + '"]');
      if (current && flashUntil[windowNumber] <= Date.now()) { current.classList.remove("is-flash"); }
    }, FLASH_MS + 50);
  }

  // ------------------------------------------------------------------ speech

  var synth = window.speechSynthesis;
  var voiceEnabled = false;
  var voice = null;
  var speechQueue = [];
  var speaking = null;

  function pickVoice() {
    if (!synth) { return; }
    var wanted = speechLang.toLowerCase();
    var voices = synth.getVoices() || [];
    for (var i = 0; i < voices.length; i++) {
      var lang = (voices[i].lang || "").replace("_", "-").toLowerCase();
      if (lang === wanted) { voice = voices[i]; return; }
      if (!voice && lang.split("-")[0] === wanted.split("-")[0]) { voice = voices[i]; }
    }
  }

  /* "A012" → "A零一二": the letter, then each digit, as a caller would read it. */
  function spokenNumber(number) {
    if (speechLang.toLowerCase().indexOf("zh") !== 0) { return String(number).split("").join(" "); }
    var digits = "零一二三四五六七八九";
    return String(number).replace(/[0-9]/g, function (d) { return digits.charAt(+d); });
  }

  function pump() {
    if (speaking || !speechQueue.length || !synth) { return; }
    var utterance = new SpeechSynthesisUtterance(speechQueue.shift());
    utterance.lang = speechLang;
    utterance.rate = 0.9;
    if (voice) { utterance.voice = voice; }
    speaking = utterance;
    var done = function () {
      if (speaking !== utterance) { return; }
      speaking = null;
      window.setTimeout(pump, 300);
    };
    utterance.onend = done;
    utterance.onerror = done;
    window.setTimeout(done, 15000);  // some engines never report the end
    synth.speak(utterance);
  }

  function say(text) {
    if (!voiceEnabled || !synth) { return; }
    speechQueue.push(text);
    pump();
  }

  function announce(call) {
    say(phrase.replace("{number}", spokenNumber(call.number)).replace("{window}", String(call.window)));
  }

  function enableVoice(confirm) {
    voiceEnabled = true;
    var button = document.getElementById("qd-voice");
    if (button) { button.hidden = true; }
    if (confirm && voiceOnPhrase) { say(voiceOnPhrase); }
  }

  function setupVoice() {
    if (!synth || typeof window.SpeechSynthesisUtterance !== "function") { return; }
    pickVoice();
    if ("onvoiceschanged" in synth) { synth.onvoiceschanged = pickVoice; }
    if (/[?&]autospeak=1\b/.test(window.location.search)) { enableVoice(false); return; }
    var button = document.getElementById("qd-voice");
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () { enableVoice(true); });
  }

  // ------------------------------------------------------------------ state

  function callKey(call) { return call.id + ":" + call.recalls + ":" + call.called_at; }

  /* Render a state; flash and speak the calls not seen before (oldest first). */
  function apply(state, first) {
    var serverNow = Date.parse(state.now);
    if (!isNaN(serverNow)) { serverOffset = serverNow - Date.now(); }
    var nextSeen = {};
    var fresh = [];
    (state.calls || []).forEach(function (call) {
      var key = callKey(call);
      nextSeen[key] = true;
      if (!first && !seen[key] && serverNow - Date.parse(call.called_at) < FRESH_CALL_MS) { fresh.push(call); }
    });
    seen = nextSeen;
    version = state.version;
    fresh.reverse().forEach(function (call) { flashUntil[call.window] = Date.now() + FLASH_MS; });
    render(state);
    fresh.forEach(function (call) { flash(call.window); announce(call); });
  }

  function showOffline(on) {
    offline = on;
    var badge = document.getElementById("qd-offline");
    if (badge) { badge.hidden = !on; }
    root.classList.toggle("is-offline", on);
  }

  function poll() {
    var url = stateUrl + (version === null ? "" : "?since=" + encodeURIComponent(version));
    var controller = window.AbortController ? new AbortController() : null;
    var timer = window.setTimeout(function () { if (controller) { controller.abort(); } }, longPollMs + 10000);
    fetch(url, {
      cache: "no-store",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined
    })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (state) {
        window.clearTimeout(timer);
        failures = 0;
        lastSuccess = Date.now();
        showOffline(false);
        apply(state, false);
        window.setTimeout(poll, 100);
      })
      .catch(function () {
        window.clearTimeout(timer);
        failures += 1;
        version = null;  // after the outage: ask for the full state at once
        showOffline(true);
        window.setTimeout(poll, Math.min(1000 * Math.pow(2, failures - 1), MAX_BACKOFF_MS));
      });
  }

  // ------------------------------------------------------------------ clock and fallback reload

  var timeFormat = null;
  var dateFormat = null;
  try {
    timeFormat = new Intl.DateTimeFormat("zh-CN", {
      hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: timeZone
    });
    dateFormat = new Intl.DateTimeFormat(document.documentElement.lang || "zh-CN", {
      year: "numeric", month: "long", day: "numeric", weekday: "long", timeZone: timeZone
    });
  } catch (e) { timeFormat = null; }

  function tick() {
    if (!timeFormat || !dateFormat) { return; }
    var now = new Date(Date.now() + serverOffset);
    document.getElementById("qd-time").textContent = timeFormat.format(now);
    document.getElementById("qd-date").textContent = dateFormat.format(now);
  }

  /* A long-running TV reloads itself every 5 minutes while speech is off (nothing to lose), and
     whenever the loop has not heard from the server for 5 minutes although the server answers.
     It never reloads into an unreachable server: that would leave the browser's error page. */
  function maybeReload() {
    var now = Date.now();
    var stuck = !offline && now - lastSuccess > RELOAD_MS;
    var routine = !voiceEnabled && now - loadedAt > RELOAD_MS;
    if (!stuck && !routine) { return; }
    fetch(stateUrl, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { if (response.ok) { window.location.reload(); } })
      .catch(function () { /* still offline: the poll loop keeps trying */ });
  }

  // ------------------------------------------------------------------ start

  try {
    apply(JSON.parse(initial.textContent), true);
  } catch (e) {
    version = null;
  }
  setupVoice();
  tick();
  window.setInterval(tick, 1000);
  window.setInterval(maybeReload, 30000);
  poll();
})();
