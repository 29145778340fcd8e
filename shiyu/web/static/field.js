/* Shiyu field app: the offline queue, position, category search, the four screens, presence heartbeats.

   The queue: every report, check-in, verification and work item's submission is first written to IndexedDB with its photo and voice
   blobs and an idempotency key made when it is queued; then the queue is sent, now and whenever the app
   opens, the connection returns ("online") or a minute passes. Each item uploads its files once (the ids
   are saved on the item as they arrive; again only if the server swept them meanwhile), then posts its
   body with the same key on every retry, so the server keeps exactly one case or check-in however often the phone retries. A 2xx answer, or "this key was
   used already", removes the item; another 4xx marks it failed with the server's message (the worker sees
   it under 我的网格 and can retry or discard it); no answer, 5xx, 408 or 429 leave it waiting. The queue
   does not depend on the service worker. No UI text lives here: it comes from the page (#field-texts). */
(function () {
  "use strict";
  var DB_NAME = "shiyu-field", STORE = "outbox";
  var RETRY_MS = 60 * 1000, HEARTBEAT_MS = 4 * 60 * 1000, FIX_MAX_AGE_MS = 10 * 60 * 1000;
  var TEXT = {};
  var fix = null;  // the latest position {lon, lat, accuracy, at}
  var sending = null, again = false;

  function t(key, n) {
    var s = TEXT[key] || key;
    return n === undefined ? s : s.replace("{n}", n);
  }

  // -- IndexedDB ---------------------------------------------------------------------------------------

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "key" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function allItems() {
    return withStore("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.created - b.created; });
    });
  }
  function putItem(item) { return withStore("readwrite", function (s) { s.put(item); }); }
  function dropItem(key) { return withStore("readwrite", function (s) { s.delete(key); }); }

  function newKey(kind) {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return "field-" + kind + "-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // A version-4 UUID, the task engine's client_uuid (made once, when the item is queued).
  function uuid() {
    if (crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  /* Queue an item: {kind, url, body, files: [{field, blob, name}], attach: how file ids go into the body}. */
  function enqueue(kind, url, body, files, attach) {
    var key = newKey(kind);
    if (kind === "task") { body.client_uuid = uuid(); }
    else if (kind === "registry") { body.client_key = key; }
    else if (kind !== "verify") { body.idempotency_key = key; }
    var item = { key: key, kind: kind, url: url, body: body, files: files, attach: attach, uploaded: {},
                 state: "waiting", message: "", created: Date.now(), tries: 0 };
    return putItem(item).then(function () {
      refresh();
      flash(navigator.onLine ? t("saved") : t("offline"));
      send();
      return item;
    });
  }

  // -- sending -----------------------------------------------------------------------------------------

  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  function headers(json) {
    var h = { "X-CSRF-Token": cookie("shiyu_csrf") || document.body.dataset.csrf, "Accept": "application/json" };
    if (json) { h["Content-Type"] = "application/json"; }
    return h;
  }

  function answer(response) {
    return response.json().catch(function () { return {}; }).then(function (data) {
      return { status: response.status, data: data };
    });
  }

  function post(url, body, isForm) {
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers(!isForm),
                        body: isForm ? body : JSON.stringify(body) }).then(answer);
  }

  // What an answer means for the item: "done", "wait" (try again later), "login" or "failed".
  function verdict(res) {
    if (res.status >= 200 && res.status < 300) { return "done"; }
    if (res.data && res.data.code === "idempotency_key_reused") { return "done"; }
    if (res.status === 401) { return "login"; }
    if (res.status === 403 && res.data && res.data.code === "csrf_failed") { return "login"; }
    if (res.status === 408 || res.status === 429 || res.status >= 500) { return "wait"; }
    return "failed";
  }

  function uploadFiles(item) {
    var chain = Promise.resolve("done");
    (item.files || []).forEach(function (f) {
      chain = chain.then(function (state) {
        if (state !== "done" || item.uploaded[f.field]) { return state; }
        var form = new FormData();
        form.append("file", f.blob, f.name);
        return post("/api/v1/attachments", form, true).then(function (res) {
          var v = verdict(res);
          if (v === "done") {
            item.uploaded[f.field] = res.data.id;
            return putItem(item).then(function () { return "done"; });
          }
          item.message = (res.data && res.data.message) || "";
          return v;
        });
      });
    });
    return chain;
  }

  function finalBody(item) {
    var body = JSON.parse(JSON.stringify(item.body));
    var ids = Object.keys(item.uploaded).map(function (k) { return item.uploaded[k]; });
    if (item.attach === "ids") { body.attachment_ids = ids; }
    if (item.attach === "photo" && item.uploaded.photo) { body.attachment_id = item.uploaded.photo; }
    if (item.attach === "form") {  // a work item's photo fields: each file went up under its field's name
      Object.keys(item.uploaded).forEach(function (k) { body.data[k] = [item.uploaded[k]]; });
    }
    if (item.attach === "photos") { body.photos = ids; }
    return body;
  }

  /* Workflow actions carry the case version, not an idempotency key: a verification whose first answer was
     lost comes back 409 on the retry, because that first attempt moved the case on. A retried item whose case
     no longer waits for verification has nothing left to send. */
  function settledBefore(item, res) {
    if (item.kind !== "verify" || res.status !== 409 || item.tries < 2) { return Promise.resolve(null); }
    return fetch(item.url.split("/actions/")[0], { credentials: "same-origin", headers: headers(false) })
      .then(answer).then(function (c) { return c.status === 200 && c.data.state !== "to_verify" ? "done" : null; })
      .catch(function () { return null; });
  }

  /* The server deletes uploads no report took within days (an app offline that long): the item still has
     its blobs, so it uploads them again, once, and sends its body with the new ids. */
  function uploadsGone(item, res) {
    var data = res.data || {};
    var gone = (res.status === 422 && data.code === "attachment_unusable") ||
      (res.status === 404 && data.detail && data.detail.object === "attachment");  // a check-in's photo
    return gone && !item.reuploaded && Object.keys(item.uploaded).length > 0;
  }

  function deliver(item) {
    return uploadFiles(item).then(function (state) {
      if (state !== "done") { return state; }
      return post(item.url, finalBody(item)).then(function (res) {
        if (uploadsGone(item, res)) {
          item.uploaded = {};
          item.reuploaded = true;
          return putItem(item).then(function () { return deliver(item); });
        }
        item.message = (res.data && res.data.message) || "";
        return settledBefore(item, res).then(function (settled) { return settled || verdict(res); });
      });
    });
  }

  function sendItem(item) {
    item.tries += 1;  // kept before sending: an attempt whose answer is lost still counts
    return putItem(item).then(function () { return deliver(item); }).then(function (state) {
      if (state === "done") { return dropItem(item.key).then(function () { return state; }); }
      if (state === "failed") { item.state = "failed"; }
      return putItem(item).then(function () { return state; });
    });
  }

  /* Send every waiting item in order; stop at the first one that cannot go now (offline, server busy,
     logged out), so the order of a worker's reports is kept. One run at a time per page; a call during a
     run (an item queued while another uploads) makes another run follow it — a run sends only the items
     it found when it began, and the next periodic try is a minute away. */
  function send() {
    if (sending) { again = true; return sending; }
    again = false;
    sending = allItems().then(function (items) {
      var sent = 0;
      var chain = Promise.resolve(true);
      items.filter(function (i) { return i.state === "waiting"; }).forEach(function (item) {
        chain = chain.then(function (goOn) {
          if (!goOn) { return false; }
          return sendItem(item).then(function (state) {
            if (state === "done") { sent += 1; }
            if (state === "failed") { flash(t("failed") + " " + item.message, true); }
            if (state === "login") { flash(t("login_again"), true); }
            return state === "done" || state === "failed";
          });
        });
      });
      return chain.then(function () { if (sent) { flash(t("sent")); } });
    }).catch(function () { /* offline or a dropped connection: the next trigger tries again */ })
      .then(function () {
        sending = null;
        refresh();
        if (again) { return send(); }
      });
    return sending;
  }

  // -- the waiting badge and the outbox list -------------------------------------------------------------

  function refresh() {
    return allItems().then(function (items) {
      var waiting = items.filter(function (i) { return i.state === "waiting"; }).length;
      var failed = items.length - waiting;
      var badge = document.getElementById("waiting");
      document.getElementById("waiting-count").textContent = String(waiting + failed);
      badge.hidden = waiting + failed === 0;
      badge.classList.toggle("has-failed", failed > 0);
      badge.dataset.waiting = String(waiting);
      renderOutbox(items);
    }).catch(function () { /* IndexedDB unavailable (private mode): nothing to show */ });
  }

  function renderOutbox(items) {
    var list = document.getElementById("outbox-list");
    if (!list) { return; }
    list.textContent = "";
    if (!items.length) {
      var none = document.createElement("li");
      none.className = "f-muted";
      none.textContent = t("nothing_waiting");
      list.appendChild(none);
      return;
    }
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "f-outbox-item " + item.state;
      var what = document.createElement("span");
      what.textContent = t("kind." + item.kind) + " · " + new Date(item.created).toLocaleString() + " · " +
        (item.state === "failed" ? t("failed") + " " + item.message : t("waiting"));
      li.appendChild(what);
      if (item.state === "failed") {
        li.appendChild(button(t("retry"), function () {
          item.state = "waiting";
          putItem(item).then(send);
        }));
        li.appendChild(button(t("discard"), function () { dropItem(item.key).then(refresh); }));
      }
      list.appendChild(li);
    });
  }

  function button(label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "f-secondary";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  var flashTimer = null;
  function flash(message, bad) {
    var banner = document.getElementById("banner");
    banner.textContent = message;
    banner.classList.toggle("bad", !!bad);
    banner.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { banner.hidden = true; }, 5000);
  }

  function showNetwork() {
    document.getElementById("offline").hidden = navigator.onLine;
  }

  // -- position ------------------------------------------------------------------------------------------

  function showFix() {
    document.querySelectorAll("[data-location]").forEach(function (el) {
      if (fix) {
        el.textContent = t("located", Math.round(fix.accuracy || 0));
        el.classList.add("ok");
      }
    });
    document.dispatchEvent(new CustomEvent("field:fix"));
  }

  function watchPosition() {
    if (!navigator.geolocation) { return; }
    navigator.geolocation.watchPosition(function (pos) {
      fix = { lon: Number(pos.coords.longitude.toFixed(6)), lat: Number(pos.coords.latitude.toFixed(6)),
              accuracy: pos.coords.accuracy, at: Date.now() };
      showFix();
    }, function () {
      document.querySelectorAll("[data-location]").forEach(function (el) {
        if (!fix) { el.textContent = t("no_location"); el.classList.add("bad"); }
      });
    }, { enableHighAccuracy: true, maximumAge: 30000, timeout: 20000 });
  }

  function freshFix() {
    return fix && Date.now() - fix.at < FIX_MAX_AGE_MS ? { lon: fix.lon, lat: fix.lat } : null;
  }

  // -- files ---------------------------------------------------------------------------------------------

  function picked(input, field) {
    var f = input && input.files && input.files[0];
    return f ? [{ field: field, blob: f, name: f.name || field }] : [];
  }

  // -- category search: by name, or by pinyin initials (暴露垃圾 → bllj) ---------------------------------

  var PINYIN_LETTERS = "ABCDEFGHJKLMNOPQRSTWXYZ";
  var PINYIN_FIRSTS = "阿八嚓哒妸发旮哈讥咔垃痳拏噢妑七呥扨它穵夕丫帀";
  var collator = null;
  try { collator = new Intl.Collator("zh-Hans-CN-u-co-pinyin"); } catch (e) { collator = null; }

  /* The initial of a Chinese character from where it sorts among the first characters of each pinyin
     initial (Unicode's pinyin collation, built into the browser): no dictionary to ship. */
  function initials(text) {
    var out = "";
    for (var i = 0; i < text.length; i += 1) {
      var ch = text.charAt(i);
      if (!/[\u4e00-\u9fff]/.test(ch)) { out += /[a-z0-9]/i.test(ch) ? ch.toLowerCase() : ""; continue; }
      if (!collator) { continue; }
      var letter = "";
      for (var j = PINYIN_FIRSTS.length - 1; j >= 0; j -= 1) {
        if (collator.compare(ch, PINYIN_FIRSTS.charAt(j)) >= 0) { letter = PINYIN_LETTERS.charAt(j); break; }
      }
      out += letter.toLowerCase();
    }
    return out;
  }

  function categoryPicker(form) {
    var data = JSON.parse(document.getElementById("categories").textContent || "[]");
    data.forEach(function (c) { c.initials = initials(c.zh); c.search = (c.name + " " + c.major).toLowerCase(); });
    var search = form.querySelector("#r-cat-search");
    var results = form.querySelector("#r-cat-results");
    var chosenText = form.querySelector("#r-cat-chosen");
    var value = form.querySelector("#r-category");

    function choose(c) {
      value.value = String(c.id);
      chosenText.textContent = c.major + " · " + c.name;
      chosenText.hidden = false;
      search.value = "";
      results.textContent = "";
    }

    function show() {
      var q = search.value.trim().toLowerCase();
      var hits = data.filter(function (c) {
        return !q || c.search.indexOf(q) !== -1 || c.initials.indexOf(q) === 0;
      }).slice(0, 8);
      results.textContent = "";
      if (!hits.length) {
        var none = document.createElement("p");
        none.className = "f-muted";
        none.textContent = t("no_match");
        results.appendChild(none);
      }
      hits.forEach(function (c) {
        var b = button(c.name, function () { choose(c); });
        b.className = "f-choice";
        b.dataset.category = String(c.id);
        var major = document.createElement("small");
        major.textContent = c.major;
        b.appendChild(major);
        results.appendChild(b);
      });
    }

    search.addEventListener("input", show);
    search.addEventListener("focus", show);
    form.addEventListener("reset", function () { value.value = ""; chosenText.hidden = true; results.textContent = ""; });
  }

  // -- screens -------------------------------------------------------------------------------------------

  function previewPhoto(input, img) {
    input.addEventListener("change", function () {
      if (!img) { return; }
      var f = input.files && input.files[0];
      img.hidden = !f;
      if (f) { img.src = URL.createObjectURL(f); flash(t("photo_added")); }
    });
  }

  function reportScreen() {
    var form = document.getElementById("report-form");
    if (!form) { return; }
    categoryPicker(form);
    var photo = form.querySelector("#r-photo"), voice = form.querySelector("#r-voice");
    var preview = form.querySelector("#r-photo-preview");
    previewPhoto(photo, preview);
    voice.addEventListener("change", function () {
      form.querySelector("#r-voice-status").textContent = voice.files.length ? t("voice_added") : "";
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var category = Number(form.querySelector("#r-category").value);
      var description = form.querySelector("#r-desc").value.trim();
      var where = freshFix();
      if (!category) { flash(t("need_category"), true); return; }
      if (!where) { flash(t("need_location"), true); return; }
      if (description.length < 2) { flash(t("need_note"), true); form.querySelector("#r-desc").focus(); return; }
      var files = picked(photo, "photo").concat(picked(voice, "voice"));
      var body = { channel: "grid", category_id: category, description: description, location: where };
      var component = form.querySelector("#r-component").value.trim();
      if (component) { body.component_code = component; }
      enqueue("case", "/api/v1/cases", body, files, "ids").then(function () {
        form.reset();
        preview.hidden = true;
        form.querySelector("#r-voice-status").textContent = "";
      });
    });
  }

  function patrolScreen() {
    var form = document.getElementById("checkin-form");
    if (!form) { return; }
    var photo = form.querySelector("#c-photo");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var where = freshFix();
      if (!where) { flash(t("need_location"), true); return; }
      var grid = form.elements.grid_id ? Number(form.elements.grid_id.value) : 0;
      var body = { kind: form.elements.kind.value, location: where, client_time: new Date().toISOString(),
                   note: form.querySelector("#c-note").value.trim() };
      if (grid) { body.grid_id = grid; }
      enqueue("checkin", "/api/v1/patrol/checkins", body, picked(photo, "photo"), "photo").then(function () {
        form.querySelector("#c-note").value = "";
        photo.value = "";
        flash(t("checked_in"));
      });
    });
  }

  // -- the registers: change records (新增住户, a person's change, a house, a unit) -------------------------

  // GB 11643: the 18th character of a resident ID number, from the first 17 (the server's rule too).
  var ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  function idNumberOk(value) {
    var v = value.trim().toUpperCase();
    if (!/^\d{17}[\dX]$/.test(v)) { return false; }
    var sum = 0;
    for (var i = 0; i < 17; i += 1) { sum += Number(v[i]) * ID_WEIGHTS[i]; }
    return "10X98765432"[sum % 11] === v[17];
  }

  /* The form's fields as the change's data: "address.road" nests, "members.0.name" makes a list; fields
     named with "_" (grid, target, action) and files are not data. */
  function registryData(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name[0] === "_" || el.type === "file" || el.type === "submit") { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      var path = el.name.split("."), node = data;
      for (var i = 0; i < path.length - 1; i += 1) {
        if (!(path[i] in node)) { node[path[i]] = /^\d+$/.test(path[i + 1]) ? [] : {}; }
        node = node[path[i]];
      }
      var value = el.value.trim();
      if (value !== "") { node[path[path.length - 1]] = value; }
    });
    if (data.members) {
      data.members = data.members.filter(function (m) { return m && (m.name || m.id_number); });
    }
    return data;
  }

  function idNumbersOk(form) {
    var ok = true;
    form.querySelectorAll("[data-id-number]").forEach(function (input) {
      var bad = input.value.trim() !== "" && !idNumberOk(input.value);
      var note = form.querySelector('[data-error-for="' + input.id + '"]');
      if (note) { note.textContent = bad ? t("bad_id_number") : ""; note.hidden = !bad; }
      input.setAttribute("aria-invalid", bad ? "true" : "false");
      if (bad && ok) { input.focus(); }
      ok = ok && !bad;
    });
    return ok;
  }

  function registerScreen() {
    document.querySelectorAll("form[data-registry]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        if (!idNumbersOk(form)) { flash(t("bad_id_number"), true); return; }
        var data = registryData(form), el = form.elements;
        var action = el._action ? form.querySelector("input[name=_action]:checked").value : form.dataset.action;
        if (form.dataset.registry === "household" && !(data.members || []).length) { flash(t("need_member"), true); return; }
        if (form.dataset.registry === "person") { delete data[action === "update" ? "on" : "phone"]; }
        var body = { entity: form.dataset.registry, action: action, data: data };
        if (el._grid) { body.grid_id = Number(el._grid.value); }
        if (el._target) { body.target_id = Number(el._target.value); }
        var photo = form.querySelector("input[type=file]");
        enqueue("registry", "/api/v1/registry/changes", body, picked(photo, "photo"), "photos").then(function () {
          form.reset();
        });
      });
    });
  }

  // Metres between two points (haversine): "距您约 35 米" on each verification card.
  function metres(a, b) {
    var rad = Math.PI / 180, dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
            Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * 6371000 * Math.asin(Math.sqrt(h));
  }

  function showDistances() {
    if (!fix) { return; }
    document.querySelectorAll(".f-distance").forEach(function (el) {
      var m = metres(fix, { lon: Number(el.dataset.lon), lat: Number(el.dataset.lat) });
      el.textContent = m < 1000 ? t("distance", Math.round(m)) : t("distance_km", (m / 1000).toFixed(1));
    });
  }

  // A sent verification leaves the list: the count goes down and, at none, the empty note shows.
  function verified(caseId) {
    var card = document.getElementById("case-" + caseId);
    if (card) { card.remove(); }
    var count = document.getElementById("verify-count");
    var left = document.querySelectorAll("article[id^=case-]").length;
    if (count) { count.textContent = String(Math.max(0, Math.min(Number(count.textContent) - 1, left))); }
    var none = document.getElementById("verify-none");
    if (none && !left) { none.hidden = false; }
  }

  function tasksScreen() {
    document.addEventListener("field:fix", showDistances);
    document.querySelectorAll("form.f-verify").forEach(function (form) {
      var more = form.querySelector(".f-more");
      previewPhoto(form.elements.photo, form.querySelector(".f-preview"));
      form.querySelectorAll("[data-verdict]").forEach(function (b) {
        b.addEventListener("click", function () {
          form.elements.action.value = b.dataset.verdict;
          form.querySelectorAll("[data-verdict]").forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
          more.hidden = false;
        });
      });
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var action = form.elements.action.value;
        var note = form.elements.note.value.trim();
        if (!action) { return; }
        if (action === "verify_fail" && !note) { flash(t("need_note"), true); form.elements.note.focus(); return; }
        if (action === "verify_pass" && form.dataset.photoRequired && !picked(form.elements.photo, "photo").length) {
          flash(t("need_photo"), true);
          return;
        }
        var url = "/api/v1/cases/" + form.dataset.case + "/actions/" + action;
        enqueue("verify", url, { expected_version: Number(form.dataset.version), note: note, fields: {} },
                picked(form.elements.photo, "photo"), "ids").then(function () { verified(form.dataset.case); });
      });
    });
  }

  /* Work items (the task engine): the form of each item as its type declares it, read into the action's
     data; photos go up through the queue like a report's, the GPS field takes the current fix. A queued item
     leaves the list at once: the queue sends it once, with its client_uuid, whenever the phone is online. */
  function readField(box, where) {
    var type = box.dataset.type, el = box.querySelector("input, textarea, select");
    if (type === "multichoice") {
      return Array.prototype.map.call(box.querySelectorAll("input:checked"), function (c) { return c.value; });
    }
    if (type === "yesno") {
      var on = box.querySelector("input:checked");
      return on ? on.value === "yes" : null;
    }
    if (type === "gps") { return where ? { lon: where.lon, lat: where.lat } : null; }
    if (type === "photo") { return null; }
    var v = el ? el.value.trim() : "";
    if (type === "number") { return v === "" ? null : Number(v); }
    return v === "" ? null : v;
  }

  function workDone(itemId) {
    var card = document.getElementById("item-" + itemId);
    if (card) { card.remove(); }
    var left = document.querySelectorAll("article[id^=item-]").length;
    var count = document.getElementById("work-count");
    if (count) { count.textContent = String(left); }
    var none = document.getElementById("work-none");
    if (none && !left) { none.hidden = false; }
  }

  function workScreen() {
    // A page read from the service worker's cache still lists items already queued: they leave it again.
    allItems().then(function (queued) {
      queued.filter(function (i) { return i.kind === "task"; }).forEach(function (i) {
        workDone(i.url.split("/items/")[1].split("/")[0]);
      });
    }).catch(function () { /* IndexedDB unavailable: nothing queued to hide */ });
    document.querySelectorAll("form.f-task").forEach(function (form) {
      form.querySelectorAll(".f-field[data-type=photo]").forEach(function (box) {
        previewPhoto(box.querySelector("input[type=file]"), box.querySelector(".f-preview"));
      });
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var where = fix ? { lon: fix.lon, lat: fix.lat } : null;
        var data = {}, files = [], missing = null;
        form.querySelectorAll(".f-field").forEach(function (box) {
          var name = box.dataset.field;
          if (box.dataset.type === "photo") {
            var chosen = picked(box.querySelector("input[type=file]"), name);
            files = files.concat(chosen);
            if (!chosen.length && box.dataset.required && !missing) { missing = box; }
            return;
          }
          var value = readField(box, where);
          var empty = value === null || (Array.isArray(value) && !value.length);
          if (!empty) { data[name] = value; } else if (box.dataset.required && !missing) { missing = box; }
        });
        if (missing) {
          flash(t(missing.dataset.type === "gps" ? "need_location" : (missing.dataset.type === "photo" ? "need_photo" : "need_note")), true);
          return;
        }
        var url = "/api/v1/tasks/items/" + form.dataset.item + "/actions";
        enqueue("task", url, { action: "submit", data: data }, files, "form").then(function () {
          workDone(form.dataset.item);
        });
      });
    });
    document.querySelectorAll("form.f-task-unable").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var reason = form.elements.reason.value.trim();
        if (reason.length < 2) { flash(t("need_note"), true); form.elements.reason.focus(); return; }
        enqueue("task", "/api/v1/tasks/items/" + form.dataset.item + "/actions", { action: "unable", reason: reason },
                [], "").then(function () { workDone(form.dataset.item); });
      });
    });
  }

  function gridScreen() {
    var el = document.getElementById("grid-map");
    var sendNow = document.getElementById("send-now");
    if (sendNow) { sendNow.addEventListener("click", send); }
    var logout = document.getElementById("logout");
    if (logout) {
      logout.addEventListener("submit", function (ev) {
        var waiting = Number(document.getElementById("waiting-count").textContent || "0");
        if (waiting && !window.confirm(t("confirm_logout"))) { ev.preventDefault(); return; }
        // The cached pages carry this worker's data: the next person on this phone must not see them.
        if (window.caches) {
          caches.keys().then(function (names) {
            names.forEach(function (n) { if (n.indexOf("shiyu-field-") === 0) { caches.delete(n); } });
          });
        }
      });
    }
    if (!el || typeof L === "undefined") { return; }
    var map = L.map(el, { attributionControl: !!el.dataset.tiles, zoomControl: true });
    if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map); }
    var outlines = JSON.parse(document.getElementById("outlines").textContent);
    var layer = L.geoJSON(outlines, { style: { color: "#0b5cad", weight: 3, fillOpacity: 0.08 } }).addTo(map);
    if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { padding: [12, 12] }); } else { map.setView([30, 110], 4); }
    var me = null;
    document.addEventListener("field:fix", function () {
      var at = L.latLng(fix.lat, fix.lon);
      if (me) { me.setLatLng(at); } else {
        me = L.circleMarker(at, { radius: 9, color: "#fff", weight: 3, fillColor: "#d82c20", fillOpacity: 1,
                                  interactive: false }).addTo(map);
        me.getElement().setAttribute("data-me", "1");
      }
    });
    if (fix) { document.dispatchEvent(new CustomEvent("field:fix")); }
  }

  // -- presence ------------------------------------------------------------------------------------------

  function heartbeat() {
    if (!navigator.onLine || document.visibilityState !== "visible") { return; }
    post("/api/v1/patrol/presence", {}).then(function (res) {
      var out = document.getElementById("minutes");
      if (res.status === 200 && out) { out.textContent = String(res.data.minutes); }
    }).catch(function () { /* offline: presence only counts time online */ });
  }

  function registerWorker() {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/field/sw.js", { scope: "/field" }).catch(function () { /* no SW: online only */ });
    }
  }

  function start() {
    TEXT = JSON.parse(document.getElementById("field-texts").textContent);
    showNetwork();
    window.addEventListener("online", function () { showNetwork(); send(); heartbeat(); });
    window.addEventListener("offline", showNetwork);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { send(); heartbeat(); }
    });
    watchPosition();
    reportScreen();
    patrolScreen();
    tasksScreen();
    workScreen();
    gridScreen();
    registerScreen();
    refresh().then(send);
    setInterval(send, RETRY_MS);
    heartbeat();
    setInterval(heartbeat, HEARTBEAT_MS);
    registerWorker();
  }

  window.shiyuField = { send: send, items: allItems };
  document.addEventListener("DOMContentLoaded", start);
})();
