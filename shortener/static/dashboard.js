// Lumen's dashboard script: refreshes the figures in place and copies short links. No library.
(function () {
  "use strict";

  function stamp(live, text) {
    var status = live.querySelector(".live-status");
    if (status) status.textContent = text;
  }

  // Re-fetch the page's figures (?partial=1) every data-refresh seconds while the tab is visible,
  // keeping open help panels open. The fragment is Lumen's own escaped, server-rendered HTML.
  function autoRefresh(live) {
    var seconds = parseInt(live.getAttribute("data-refresh"), 10) || 10;
    var timer = window.setInterval(function () {
      if (document.hidden) return;
      var url = new URL(window.location.href);
      url.searchParams.set("partial", "1");
      window.fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (response.status === 401) {
            window.clearInterval(timer);
            window.location.reload();
            return null;
          }
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          if (html === null) return;
          var open = Array.prototype.map.call(live.querySelectorAll("details"), function (d) { return d.open; });
          live.innerHTML = html;
          Array.prototype.forEach.call(live.querySelectorAll("details"), function (d, i) { d.open = !!open[i]; });
          stamp(live, "updated " + new Date().toLocaleTimeString());
        })
        .catch(function () {
          stamp(live, "not updated (offline?) — retrying");
        });
    }, seconds * 1000);
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    document.body.removeChild(area);
    return done;
  }

  function copied(button, ok) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.textContent = ok ? "Copied" : "Press Ctrl+C";
    window.setTimeout(function () { button.textContent = label; }, 1500);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy") : null;
    if (!button) return;
    var text = button.getAttribute("data-copy");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button, true); },
                                               function () { copied(button, fallbackCopy(text)); });
    } else {
      copied(button, fallbackCopy(text));
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("live");
    if (live) autoRefresh(live);
  });
})();
