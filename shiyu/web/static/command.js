/* The command view (一张图): area boundaries by zoom level, clustered case markers coloured by state or
   category with time-limit warnings, a heat layer, jurisdictions, KPI cards with an ECharts trend, and live
   updates by server-sent events (each announced case is re-read through the scoped cases endpoint).
   Names in popups and tooltips (areas, categories, departments) are stored text: they go in as text nodes
   (shiyu.textBox, from shiyu.js), never as HTML. */
(function () {
  "use strict";
  var textBox = window.shiyu.textBox;

  var STATE_COLOURS = {
    reported: "#7c3aed", to_dispatch: "#2563eb", to_accept: "#0891b2", handling: "#0b5cad", suspended: "#64748b",
    to_verify: "#0d9488", to_close: "#15803d", closed: "#9ca3af", rejected: "#d1d5db", merged: "#d1d5db"
  };
  var PALETTE = ["#0b5cad", "#d97706", "#15803d", "#7c3aed", "#be123c", "#0891b2", "#4d7c0f", "#9333ea",
    "#b45309", "#0f766e", "#1d4ed8", "#a21caf"];
  var WARNING_COLOURS = { 1: "#e8a500", 2: "#d92d20" };
  var CLOSED = { closed: true, rejected: true, merged: true };

  function readJson(id) { return JSON.parse(document.getElementById(id).textContent); }

  function query(cfg, extra) {
    var params = new URLSearchParams();
    params.set("area", cfg.area);
    Object.keys(cfg.filters).forEach(function (k) { params.set(k, cfg.filters[k]); });
    Object.keys(extra || {}).forEach(function (k) { params.set(k, extra[k]); });
    return params.toString();
  }

  function CommandView(el, cfg, texts) {
    this.el = el;
    this.cfg = cfg;
    this.texts = texts;
    this.features = {};  // case id -> GeoJSON feature
    this.markers = {};  // case id -> marker, for the features that pass the layer switches
    this.areaLayers = {};
    this.majorColour = {};
    var self = this;
    cfg.legend.majors.forEach(function (m, i) { self.majorColour[m.id] = PALETTE[i % PALETTE.length]; });
    this.map = L.map(el, { zoomSnap: 0.5, maxZoom: 19, attributionControl: !!cfg.tiles });
    if (cfg.tiles) {
      L.tileLayer(cfg.tiles, { maxZoom: 19 }).addTo(this.map);
    } else {
      el.setAttribute("title", texts.no_tiles);
    }
    this.map.createPane("areas").style.zIndex = 350;
    // Markers and clusters are not Tab stops (a city has hundreds, many off-screen): keyboard users reach the
    // same cases through the list under the map (drawList).
    L.MarkerCluster.mergeOptions({ keyboard: false });
    this.clusters = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50,
      iconCreateFunction: function (c) { return self.clusterIcon(c); } }).addTo(this.map);
    this.heat = null;
    this.jurisdictions = null;
  }

  CommandView.prototype.switches = function () {
    var form = document.getElementById("layers");
    return {
      colour: form.querySelector("input[name=colour]:checked").value,
      heat: form.querySelector("input[name=heat]").checked,
      overdue: form.querySelector("input[name=overdue]").checked,
      supervised: form.querySelector("input[name=supervised]").checked,
      open: form.querySelector("input[name=open]").checked,
      jurisdictions: form.querySelector("input[name=jurisdictions]").checked
    };
  };

  // -- boundaries: the area's own outline first, then one level deeper for every two zoom steps ----------
  CommandView.prototype.loadAreas = function (level) {
    var self = this;
    if (this.areaLayers[level]) { return Promise.resolve(this.areaLayers[level]); }
    return fetch("/command/areas.json?" + new URLSearchParams({ area: this.cfg.area, level: level }))
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        var own = level === self.cfg.level;
        self.areaLayers[level] = L.geoJSON(fc, {
          pane: "areas", interactive: !own,
          style: own ? { color: "#17212b", weight: 2.5, fill: false }
            : { color: "#0b5cad", weight: level >= 4 ? 1 : 1.5, fillColor: "#0b5cad", fillOpacity: 0.04 },
          onEachFeature: function (f, lyr) { if (!own) { lyr.bindTooltip(textBox(f.properties.name), { sticky: true }); } }
        });
        return self.areaLayers[level];
      });
  };

  CommandView.prototype.levelForZoom = function () {
    var deeper = Math.floor((this.map.getZoom() - this.baseZoom) / 2);
    return Math.min(4, this.cfg.level + 1 + Math.max(0, deeper));
  };

  CommandView.prototype.showLevel = function () {
    var self = this;
    var level = this.cfg.level >= 4 ? null : this.levelForZoom();
    Object.keys(this.areaLayers).forEach(function (k) {
      var n = Number(k);
      if (n !== self.cfg.level && n !== level) { self.map.removeLayer(self.areaLayers[k]); }
    });
    if (level !== null) {
      this.loadAreas(level).then(function (lyr) { if (self.levelForZoom() === level) { lyr.addTo(self.map); } });
    }
  };

  // -- cases ----------------------------------------------------------------------------------------------
  CommandView.prototype.colourOf = function (f) {
    if (this.switches().colour === "category") {
      return this.majorColour[this.cfg.legend.major_of[f.properties.c]] || "#64748b";
    }
    return STATE_COLOURS[f.properties.s] || "#64748b";
  };

  CommandView.prototype.passes = function (f, sw) {
    var p = f.properties;
    return (!sw.overdue || p.w === 2) && (!sw.supervised || p.v === 1) && (!sw.open || !CLOSED[p.s]);
  };

  CommandView.prototype.marker = function (f) {
    var p = f.properties;
    var ring = WARNING_COLOURS[p.w];
    var m = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
      radius: p.v ? 8 : 6, weight: ring ? 3 : (p.v ? 2.5 : 1), color: ring || (p.v ? "#17212b" : "#ffffff"),
      fillColor: this.colourOf(f), fillOpacity: 0.9, className: "case-marker case-" + f.id
    });
    m.caseWarning = p.w;
    var t = this.texts, cfg = this.cfg;
    m.bindPopup(function () { return popup(f, t, cfg); });
    return m;
  };

  // State, category, warning and supervision badges and the link to the case, built as DOM nodes.
  function popup(f, t, cfg) {
    var p = f.properties, box = document.createElement("div");
    box.className = "case-popup";
    box.appendChild(textBox(t.state[p.s] || p.s, "state"));
    box.appendChild(document.createElement("br"));
    box.appendChild(textBox(categoryName(cfg, p.c), "category"));
    if (p.w || p.v) { box.appendChild(document.createElement("br")); }
    if (p.w) { box.appendChild(textBox(t.warning[p.w], "badge " + (p.w === 2 ? "bad" : "warn"))); }
    if (p.v) { box.appendChild(textBox(t.supervised, "badge")); }
    box.appendChild(document.createElement("br"));
    var link = document.createElement("a");
    link.href = "/desk/cases/" + encodeURIComponent(f.id);
    link.textContent = t.open + " #" + f.id;
    box.appendChild(link);
    return box;
  }

  function categoryName(cfg, id) {
    var name = "";
    cfg.legend.majors.forEach(function (m) {
      if (m.id === id) { name = m.name; }
      m.children.forEach(function (c) { if (c.id === id) { name = m.name + " · " + c.name; } });
    });
    return name;
  }

  // A cluster is neutral; a badge counts its red cases (or, without red ones, its yellow ones), so where the
  // overdue cases gather still shows when most clusters hold at least one.
  CommandView.prototype.clusterIcon = function (cluster) {
    var counts = { 1: 0, 2: 0 };
    cluster.getAllChildMarkers().forEach(function (m) { if (m.caseWarning) { counts[m.caseWarning] += 1; } });
    var n = cluster.getChildCount();
    var size = n < 10 ? 30 : n < 100 ? 36 : n < 1000 ? 42 : 48;
    var html = document.createElement("span");
    html.appendChild(textBox(n));
    if (counts[2] || counts[1]) {
      var badge = html.appendChild(document.createElement("em"));
      badge.className = counts[2] ? "red" : "yellow";
      badge.textContent = String(counts[2] || counts[1]);
    }
    return L.divIcon({ html: html, className: "case-cluster", iconSize: L.point(size, size) });
  };

  CommandView.prototype.redraw = function () {
    var self = this, sw = this.switches(), list = [];
    this.clusters.clearLayers();
    this.markers = {};
    Object.keys(this.features).forEach(function (id) {
      var f = self.features[id];
      if (!self.passes(f, sw)) { return; }
      self.markers[id] = self.marker(f);
      list.push(self.markers[id]);
    });
    this.clusters.addLayers(list);
    this.showJurisdictions(sw.jurisdictions);
    this.showRegistry();
    this.drawLegend(sw);
    this.drawHeat(sw);
    this.drawList();
  };

  // The cases on the map as links, most urgent first (red, yellow, supervised), at most LIST_MAX of them.
  var LIST_MAX = 100;
  CommandView.prototype.drawList = function () {
    var self = this, ol = document.querySelector("#case-list ol");
    if (!ol) { return; }
    var ids = Object.keys(this.markers).sort(function (a, b) {
      var fa = self.features[a].properties, fb = self.features[b].properties;
      return ((fb.w || 0) * 2 + (fb.v || 0)) - ((fa.w || 0) * 2 + (fa.v || 0)) || Number(b) - Number(a);
    }).slice(0, LIST_MAX);
    ol.textContent = "";
    ids.forEach(function (id) {
      var p = self.features[id].properties, li = ol.appendChild(document.createElement("li"));
      var link = li.appendChild(document.createElement("a"));
      link.href = "/desk/cases/" + encodeURIComponent(id);
      link.textContent = "#" + id + " " + (self.texts.state[p.s] || p.s) + " · " + categoryName(self.cfg, p.c);
      if (p.w) { li.appendChild(textBox(self.texts.warning[p.w], "badge " + (p.w === 2 ? "bad" : "warn"))); }
      if (p.v) { li.appendChild(textBox(self.texts.supervised, "badge")); }
    });
  };

  // The heat layer and the count follow the markers that pass the switches.
  CommandView.prototype.drawHeat = function (sw) {
    var self = this, points = [];
    Object.keys(this.markers).forEach(function (id) {
      var f = self.features[id];
      points.push([f.geometry.coordinates[1], f.geometry.coordinates[0], f.properties.w ? 1 : 0.5]);
    });
    if (this.heat) { this.map.removeLayer(this.heat); this.heat = null; }
    if (sw.heat && points.length) { this.heat = L.heatLayer(points, { radius: 18, blur: 15, maxZoom: 16 }).addTo(this.map); }
    this.el.dataset.count = String(points.length);
    document.getElementById("case-count").textContent = this.texts.cases.replace("{n}", points.length);
  };

  CommandView.prototype.drawLegend = function (sw) {
    var box = document.getElementById("command-legend"), self = this;
    box.textContent = "";
    function item(colour, label, ring) {
      var span = document.createElement("span"), dot = document.createElement("i");
      dot.style.background = colour;
      if (ring) { dot.style.border = "3px solid " + ring; }
      span.appendChild(dot);
      span.appendChild(document.createTextNode(label));
      box.appendChild(span);
    }
    if (sw.colour === "category") {
      this.cfg.legend.majors.forEach(function (m) { item(self.majorColour[m.id], m.name); });
    } else {
      this.cfg.states.forEach(function (s) { if (s !== "merged") { item(STATE_COLOURS[s], self.texts.state[s]); } });
    }
    item("#ffffff", this.texts.warning[1], WARNING_COLOURS[1]);
    item("#ffffff", this.texts.warning[2], WARNING_COLOURS[2]);
  };

  CommandView.prototype.showJurisdictions = function (on) {
    var self = this;
    if (!on) { if (this.jurisdictions) { this.map.removeLayer(this.jurisdictions); } return; }
    if (this.jurisdictions) { this.jurisdictions.addTo(this.map); return; }
    fetch("/command/jurisdictions.json?" + new URLSearchParams({ area: this.cfg.area }))
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        self.jurisdictions = L.geoJSON(fc, { pane: "areas",
          style: { color: "#d97706", weight: 2, dashArray: "6 4", fillOpacity: 0.03, className: "jurisdiction" },
          onEachFeature: function (f, lyr) {
            lyr.bindTooltip(textBox(f.properties.area + "：" + f.properties.departments.join("、")), { sticky: true });
          }
        });
        if (self.switches().jurisdictions) { self.jurisdictions.addTo(self.map); }
      });
  };

  // The registers' buildings, units and components (only offered to roles that see the registers): loaded once
  // when a first one is switched on, each a layer of small circles with its label as the tooltip.
  var REGISTRY_COLOURS = { building: "#475569", unit: "#7c3aed", component: "#0d9488" };
  CommandView.prototype.showRegistry = function () {
    var self = this, boxes = document.querySelectorAll("#layers input[data-registry-layer]");
    var wanted = Array.prototype.filter.call(boxes, function (b) { return b.checked; })
      .map(function (b) { return b.dataset.registryLayer; });
    if (this.registry) {
      Object.keys(this.registry).forEach(function (k) {
        if (wanted.indexOf(k) >= 0) { self.registry[k].addTo(self.map); } else { self.map.removeLayer(self.registry[k]); }
      });
      return;
    }
    if (!wanted.length || this.registryLoading) { return; }
    this.registryLoading = true;
    fetch("/registry/map.geojson?" + new URLSearchParams({ area: this.cfg.area }))
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        self.registry = {};
        Object.keys(REGISTRY_COLOURS).forEach(function (k) {
          self.registry[k] = L.geoJSON({ type: "FeatureCollection",
            features: fc.features.filter(function (f) { return f.properties.layer === k; }) }, {
            pointToLayer: function (f, ll) {
              return L.circleMarker(ll, { radius: 5, weight: 1, color: "#ffffff", fillColor: REGISTRY_COLOURS[k],
                fillOpacity: 0.9, className: "registry-" + k });
            },
            onEachFeature: function (f, lyr) { lyr.bindTooltip(textBox(f.properties.label)); }
          });
        });
        self.showRegistry();
      });
  };

  CommandView.prototype.loadCases = function () {
    var self = this;
    return fetch("/command/cases.geojson?" + query(this.cfg))
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        self.features = {};
        fc.features.forEach(function (f) { self.features[f.id] = f; });
        self.redraw();
      });
  };

  // Re-read the announced cases: each one comes back if it (still) matches the filters, or is dropped. Only
  // their markers change, so the rest of the city's clusters stay as they are.
  CommandView.prototype.refresh = function (ids) {
    var self = this;
    return fetch("/command/cases.geojson?" + query(this.cfg, { ids: ids.join(",") }))
      .then(function (r) { return r.ok ? r.json() : { features: [] }; })
      .then(function (fc) {
        var sw = self.switches();
        ids.forEach(function (id) {
          if (self.markers[id]) { self.clusters.removeLayer(self.markers[id]); delete self.markers[id]; }
          delete self.features[id];
        });
        fc.features.forEach(function (f) {
          self.features[f.id] = f;
          if (self.passes(f, sw)) { self.markers[f.id] = self.marker(f); self.clusters.addLayer(self.markers[f.id]); }
        });
        self.drawHeat(sw);
        self.el.dataset.updated = ids.join(",");
      });
  };

  // -- KPIs and the trend ------------------------------------------------------------------------------
  function formatKpi(card) {
    if (card.value === null || card.value === undefined) { return "—"; }
    return card.is_rate ? (card.value * 100).toFixed(1) + "%" : String(card.value);
  }

  function drawKpis(kpis, chart, texts) {
    if (!kpis) { return; }
    kpis.cards.forEach(function (c) {
      var b = document.querySelector('[data-kpi="' + c.name + '"] b');
      if (b) { b.textContent = formatKpi(c); }
    });
    var score = document.querySelector('[data-kpi="score"] b');
    if (score) { score.textContent = kpis.score === null ? "—" : kpis.score.toFixed(1); }
    if (chart) {
      chart.setOption({
        // Drawn on the canvas: the HTML tooltip carries style attributes, which the CSP refuses.
        tooltip: { trigger: "axis", renderMode: "richText" },
        legend: { data: [texts.reported, texts.closure_rate, texts.score], bottom: 0 },
        grid: { left: 40, right: 40, top: 20, bottom: 70 },
        xAxis: { type: "category", data: kpis.trend.labels },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100 }],
        series: [
          { name: texts.reported, type: "bar", data: kpis.trend.reported, itemStyle: { color: "#0b5cad" } },
          { name: texts.closure_rate, type: "line", yAxisIndex: 1, smooth: true, itemStyle: { color: "#15803d" },
            data: kpis.trend.closure_rate.map(function (v) { return v === null ? null : +(v * 100).toFixed(1); }) },
          { name: texts.score, type: "line", yAxisIndex: 1, smooth: true, itemStyle: { color: "#d97706" },
            data: kpis.trend.score }
        ]
      });
    }
  }

  // -- live updates ------------------------------------------------------------------------------------
  function live(view, cfg, texts, chart) {
    var status = document.getElementById("live-status");
    var pending = {}, caseTimer = null, kpiTimer = null;
    function setStatus(state) {
      status.dataset.state = state;
      status.textContent = texts.live[state];
      status.className = "badge " + (state === "on" ? "ok" : state === "off" ? "warn" : "");
    }
    function flushCases() {
      caseTimer = null;
      var ids = Object.keys(pending);
      pending = {};
      if (ids.length) { view.refresh(ids); }
    }
    function refreshKpis() {
      kpiTimer = null;
      if (!cfg.kpis) { return; }
      fetch("/command/kpis.json?" + query(cfg))
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (k) { if (k) { drawKpis(k, chart, texts); } });
    }
    var source = new EventSource("/command/events");
    // Live once the server has subscribed (its first event), not when the connection opens: a change
    // committed in between would be missed while the page already said 实时.
    source.addEventListener("ready", function () { setStatus("on"); });
    source.onerror = function () { setStatus(source.readyState === EventSource.CLOSED ? "off" : "connecting"); };
    source.addEventListener("case", function (ev) {
      pending[JSON.parse(ev.data).id] = true;
      if (!caseTimer) { caseTimer = setTimeout(flushCases, 300); }
      if (!kpiTimer) { kpiTimer = setTimeout(refreshKpis, 3000); }
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // Clusters are drawn only once the map has settled: after the fitted view is applied and the browser has
  // laid the page out (two frames), so the first clusters are placed where their cases are — drawn earlier,
  // they were computed for a stale size and showed far off the map until the first zoom.
  function settled(map) {
    return new Promise(function (resolve) {
      requestAnimationFrame(function () {
        requestAnimationFrame(function () { map.invalidateSize(); resolve(); });
      });
    });
  }

  // A map whose box changes size (a panel polled in above it, a full-screen switch) re-measures, and the
  // clusters are recomputed for the new pixel positions. Watched only once the map has its view: before
  // that the cluster group has no clusters to recompute.
  function watchSize(view) {
    if (!window.ResizeObserver) { return; }
    new ResizeObserver(function () { view.map.invalidateSize(); view.clusters.refreshClusters(); }).observe(view.el);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("command-map");
    if (!el || !window.L) { return; }
    var cfg = readJson("command-config"), texts = readJson("command-texts");
    var view = new CommandView(el, cfg, texts);
    window.shiyuCommand = view;
    var chartEl = document.getElementById("trend-chart");
    var chart = chartEl && window.echarts ? window.echarts.init(chartEl) : null;
    drawKpis(cfg.kpis, chart, texts);
    view.loadAreas(cfg.level).then(function (own) {
      own.addTo(view.map);
      view.map.invalidateSize();  // the page's layout may have moved since the map was made
      var bounds = own.getBounds();
      if (bounds.isValid()) { view.map.fitBounds(bounds, { padding: [10, 10] }); } else { view.map.setView([0, 0], 2); }
      view.baseZoom = view.map.getZoom();
      view.showLevel();
      view.map.on("zoomend", function () { view.showLevel(); });
      return settled(view.map);
    }).then(function () { watchSize(view); return view.loadCases(); })
      .then(function () { el.dataset.readyAt = String(Math.round(performance.now())); el.dataset.ready = "1"; });
    document.getElementById("layers").addEventListener("change", function () { view.redraw(); });
    window.addEventListener("resize", function () { if (chart) { chart.resize(); } });
    var full = document.querySelector("[data-fullscreen]");
    if (full) {
      full.addEventListener("click", function () {
        if (document.fullscreenElement) { document.exitFullscreen(); } else { document.documentElement.requestFullscreen(); }
      });
    }
    live(view, cfg, texts, chart);
  });
})();
