/* Counts a wait down on the page: an element with data-countdown="<seconds>" shows
   data-template with %(s)s replaced by the seconds left, and disables the button named by
   data-for until the wait is over; then it shows data-done. The server keeps refusing early
   requests whatever the page says (account/confirm_login_code.html). */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-countdown]"), function (el) {
    var left = parseInt(el.getAttribute("data-countdown"), 10) || 0;
    var button = document.getElementById(el.getAttribute("data-for") || "");
    var template = el.getAttribute("data-template") || "%(s)s";
    var end = Date.now() + left * 1000;
    function tick() {
      left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      if (left > 0) {
        el.textContent = template.split("%(s)s").join(String(left));
        if (button) { button.disabled = true; }
        window.setTimeout(tick, 250);
      } else {
        el.textContent = el.getAttribute("data-done") || "";
        if (button) { button.disabled = false; }
      }
    }
    tick();
  });
})();
