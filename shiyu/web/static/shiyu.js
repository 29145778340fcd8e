/* Shiyu page helpers: Alpine components (area picker, import form, row lists, area tree), the boundary map and
   a few page behaviours that used to be inline attributes.
   No UI text lives here: every string comes from the page (data attributes, rendered templates).

   The pages run under a Content-Security-Policy without 'unsafe-inline' or 'unsafe-eval'
   (shiyu.web.security_headers): Alpine is its CSP build, which parses x-* expressions itself, and server data
   never goes into an expression — it comes as data-* attributes (JSON where structured) read here. Stored text
   (area, category, department names…) is put into the page as text nodes, never as HTML. */
(function () {
  "use strict";

  function parsed(text, fallback) {
    if (!text) { return fallback; }
    try { return JSON.parse(text); } catch (e) { return fallback; }
  }

  // A same-site path ("/admin/areas?area=3"), or null: a link read from data must never become javascript:.
  function sitePath(href) {
    return typeof href === "string" && href.charAt(0) === "/" && href.charAt(1) !== "/" && href.indexOf("\\") === -1
      ? href : null;
  }

  // A Leaflet tooltip or popup body holding this text as text (Leaflet takes an element as content).
  function textBox(text, className) {
    var span = document.createElement("span");
    if (className) { span.className = className; }
    span.textContent = text === null || text === undefined ? "" : String(text);
    return span;
  }

  // -- Alpine components (registered before Alpine starts: this file loads first) ----------------------
  document.addEventListener("alpine:init", function () {
    // Plain state from the element's data-state JSON: x-data="state" data-state='{"role": "…"}'.
    window.Alpine.data("state", function () {
      return {
        init: function () {
          var initial = parsed(this.$el.dataset.state, {}), self = this;
          Object.keys(initial).forEach(function (k) { self[k] = initial[k]; });
        }
      };
    });

    // data-max-level, data-id, data-label (the chosen area), data-collect="1": announce each choice as an
    // "area-chosen" event instead of keeping it (the department form's list of jurisdictions).
    window.Alpine.data("areaPicker", function () {
      return {
        id: null, query: "", results: [], open: false, maxLevel: 4, collect: false,
        init: function () {
          var d = this.$el.dataset;
          this.id = d.id ? Number(d.id) : null;
          this.query = d.label || "";
          this.maxLevel = Number(d.maxLevel || 4);
          this.collect = d.collect === "1";
        },
        // Typing asks anew: the list shown answered an earlier text, and a choice made before no longer
        // matches what the field says. The list comes back with the answer to the text as it is now.
        typed: function () {
          this.open = false;
          if (!this.collect) { this.id = null; }
        },
        search: function () {
          var self = this, asked = this.query;
          fetch("/admin/areas/search.json?max_level=" + this.maxLevel + "&q=" + encodeURIComponent(asked),
                { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : []; })
            .then(function (rows) {
              if (asked !== self.query) { return; }  // an answer to an earlier text: a later search shows its own
              self.results = rows;
              self.open = true;
            });
          if (!asked) { this.id = null; }
        },
        choose: function (r) {
          this.open = false;
          if (this.collect) {
            this.$dispatch("area-chosen", { id: r.id, name: r.name });
            this.query = "";
            return;
          }
          this.id = r.id;
          this.query = r.name;
        }
      };
    });

    // The areas a department form lists (data-chosen: [{id, name}]), added by an areaPicker inside it.
    window.Alpine.data("jurisdictions", function () {
      return {
        chosen: [],
        init: function () { this.chosen = parsed(this.$el.dataset.chosen, []); },
        add: function (area) {
          if (!this.chosen.some(function (c) { return c.id === area.id; })) { this.chosen.push(area); }
        },
        remove: function (i) { this.chosen.splice(i, 1); }
      };
    });

    // data-max-mb, data-uploading and data-checking (the progress texts).
    window.Alpine.data("importForm", function () {
      return {
        busy: false, pct: 0, valid: false, tooBig: false, maxMb: 0, uploading: "", checking: "",
        init: function () {
          var d = this.$el.dataset;
          this.maxMb = Number(d.maxMb);
          this.uploading = d.uploading || "";
          this.checking = d.checking || "";
        },
        picked: function (ev) {
          var f = ev.target.files[0];
          this.valid = false;
          this.tooBig = !!f && f.size > this.maxMb * 1024 * 1024;
        },
        start: function () { this.busy = true; this.pct = 0; },
        progress: function (ev) {
          if (ev.detail && ev.detail.lengthComputable) {
            this.pct = Math.round(ev.detail.loaded * 100 / ev.detail.total);
          }
        },
        finish: function () {
          var report = document.querySelector("#report");
          this.busy = false;
          this.valid = !!report && report.dataset.importState === "valid";
        },
        status: function () { return this.pct < 100 ? this.uploading + " " + this.pct + "%" : this.checking; },
        // An object, so Alpine sets the width through the CSSOM (a style attribute would break the CSP).
        bar: function () { return this.pct < 100 ? { width: this.pct + "%" } : {}; }
      };
    });

    // A list of editable rows (office periods, holiday ranges): data-rows (the rows) and data-blank (a new one).
    window.Alpine.data("rows", function () {
      return {
        items: [], blank: {},
        init: function () {
          this.blank = parsed(this.$el.dataset.blank, {});
          var initial = parsed(this.$el.dataset.rows, null);
          this.items = Array.isArray(initial) ? initial : [Object.assign({}, this.blank)];
        },
        add: function () { this.items.push(Object.assign({}, this.blank)); },
        remove: function (i) { this.items.splice(i, 1); }
      };
    });

    // One node of the area tree: data-loaded (its children are in the page), data-src (where they are
    // otherwise), data-expand / data-collapse (the toggle's labels).
    window.Alpine.data("treeNode", function () {
      return {
        open: false, loaded: false,
        init: function () { this.open = this.loaded = this.$el.dataset.loaded === "1"; },
        toggle: function () {
          if (!this.loaded) {
            window.htmx.ajax("GET", this.$root.dataset.src, { target: this.$refs.kids, swap: "innerHTML" });
            this.loaded = true;
          }
          this.open = !this.open;
        },
        label: function () { return this.open ? this.$root.dataset.collapse : this.$root.dataset.expand; }
      };
    });
  });

  // -- behaviours -----------------------------------------------------------------------------------------
  // <select data-autosubmit>: a filter that applies as soon as it changes.
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.form && el.matches("[data-autosubmit]")) { el.form.submit(); }
  });

  // data-width="37": a bar's width in percent, set through the CSSOM (style attributes are refused by the CSP).
  function widths(root) {
    root.querySelectorAll("[data-width]").forEach(function (el) {
      var pct = Math.max(0, Math.min(100, Number(el.dataset.width) || 0));
      el.style.width = pct + "%";
    });
  }

  // -- maps ----------------------------------------------------------------------------------------------
  var STYLES = {
    child: { color: "#0b5cad", weight: 1.5, fillColor: "#0b5cad", fillOpacity: 0.12 },
    self: { color: "#17212b", weight: 2.5, fill: false },
    proposed: { color: "#d97706", weight: 2.5, dashArray: "6 5", fill: false },
    context: { color: "#52606d", weight: 1.5, dashArray: "2 4", fill: false }
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
            lyr.bindTooltip(textBox(f.properties.name), { className: "area-label", permanent: children <= 12,
                                                          direction: "center", sticky: children > 12 });
            lyr.on("mouseover", function () { lyr.setStyle({ fillOpacity: 0.3 }); });
            lyr.on("mouseout", function () { lyr.setStyle({ fillOpacity: 0.12 }); });
            var href = sitePath(f.properties.href);
            if (href && !el.dataset.pick) { lyr.on("click", function () { window.location.href = href; }); }
          }
        }).addTo(map);
        var bounds = layer.getBounds();
        if (bounds.isValid()) {
          map.fitBounds(bounds, { padding: [12, 12] });
        } else {
          map.setView([0, 0], 2);
          var empty = document.createElement("div");
          empty.className = "empty map-empty";
          empty.appendChild(document.createElement("strong")).textContent = el.dataset.empty || "";
          el.appendChild(empty);
        }
        el.dataset.features = String(fc.features.length);
      });
    if (el.dataset.pick) { pickPoint(map, el); }
  }

  // data-pick: a click on the map (polygons let it through) chooses the form's point mode, fills its lon/lat
  // fields and marks the spot.
  function pickPoint(map, el) {
    var form = el.closest("form");
    var marker = null;
    map.on("click", function (e) {
      var mode = form.querySelector("[name=mode][value=point]");
      if (mode && !mode.checked) { mode.click(); }
      form.querySelector("[name=lon]").value = e.latlng.lng.toFixed(6);
      form.querySelector("[name=lat]").value = e.latlng.lat.toFixed(6);
      if (marker) { marker.setLatLng(e.latlng); } else {
        marker = L.circleMarker(e.latlng, { radius: 7, color: "#c2410c", weight: 3, fillOpacity: 0.6 }).addTo(map);
      }
    });
  }

  // A table wider than its box scrolls sideways; a keyboard user can only scroll what can take focus (WCAG
  // 2.1.1). So exactly the wraps that overflow become tab stops, named after the heading above them.
  function scrollers() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) {
          var heading = wrap.closest("section, .card, main");
          heading = heading && heading.querySelector("h1, h2, h3, caption");
          wrap.setAttribute("aria-label", ((heading && heading.textContent) || document.title).trim());
        }
      } else if (wrap.getAttribute("tabindex") === "0") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
      }
    });
  }

  function initPage(root) {
    (root || document).querySelectorAll("[data-src].map").forEach(drawMap);
    widths(root || document);
    scrollers();
    // What a page or a swapped part marks for focus (the result of an action) takes it, so keyboard and
    // screen-reader users continue from there instead of the top of the page.
    var focus = (root || document).querySelector("[data-autofocus]");
    if (focus) { focus.focus(); }
  }

  window.addEventListener("resize", scrollers);
  document.addEventListener("DOMContentLoaded", function () { initPage(document); });
  document.addEventListener("htmx:load", function (ev) { initPage(ev.target); });
  window.shiyu = { textBox: textBox };
})();
