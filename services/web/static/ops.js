/* Ops overview: fetch the figures again once `hubnet monitor` has collected anew, with a button to
   pause that (WCAG 2.2.2). Progressive enhancement only: without this script the page is complete
   and says to reload it. Same-origin requests only, as the Content-Security-Policy allows. */
(function () {
  "use strict";
  var live = document.getElementById("ops-live");
  if (!live || !window.fetch || !window.DOMParser) {
    return;
  }
  var paused = false;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "govuk-button govuk-button--secondary";
  button.textContent = "Pause automatic updates";
  button.setAttribute("aria-pressed", "false");
  button.addEventListener("click", function () {
    paused = !paused;
    button.setAttribute("aria-pressed", String(paused));
    button.textContent = paused ? "Resume automatic updates" : "Pause automatic updates";
  });
  live.parentNode.insertBefore(button, live);

  function hideReloadHints() {
    var hints = live.querySelectorAll(".hub-no-js-only");
    for (var i = 0; i < hints.length; i += 1) {
      hints[i].hidden = true;
    }
  }

  function update() {
    if (paused) {
      return;
    }
    fetch("/ops/collected", { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : ""; })
      .then(function (collected) {
        if (!collected || collected === live.getAttribute("data-collected")) {
          return null;
        }
        return fetch("/ops", { credentials: "same-origin" })
          .then(function (answer) { return answer.text(); })
          .then(function (html) {
            var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("ops-live");
            if (fresh && !paused) {
              live.replaceChildren.apply(live, Array.prototype.slice.call(fresh.childNodes));
              live.setAttribute("data-collected", fresh.getAttribute("data-collected"));
              hideReloadHints();
            }
          });
      })
      .catch(function () { /* the next round tries again */ });
  }

  hideReloadHints();
  window.setInterval(update, 15000);
}());
