/* The case page's bottom action bar (phones): a tap opens that action's form, scrolls it into view and puts
   the cursor in its first field. No UI text lives here. */
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var link = ev.target.closest && ev.target.closest("#action-bar [data-open]");
    if (!link) { return; }
    var details = document.getElementById(link.dataset.open);
    if (!details) { return; }
    ev.preventDefault();
    details.open = true;
    details.scrollIntoView({ block: "start" });
    var first = details.querySelector("textarea, input:not([type=hidden]), select, button");
    if (first) { first.focus({ preventScroll: true }); }
  });
})();
