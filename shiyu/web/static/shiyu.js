/* Shiyu page helpers: Alpine components (area picker, import form, row lists) and the boundary map.
   No UI text lives here: every string comes from the page (data attributes, rendered templates). */
(function () {
  "use strict";

  // -- Alpine components (registered before Alpine starts: this file loads first) ----------------------
  document.addEventListener("alpine:init", function () {
    window.Alpine.data("areaPicker", function (opts) {
      return {
        name: opts.name, id: opts.id, query: opts.label || "", results: [], open: false,
        search: function () {
          var self = this;
          fetch("/admin/areas/search.json?max_level=" + opts.maxLevel + "&q=" + encodeURIComponent(this.query),
                { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : []; })
            .then(function (rows) { self.results = rows; self.open = true; });
          if (!this.query) { this.id = null; }
        },
        choose: function (r) { this.id = r.id; this.query = r.name; this.open = false; }
      };
    });

    window.Alpine.data("importForm", function () {
      return {
        busy: false, pct: 0, valid: false, tooBig: false,
        fileOk: function (ev, mb) {
          var f = ev.target.files[0];
          this.tooBig = !!f && f.size > mb * 1024 * 1024;
        },
        progress: function (ev) {
          if (ev.detail && ev.detail.lengthComputable) {
            this.pct = Math.round(ev.detail.loaded * 100 / ev.detail.total);
          }
        },
        done: function (ev) {
          var report = document.querySelector("#report");
          this.valid = !!report && report.dataset.importState === "valid";
        }
      };
    });

    // A list of editable rows (office periods, holiday ranges, conditions); rows are plain objects.
    window.Alpine.data("rows", function (initial, blank) {
      return {
        items: Array.isArray(initial) ? initial : [Object.assign({}, blank)],
        add: function () { this.items.push(Object.assign({}, blank)); },
        remove: function (i) { this.items.splice(i, 1); }
      };
    });
  });

  // -- maps ----------------------------------------------------------------------------------------------
  var STYLES = {
    child: { color: "#0b5cad", weight: 1.5, fillColor: "#0b5cad", fillOpacity: 0.12 },
    self: { color: "#17212b", weight: 2.5, fill: false },
    proposed: { color: "#d97706", weight: 2.5, dashArray: "6 5", fill: false }
  };

  function drawMap(el) {
    if (el.dataset.ready || typeof L === "undefined") { return; }
    el.dataset.ready = "1";
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: !!el.dataset.tiles, preferCanvas: false });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
    }
    fetch(el.dataset.src, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        var children = fc.features.filter(function (f) { return f.properties.role === "child"; }).length;
        var layer = L.geoJSON(fc, {
          style: function (f) { return STYLES[f.properties.role] || STYLES.child; },
          onEachFeature: function (f, lyr) {
            if (f.properties.role !== "child") { return; }
            lyr.bindTooltip(f.properties.name, { className: "area-label", permanent: children <= 12,
                                                 direction: "center", sticky: children > 12 });
            lyr.on("mouseover", function () { lyr.setStyle({ fillOpacity: 0.3 }); });
            lyr.on("mouseout", function () { lyr.setStyle({ fillOpacity: 0.12 }); });
            lyr.on("click", function () { window.location.href = f.properties.href; });
          }
        }).addTo(map);
        var bounds = layer.getBounds();
        if (bounds.isValid()) {
          map.fitBounds(bounds, { padding: [12, 12] });
        } else {
          map.setView([0, 0], 2);
          el.insertAdjacentHTML("beforeend", '<div class="empty" style="position:absolute;inset:0;z-index:500">' +
                                '<strong></strong></div>');
          el.querySelector(".empty strong").textContent = el.dataset.empty || "";
        }
        el.dataset.features = String(fc.features.length);
      });
  }

  function initMaps(root) {
    (root || document).querySelectorAll("[data-src].map").forEach(drawMap);
  }

  document.addEventListener("DOMContentLoaded", function () { initMaps(document); });
  document.addEventListener("htmx:load", function (ev) { initMaps(ev.target); });
  window.shiyu = { initMaps: initMaps };
})();
