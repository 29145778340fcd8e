/* 特急 alarm on the desk: listens to /desk/events (ids of 特急 cases committed in the caller's scope), re-reads
   the pinned banner and names the cases it had not shown yet; passes every other change on as ``desk:case``. No UI text lives here: it comes from the page. */
(function () {
  "use strict";

  function shown(banner) {
    return (banner && banner.dataset.ids ? banner.dataset.ids.split(",") : []).filter(Boolean);
  }

  function refresh(alarm) {
    var before = shown(document.getElementById("critical-banner"));
    window.htmx.ajax("GET", "/desk/critical", { target: "#critical-banner", swap: "outerHTML" }).then(function () {
      var banner = document.getElementById("critical-banner");
      var added = Array.prototype.filter.call(banner ? banner.querySelectorAll("[data-case]") : [], function (a) {
        return before.indexOf(a.dataset.case) < 0;
      });
      if (added.length) {
        alarm.textContent = alarm.dataset.text + " " + added.map(function (a) {
          return a.querySelector("strong").textContent + " " + a.querySelector(".mono").textContent;
        }).join("、");
        alarm.hidden = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var alarm = document.getElementById("critical-alarm");
    if (!alarm || !window.htmx || typeof EventSource === "undefined") { return; }
    var source = new EventSource("/desk/events");
    // data-live on the body: "on" once the server has subscribed (its first event; from then on nothing
    // committed is missed), "connecting" while the browser reconnects.
    source.addEventListener("ready", function () { document.body.dataset.live = "on"; });
    source.onerror = function () { document.body.dataset.live = "connecting"; };
    source.addEventListener("critical", function () { refresh(alarm); });
    // Any other change in scope: the live queue counts re-read themselves (desk_work.js).
    source.addEventListener("case", function () { document.dispatchEvent(new CustomEvent("desk:case")); });
    window.addEventListener("pagehide", function () { source.close(); });
  });
})();
