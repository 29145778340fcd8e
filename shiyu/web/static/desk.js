/* Case desk helpers: the case's small map and the evidence upload of an action form.
   No UI text lives here: messages come from the page (data attributes). */
(function () {
  "use strict";

  document.addEventListener("alpine:init", function () {
    // Photos are uploaded one by one to the attachments API as soon as they are chosen (the same route the
    // field app uses); the action form then sends only their ids, so the action itself stays one request.
    window.Alpine.data("evidence", function () {
      return {
        items: [], busy: false, error: "", failed: "",
        init: function () { this.failed = this.$el.dataset.failed || ""; },
        upload: function (ev) {
          var self = this, files = Array.prototype.slice.call(ev.target.files || []);
          var token = (document.cookie.match(/(?:^|; )shiyu_csrf=([^;]*)/) || [])[1] || "";
          self.error = "";
          files.forEach(function (file) {
            var body = new FormData();
            body.append("file", file, file.name);
            self.busy = true;
            fetch("/api/v1/attachments", { method: "POST", body: body, credentials: "same-origin",
                                           headers: { "X-CSRF-Token": decodeURIComponent(token) } })
              .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
              .then(function (res) {
                if (res.ok) { self.items.push({ id: res.body.id }); }
                else { self.error = res.body.message || self.failed; }
              })
              .catch(function () { self.error = self.failed; })
              .finally(function () { self.busy = false; });
          });
          ev.target.value = "";
        }
      };
    });
  });

  function drawCaseMap(el) {
    if (el.dataset.ready || typeof L === "undefined") { return; }
    el.dataset.ready = "1";
    var at = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
    var map = L.map(el, { attributionControl: !!el.dataset.tiles }).setView(at, 16);
    if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map); }
    L.circleMarker(at, { radius: 9, color: "#b42318", weight: 3, fillColor: "#f04438", fillOpacity: 0.6 }).addTo(map);
  }

  function init(root) { (root || document).querySelectorAll(".case-map").forEach(drawCaseMap); }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (ev) { init(ev.target); });
})();
