/* The doorstep page's offline queue (visits/log.html).

   On submit, the visit is written to the phone's local storage first, with a client key (the
   idempotency key) and the phone's clock as the visit time, then sent as JSON to /api/visits/.
   A visit that cannot be sent (no signal, server unreachable) stays in the queue and is sent
   again when the connection returns, when the page is opened again, and every half minute.
   The server logs a visit once per client key, so a resend after a lost answer is not a second
   visit. Each visit sent is confirmed in #visit-sent (a success message in the reader's
   language), and the list of my latest visits is swapped in again (htmx: the visit-logged event). A photo cannot wait in local storage: with a photo and a signal, the form is posted
   as usual; without a signal the visit is kept without its photo.
   Without this script the form posts to the page as a plain form. */
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form || !window.fetch || !window.JSON || !window.FormData) { return; }
  var storage;
  try {
    storage = window.localStorage;
    storage.setItem("linli.visits.probe", "1");
    storage.removeItem("linli.visits.probe");
  } catch (e) {
    return;  // no local storage (a private window): the plain form still works
  }
  var api = form.getAttribute("data-api");
  var storeKey = "linli.visits.queue." + (form.getAttribute("data-user") || "anon");
  var box = document.getElementById("visit-queue");
  var statusEl = document.getElementById("visit-queue-status");
  var noteEl = document.getElementById("visit-queue-note");
  var listEl = document.getElementById("visit-queue-list");
  var sentEl = document.getElementById("visit-sent");
  var flushing = false;
  var notes = [];
  var sent = [];
  // the page's messages in the reader's language (visits/views/log.py: _offline_messages)
  var text = {};
  try { text = JSON.parse(document.getElementById("visit-queue-messages").textContent); } catch (e) { text = {}; }
  function say(key, values) {
    var message = text[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      message = message.split("%(" + name + ")s").join(String(values[name]));
    });
    return message;
  }

  // --- keys and times ------------------------------------------------------------------------

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // ISO 8601 with the phone's offset (2026-06-10T21:05:00+08:00): the visit keeps its real time
  function isoWithOffset(d) {
    var offset = -d.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    offset = Math.abs(offset);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" +
      pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + sign + pad(Math.floor(offset / 60)) + ":" + pad(offset % 60);
  }

  // --- the queue in local storage -------------------------------------------------------------

  function load() {
    try {
      var items = JSON.parse(storage.getItem(storeKey) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (e) {
      return [];
    }
  }

  function save(items) {
    try {
      storage.setItem(storeKey, JSON.stringify(items));
      return true;
    } catch (e) {
      return false;
    }
  }

  function update(key, change) {
    var items = load();
    var kept = [];
    for (var i = 0; i < items.length; i++) {
      if (items[i].key !== key) { kept.push(items[i]); continue; }
      var next = change(items[i]);
      if (next) { kept.push(next); }
    }
    save(kept);
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- showing it -------------------------------------------------------------------------------

  function render() {
    sentEl.textContent = "";
    sent.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      sentEl.appendChild(p);
    });
    sentEl.hidden = !sent.length;
    var items = load();
    var waiting = items.filter(function (item) { return !item.rejected; }).length;
    statusEl.textContent = waiting ? say("waiting", {n: waiting}) : "";
    statusEl.hidden = !waiting;
    noteEl.textContent = notes.join(" ");
    noteEl.hidden = !notes.length;
    listEl.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var row = document.createElement("div");
      var label = document.createElement("span");
      label.textContent = item.label + " · " + item.body.visited_at.slice(5, 16).replace("T", " ");
      row.appendChild(label);
      if (item.error) {
        var error = document.createElement("span");
        error.className = item.rejected ? "errors" : "muted";
        error.textContent = item.error;
        row.appendChild(error);
      }
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "secondary";
      discard.textContent = say("discard");
      discard.addEventListener("click", function () {
        if (window.confirm(say("confirm_discard"))) {
          update(item.key, function () { return null; });
          render();
        }
      });
      row.appendChild(discard);
      li.appendChild(row);
      listEl.appendChild(li);
    });
    box.hidden = !(items.length || notes.length);
  }

  function describe(body) {
    if (!body || typeof body !== "object") { return ""; }
    var parts = [];
    Object.keys(body).forEach(function (field) {
      var value = body[field];
      parts.push(Array.isArray(value) ? value.join("；") : (typeof value === "string" ? value : JSON.stringify(value)));
    });
    return parts.join("；");
  }

  // --- sending ----------------------------------------------------------------------------------

  function send(item) {
    return fetch(api, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken(),
        "Idempotency-Key": item.key
      },
      body: JSON.stringify(item.body)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.ok && body && body.id) {
          update(item.key, function () { return null; });
          sent.push(say("sent", {household: item.label}) + (body.need ? say("sent_need", {pk: body.need}) : ""));
          return "sent";
        }
        var message = describe(body) || ("HTTP " + response.status);
        // the server will never take these as they are: keep them shown, stop sending them
        var rejected = [400, 404, 413, 422].indexOf(response.status) >= 0;
        if (response.ok || response.status === 401) { message = say("sign_in"); }
        update(item.key, function (stored) {
          stored.error = message;
          stored.rejected = rejected;
          return stored;
        });
        return rejected ? "rejected" : "kept";
      });
    }, function () {
      return "offline";
    });
  }

  function flush() {
    if (flushing) { return; }
    var keys = load().filter(function (item) { return !item.rejected; }).map(function (item) { return item.key; });
    if (!keys.length || navigator.onLine === false) { render(); return; }
    flushing = true;
    var i = 0;
    var logged = 0;
    (function step() {
      if (i >= keys.length) {
        flushing = false;
        render();
        // the list of my latest visits shows the ones just sent (visits/_recent.html)
        if (logged) { document.body.dispatchEvent(new CustomEvent("visit-logged")); }
        return;
      }
      var key = keys[i++];
      var item = load().filter(function (stored) { return stored.key === key; })[0];
      if (!item) { step(); return; }
      send(item).then(function (outcome) {
        if (outcome === "offline") { flushing = false; render(); return; }
        if (outcome === "sent") { logged++; }
        step();
      });
    })();
  }

  // --- the form ---------------------------------------------------------------------------------

  function checkedLabel(selector) {
    var input = form.querySelector(selector);
    var label = input && input.closest("label");
    return label ? label.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function syncMembers() {
    var chosen = form.querySelector("input[name=household]:checked");
    var select = document.getElementById("visit-met-person");
    if (!select) { return; }
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      var match = !chosen || group.getAttribute("data-household") === chosen.value;
      group.hidden = !match;
      group.disabled = !match;
    });
    var option = select.options[select.selectedIndex];
    if (option && option.parentNode && option.parentNode.disabled) { select.value = ""; }
  }

  function collect(key) {
    var data = new FormData(form);
    var member = data.get("met_person");
    return {
      household: parseInt(data.get("household"), 10),
      kind: data.get("kind") || "knock",
      met_person: member ? parseInt(member, 10) : null,
      met_other: data.get("met_other") || "",
      heard: data.get("heard") || "",
      tags: data.getAll("tags"),
      policy_topic: data.get("policy_topic") || "",
      needs_help: data.get("needs_help") !== null,
      not_at_home: data.get("not_at_home") !== null,
      refused: data.get("refused") !== null,
      raise_need: data.get("raise_need") !== null ? { text: data.get("need_text") || "" } : null,
      visited_at: isoWithOffset(new Date()),
      client_key: key
    };
  }

  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "household") { syncMembers(); }
  });
  document.body.addEventListener("htmx:afterSettle", syncMembers);

  form.addEventListener("submit", function (event) {
    var key = newKey();
    form.querySelector("input[name=client_key]").value = key;
    form.querySelector("input[name=visited_at]").value = isoWithOffset(new Date());
    var photo = form.querySelector("input[type=file]");
    var hasPhoto = !!(photo && photo.files && photo.files.length);
    if (hasPhoto && navigator.onLine !== false) {
      form.querySelector("button[type=submit]").disabled = true;  // the plain post carries the photo
      return;
    }
    var problem = !form.querySelector("input[name=household]:checked") ? say("choose_household") :
      (form.querySelector("input[name=raise_need]:checked") && !form.querySelector("[name=need_text]").value.trim()) ?
        say("need_text") : "";
    if (problem) {
      event.preventDefault();
      notes = [problem];
      render();
      window.scrollTo(0, 0);
      return;
    }
    var item = {
      key: key,
      label: checkedLabel("input[name=household]:checked") + " · " + checkedLabel("input[name=kind]:checked"),
      body: collect(key)
    };
    var items = load();
    items.push(item);
    if (!save(items)) { return; }  // storage full: let the plain form post it
    event.preventDefault();
    notes = hasPhoto ? [say("photo_not_kept")] : [];
    sent = [];
    form.reset();
    syncMembers();
    render();
    window.scrollTo(0, 0);
    flush();
  });

  window.addEventListener("online", flush);
  window.addEventListener("offline", render);
  window.setInterval(flush, 30000);
  syncMembers();
  flush();
})();
