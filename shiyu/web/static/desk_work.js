/* Working the desk fast (shiyu.web.desk.work, queue_nav): keys, batch ticks, live queue counts and the new-case
   sound. No UI text lives here: it comes from the page (data attributes).

   Keys never act while the user types in a field or holds Ctrl/Alt/Meta:
     J / K      next / previous case — in a queue list the focus moves along the rows; on a case page the
                next / previous case of the queue it was opened from is opened
     X          tick the focused row (batch 催办 / 督办)
     /          the search box;  ?  the help
     R D F E A H V C S U   the case's actions: the action opens and the focus goes to its button
                ("办理并打开下一件" when the case was opened from a queue), so Enter confirms. */
(function () {
  "use strict";

  var SOUND_KEY = "shiyu.desk.sound";

  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#case-list a.case-row")); }

  function moveRow(step) {
    var all = rows();
    if (!all.length) { return; }
    var at = all.indexOf(document.activeElement);
    var next = at < 0 ? 0 : Math.min(Math.max(at + step, 0), all.length - 1);
    all.forEach(function (a) { a.classList.remove("is-current"); });
    all[next].classList.add("is-current");
    all[next].focus();
  }

  function tickRow() {
    var row = document.activeElement && document.activeElement.closest ? document.activeElement.closest("li") : null;
    var box = row ? row.querySelector(".row-pick") : null;
    if (box) { box.checked = !box.checked; countTicks(); }
  }

  function openAction(key) {
    var box = document.querySelector("#actions [data-key='" + key + "']");
    if (!box) { return false; }
    if (box.tagName === "DETAILS") { box.open = true; }
    var form = box.tagName === "FORM" ? box : box.querySelector("form");
    if (!form) { return false; }
    var missing = form.querySelector("select:invalid, input:invalid:not(.sr-only), textarea:invalid");
    var target = missing || form.querySelector("button[name='then']") || form.querySelector("button[type='submit']");
    if (target) { target.focus(); }
    return true;
  }

  function go(id) {
    var link = document.getElementById(id);
    if (link) { window.location.assign(link.href); }
  }

  function onKey(ev) {
    if (ev.ctrlKey || ev.altKey || ev.metaKey || typing(ev.target)) { return; }
    var help = document.getElementById("keys-help");
    if (help && help.open) { return; }
    var key = ev.key;
    var inList = !!document.getElementById("case-list");
    if (key === "?") {
      if (help && help.showModal) { help.showModal(); ev.preventDefault(); }
      return;
    }
    if (key === "/") {
      var q = document.getElementById("desk-q");
      if (q) { q.focus(); ev.preventDefault(); }
      return;
    }
    var lower = key.toLowerCase();
    if (ev.shiftKey && lower.length === 1) { return; }
    if (lower === "j" || lower === "k") {
      if (inList) { moveRow(lower === "j" ? 1 : -1); } else { go(lower === "j" ? "case-next" : "case-prev"); }
      ev.preventDefault();
      return;
    }
    if (lower === "x" && inList) { tickRow(); ev.preventDefault(); return; }
    if (lower.length === 1 && openAction(lower)) { ev.preventDefault(); }
  }

  // -- batch ticks ------------------------------------------------------------------------------------------
  function countTicks() {
    var out = document.getElementById("batch-count");
    if (!out) { return; }
    var n = document.querySelectorAll(".row-pick:checked").length;
    out.textContent = n ? out.dataset.text.replace("{n}", n) : "";
  }

  function initBatch() {
    var all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll(".row-pick").forEach(function (b) { b.checked = all.checked; });
        countTicks();
      });
    }
    document.addEventListener("change", function (ev) {
      if (ev.target && ev.target.classList && ev.target.classList.contains("row-pick")) { countTicks(); }
    });
  }

  // -- the new-case sound (WebAudio, generated: no file to fetch), muted by a switch the browser remembers --
  var audio = null;

  function soundOn() { return window.localStorage.getItem(SOUND_KEY) !== "off"; }

  function showSound(button) {
    var on = soundOn();
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? button.dataset.on : button.dataset.off;
  }

  function unlock() {
    // Browsers start audio only after a user gesture: the first key or click of the day prepares it.
    if (!audio && (window.AudioContext || window.webkitAudioContext)) {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    }
  }

  function ring() {
    var button = document.getElementById("sound-toggle");
    if (!button || !soundOn()) { return; }
    button.dataset.rings = String(parseInt(button.dataset.rings || "0", 10) + 1);
    if (!audio) { return; }
    var now = audio.currentTime;
    [0, 0.18].forEach(function (offset, i) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = i ? 1320 : 880;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.25, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.15);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + offset);
      osc.stop(now + offset + 0.16);
    });
  }

  function initSound() {
    var button = document.getElementById("sound-toggle");
    if (!button) { return; }
    showSound(button);
    button.addEventListener("click", function () {
      window.localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
      showSound(button);
    });
    document.addEventListener("keydown", unlock, { once: true });
    document.addEventListener("pointerdown", unlock, { once: true });
  }

  // -- live queue counts --------------------------------------------------------------------------------------
  var WATCH_LISTS = ["overdue", "supervised"];

  function parseCounts(nav) {
    var out = {};
    (nav && nav.dataset.counts ? nav.dataset.counts.split(",") : []).forEach(function (pair) {
      var kv = pair.split("=");
      if (kv[0]) { out[kv[0]] = parseInt(kv[1], 10) || 0; }
    });
    return out;
  }

  var pending = null;

  function refreshCounts() {
    var nav = document.getElementById("queue-tabs");
    if (!nav || !window.htmx) { return; }
    var before = parseCounts(nav);
    var current = nav.querySelector("[aria-current]");
    var url = "/desk/counts" + (current ? "?queue=" + current.dataset.queue : "");
    window.htmx.ajax("GET", url, { target: "#queue-tabs", swap: "outerHTML" }).then(function () {
      var after = parseCounts(document.getElementById("queue-tabs"));
      var grew = Object.keys(after).some(function (name) {
        return WATCH_LISTS.indexOf(name) < 0 && after[name] > (before[name] || 0);
      });
      if (grew) { ring(); }
    });
  }

  function onCaseChanged() {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(function () { pending = null; refreshCounts(); }, 800);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("keydown", onKey);
    initBatch();
    initSound();
    document.addEventListener("desk:case", onCaseChanged);
  });
})();
