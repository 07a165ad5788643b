// The report form's "where": a tap on the community's sketch map picks a building or marks a
// point (a road, a square); "use my location" takes the phone's position. Without this script
// the list of places still works on its own.
(function () {
  "use strict";
  var select = document.getElementById("need-place");
  var lat = document.getElementById("id_lat");
  var lng = document.getElementById("id_lng");
  var status = document.getElementById("point-status");
  var map = document.getElementById("place-map");
  var tools = document.getElementById("where-tools");
  var source = document.getElementById("point-messages");
  if (!select || !lat || !lng) return;
  var text = source ? JSON.parse(source.textContent) : {};
  var community = select.querySelector("option[data-point]");
  if (tools && community) tools.hidden = false;

  function say(message) { if (status) status.textContent = message || ""; }
  function clearPoint() { lat.value = ""; lng.value = ""; }
  function toCommunity() { if (community) community.selected = true; }

  var svg = map ? map.querySelector("svg") : null;
  var pin = map ? map.querySelector("#sketch-pin") : null;
  var west = map ? parseFloat(map.dataset.west) : 0;
  var north = map ? parseFloat(map.dataset.north) : 0;
  var sx = map ? parseFloat(map.dataset.sx) : 1;
  var sy = map ? parseFloat(map.dataset.sy) : 1;

  function showPin(x, y) {
    if (!pin) return;
    pin.setAttribute("transform", "translate(" + x + " " + y + ")");
    pin.hidden = false;
    pin.removeAttribute("hidden");
  }
  function hidePin() { if (pin) pin.setAttribute("hidden", ""); }
  function markBuilding(code) {
    if (!map) return;
    map.querySelectorAll(".sketch-building").forEach(function (g) {
      g.classList.toggle("on", g.dataset.code === code);
    });
  }

  if (map && svg) {
    map.hidden = false;
    svg.addEventListener("click", function (event) {
      var building = event.target.closest ? event.target.closest(".sketch-building") : null;
      if (building) {
        var option = select.querySelector('option[value="' + building.dataset.code + '"]');
        if (option) option.selected = true;
        clearPoint();
        hidePin();
        markBuilding(building.dataset.code);
        say(building.getAttribute("aria-label"));
        return;
      }
      var point = svg.createSVGPoint();
      point.x = event.clientX;
      point.y = event.clientY;
      var at = point.matrixTransform(svg.getScreenCTM().inverse());
      lng.value = (west + at.x / sx).toFixed(6);
      lat.value = (north - at.y / sy).toFixed(6);
      toCommunity();
      markBuilding(null);
      showPin(at.x, at.y);
      say(text.marked);
    });
    map.querySelectorAll(".sketch-building").forEach(function (g) {
      g.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); g.dispatchEvent(new MouseEvent("click", { bubbles: true })); }
      });
    });
  }

  select.addEventListener("change", function () {
    var chosen = select.options[select.selectedIndex];
    if (!chosen || !chosen.hasAttribute("data-point")) { clearPoint(); hidePin(); say(""); }
    markBuilding(chosen ? chosen.value : null);
  });

  var mine = document.getElementById("use-my-location");
  if (mine) {
    if (!navigator.geolocation) mine.hidden = true;
    else mine.addEventListener("click", function () {
      say(text.locating);
      navigator.geolocation.getCurrentPosition(function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lng.value = position.coords.longitude.toFixed(6);
        toCommunity();
        markBuilding(null);
        if (map) showPin((position.coords.longitude - west) * sx, (north - position.coords.latitude) * sy);
        say(text.located);
      }, function () { say(text.failed); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }
  markBuilding(select.value);
})();
