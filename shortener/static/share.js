/*! Lumen share buttons: /embed/share.js. No cookies, no dependencies, no requests but to Lumen.
 * <script src="https://go.example/embed/share.js" data-lumen-key="lpk_..." async></script>
 * <div data-lumen-share></div>   (attributes: see the README, "Share buttons")
 */
(function (w, d) {
  "use strict";
  var me = d.currentScript;
  if (!me || w.LumenShare) return;
  var nav = navigator, enc = encodeURIComponent, loc = location;
  var BASE = new URL(me.src, loc.href).origin;
  var attr = function (el, name) { return el.getAttribute("data-lumen-" + name); };
  var KEY = attr(me, "key") || "";
  var APP_ID = attr(me, "fb-app-id");
  var COPY_LEAD = attr(me, "copy-text");
  // Do Not Track or Global Privacy Control: no tokens, no copy-paste tracking, button shares only.
  var PRIVATE = nav.doNotTrack == "1" || w.doNotTrack == "1" || nav.globalPrivacyControl === true;
  var MOBILE = /Android|iPhone|iPad|iPod|Mobile/i.test(nav.userAgent);
  var TOKEN = /^#lm=([A-Za-z0-9]{8})\.([1-9][0-9]?)$/;
  var HASH = loc.hash; // as the page was opened, before anyone moves to an anchor

  // The share cascade: Lumen's redirect put this visitor's arrival in the fragment,
  // "#lumen=<generation>_<channel>[_<parent>]". Read it once, remove it from the address bar;
  // shares made here are its children: generation + 1, parent = the arrival's channel. The
  // shared links say so in "?lc=<generation>_<parent>". DNT/GPC: removed, never used.
  var CASCADE = /^#lumen=([1-9][0-9]?)_([a-z0-9.-]{1,32})(?:_([a-z0-9.-]{1,32}))?$/;
  var ARRIVAL = CASCADE.exec(HASH);
  if (ARRIVAL) {
    history.replaceState(history.state, "", loc.href.split("#")[0]);
    HASH = "";
  }
  var FROM = PRIVATE ? "" : ARRIVAL ? ARRIVAL[1] + "_" + ARRIVAL[2] : "0_page";
  var HANDOVER = PRIVATE ? "" :
    "lc=" + (ARRIVAL ? Math.min(+ARRIVAL[1] + 1, 99) + "_" + ARRIVAL[2] : "1_page");
  var MIN_WORDS = 6;
  var ALIASES = { x: "twitter", mail: "email", "e-mail": "email", share: "more" };
  var seen = new WeakSet(), started = false, arrivalSent = false;

  // button: [visible name, accessible name, colour, icon path, share URL of (short link, text)]
  var BUTTONS = {
    whatsapp: ["WhatsApp", "Share on WhatsApp", "#0b7a4b", "M12 3a9 9 0 0 0-7.7 13.6L3 21l4.5-1.2A9 9 0 1 0 12 3z",
      function (u, t) { return "https://wa.me/?text=" + enc(t + " " + u); }],
    sms: ["SMS", "Share by SMS", "#4a5fc1", "M4 4h16v12H9l-5 4z",
      function (u, t) { return "sms:?&body=" + enc(t + " " + u); }],
    email: ["E-mail", "Share by e-mail", "#5f6368", "M3 5h18v14H3zM3 6l9 7 9-7",
      function (u, t) { return "mailto:?subject=" + enc(t) + "&body=" + enc(t + "\n\n" + u); }],
    messenger: ["Messenger", "Share on Messenger", "#0866ff",
      "M12 3C7 3 3 6.7 3 11.3c0 2.6 1.3 4.9 3.3 6.4V21l3-1.6c.9.2 1.8.4 2.7.4 5 0 9-3.7 9-8.3S17 3 12 3zM7 14l4-4 2.5 2L17 9",
      function (u) {
        // Messenger has no web share URL without a Facebook app id (its send dialog needs one).
        if (MOBILE) return "fb-messenger://share?link=" + enc(u);
        return APP_ID && "https://www.facebook.com/dialog/send?app_id=" + enc(APP_ID) + "&link=" + enc(u) +
          "&redirect_uri=" + enc(loc.href.split("#")[0]);
      }],
    telegram: ["Telegram", "Share on Telegram", "#1b77b3", "M21 4 3 11l6 2 2 6 3-4 5 4z",
      function (u, t) { return "https://t.me/share/url?url=" + enc(u) + "&text=" + enc(t); }],
    twitter: ["X", "Share on X", "#000", "M5 4l14 16M19 4 5 20",
      function (u, t) { return "https://twitter.com/intent/tweet?url=" + enc(u) + "&text=" + enc(t); }],
    facebook: ["Facebook", "Share on Facebook", "#0a5dc2", "M15 3h-2a4 4 0 0 0-4 4v14M6 11h8",
      function (u) { return "https://www.facebook.com/sharer/sharer.php?u=" + enc(u); }],
    linkedin: ["LinkedIn", "Share on LinkedIn", "#0a66c2", "M5 10v10M5 5v.5M10 20V10M10 14a4 4 0 0 1 8 0v6",
      function (u) { return "https://www.linkedin.com/sharing/share-offsite/?url=" + enc(u); }],
    reddit: ["Reddit", "Share on Reddit", "#d93a00", "M4 15c0-3 3.6-5 8-5s8 2 8 5-3.6 5-8 5-8-2-8-5zM12 10l1-5 4 1M9 15h.01M15 15h.01",
      function (u, t) { return "https://www.reddit.com/submit?url=" + enc(u) + "&title=" + enc(t); }],
    copy: ["Copy link", "Copy link", "#444",
      "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1"],
    more: ["More\u2026", "More ways to share", "#555", "M5 12h.01M12 12h.01M19 12h.01"]
  };
  var ALL = Object.keys(BUTTONS);

  var CSS =
    ":host{all:initial;display:block}" +
    ".bar{display:flex;flex-wrap:wrap;gap:.5em;font:600 14px/1 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}" +
    ".small{font-size:12px}.large{font-size:17px}" +
    ".b{all:unset;box-sizing:border-box;display:inline-flex;align-items:center;gap:.45em;height:2.5em;padding:0 .9em;" +
    "border:1px solid var(--c);border-radius:.45em;background:var(--c);color:#fff;cursor:pointer;white-space:nowrap}" +
    ".b:hover{box-shadow:inset 0 0 0 9em rgba(255,255,255,.14)}" +
    ".b:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}" +
    ".light .b{background:#fff;color:var(--c);border-color:#c9ced6}.light .b:hover{box-shadow:inset 0 0 0 9em rgba(0,0,0,.05)}" +
    ".dark .b{background:#1f2328;border-color:#3d444d}" +
    "svg{width:1.3em;height:1.3em;flex:none;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}" +
    ".icons .b{width:2.5em;padding:0;justify-content:center}" +
    ".icons .b span,.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    "@media (forced-colors:active){.b{border-color:ButtonText}}";

  function clean(url) {
    var u = new URL(url, loc.href);
    u.hash = "";
    return u.href;
  }

  function canonical() {
    var link = d.querySelector('link[rel="canonical"]');
    return clean((link && link.getAttribute("href")) || loc.href);
  }

  function channels(el) {
    var names = (attr(el, "channels") || "").toLowerCase().split(/[\s,]+/).map(function (n) { return ALIASES[n] || n; });
    names = names.filter(function (n, i) { return BUTTONS[n] && names.indexOf(n) == i; });
    return names.length ? names : ALL;
  }

  function send(data) {
    data.key = KEY;
    var url = BASE + "/api/v1/beacon", body = JSON.stringify(data);
    if (!(nav.sendBeacon && nav.sendBeacon(url, body))) {
      fetch(url, { method: "POST", body: body, keepalive: true, credentials: "omit" }).catch(function () {});
    }
  }

  function ask(url, title, names) {
    // A text/plain body keeps this a simple CORS request: no preflight.
    return fetch(BASE + "/api/v1/share-links", {
      method: "POST", credentials: "omit",
      body: JSON.stringify({ key: KEY, url: url, title: title, channels: names })
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.detail || "HTTP " + r.status);
        return body;
      });
    });
  }

  function copy(text) {
    if (nav.clipboard && w.isSecureContext) return nav.clipboard.writeText(text);
    return new Promise(function (done, fail) {
      var area = d.createElement("textarea");
      area.value = text;
      area.style.cssText = "position:fixed;opacity:0";
      d.body.appendChild(area);
      area.select();
      var ok = d.execCommand("copy");
      area.remove();
      if (ok) done(); else fail();
    });
  }

  // A short link as this visitor shares it: with the cascade hand-over on links of this page.
  function onward(short, lineage) {
    return short && lineage && HANDOVER ? short + "?" + HANDOVER : short;
  }

  function render(el, names, page, title, lineage) {
    var root = el.attachShadow({ mode: "open" });
    var style = d.createElement("style"), bar = d.createElement("div"), live = d.createElement("span");
    var size = attr(el, "size"), theme = attr(el, "theme"), text = attr(el, "text") || title;
    style.textContent = CSS;
    bar.className = "bar " + (/^(small|large)$/.test(size) ? size : "") + " " + (/^(light|dark)$/.test(theme) ? theme : "") +
      (/^(off|false|no)$/.test(attr(el, "labels")) ? " icons" : "");
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", attr(el, "label") || "Share this page");
    live.className = "sr";
    live.setAttribute("aria-live", "polite");
    names.forEach(function (name) {
      var spec = BUTTONS[name];
      var short = onward(name == "more" ? page.link.short_url : page.variants[name], lineage);
      var href = spec[4] && short && spec[4](short, text);
      if (name == "more" ? !nav.share : !(spec[4] ? href : short)) return;
      var b = d.createElement(href ? "a" : "button");
      if (href) {
        b.href = href;
        if (href.indexOf("https:") == 0) { b.target = "_blank"; b.rel = "noopener"; }
      } else {
        b.type = "button";
      }
      b.className = "b";
      b.style.setProperty("--c", spec[2]);
      b.setAttribute("aria-label", spec[1] + (b.target ? " (new tab)" : ""));
      b.setAttribute("data-channel", name);
      b.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="' + spec[3] + '"/></svg><span>' +
        spec[0] + "</span>";
      var shared = function () {
        var data = { event: "share", url: page.url, channel: name };
        if (lineage && FROM) data.from = FROM;
        send(data);
      };
      b.addEventListener("click", href ? shared : name == "copy" ? function () {
        copy(short).then(function () {
          var label = b.lastChild;
          label.textContent = "Copied";
          live.textContent = "Link copied to the clipboard";
          setTimeout(function () { label.textContent = spec[0]; live.textContent = ""; }, 2000);
          shared();
        });
      } : function () {
        nav.share({ title: text, url: short }).then(shared, function () {});
      });
      bar.appendChild(b);
    });
    root.append(style, bar, live);
  }

  function randomId() {
    var abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", id = "";
    crypto.getRandomValues(new Uint8Array(8)).forEach(function (n) { id += abc[n % 62]; });
    return id;
  }

  // Copy-paste tracking (a): a token for this page view in the address bar's fragment. A visitor
  // who arrives with another view's token and no referrer pasted a copied address: report it.
  function track(url) {
    if (attr(me, "track") == "off" || loc.hash != HASH) return;
    if (/^\/?$/.test(loc.pathname) && !me.hasAttribute("data-lumen-track-home")) return;
    var match = TOKEN.exec(HASH), generation = 1;
    if (HASH && !match) return; // the page's own fragment: never touched
    if (match) {
      var entry = performance.getEntriesByType("navigation")[0];
      if (entry && entry.type != "navigate") return; // reload, back or forward: the token is this view's own
      if (!d.referrer) send({ event: "copy-arrival", url: url, token: match[1] + "." + match[2] });
      generation = Math.min(+match[2] + 1, 99);
    }
    history.replaceState(history.state, "", "#lm=" + randomId() + "." + generation);
  }

  // Copy-paste tracking (b), opt-in: a copy of more than a few words gets the `copy` link appended.
  function appendToCopies(link) {
    if (PRIVATE || COPY_LEAD === null || !link) return;
    var lead = COPY_LEAD || "Read more:";
    d.addEventListener("copy", function (event) {
      var selection = w.getSelection(), text = String(selection), active = d.activeElement;
      if (!event.clipboardData || text.trim().split(/\s+/).length < MIN_WORDS) return;
      if (active && (/^(INPUT|TEXTAREA)$/.test(active.tagName) || active.isContentEditable)) return;
      var html = d.createElement("div"), p = d.createElement("p"), a = d.createElement("a");
      for (var i = 0; i < selection.rangeCount; i++) html.appendChild(selection.getRangeAt(i).cloneContents());
      a.href = a.textContent = link;
      p.append(lead + " ", a);
      html.appendChild(p);
      event.clipboardData.setData("text/plain", text + "\n\n" + lead + " " + link);
      event.clipboardData.setData("text/html", html.innerHTML);
      event.preventDefault();
    });
  }

  function scan() {
    if (!KEY) return console.warn("Lumen share buttons: add data-lumen-key to the script tag");
    var here = canonical(), pages = {};
    var group = function (url, title) { return pages[url] || (pages[url] = { title: title, names: [], widgets: [] }); };
    d.querySelectorAll("[data-lumen-share]").forEach(function (el) {
      if (seen.has(el)) return;
      seen.add(el);
      var page = group(attr(el, "url") ? clean(attr(el, "url")) : here, attr(el, "title") || d.title), names = channels(el);
      page.names = page.names.concat(names);
      page.widgets.push([el, names, attr(el, "title") || d.title]);
    });
    var tracking = !started && !PRIVATE && (attr(me, "track") != "off" || COPY_LEAD !== null);
    if (tracking) {
      started = true;
      group(here, d.title).names.push("copy");
    }
    Object.keys(pages).forEach(function (url) {
      var page = pages[url];
      ask(url, page.title, page.names.filter(function (n, i) { return page.names.indexOf(n) == i; })).then(function (answer) {
        page.widgets.forEach(function (widget) { render(widget[0], widget[1], answer, widget[2], url == here); });
        if (url == here && ARRIVAL && ARRIVAL[3] && !PRIVATE && !arrivalSent) {
          arrivalSent = true; // a visitor a cascade share brought: a click on that edge
          send({ event: "arrival", url: url, from: ARRIVAL[1] + "_" + ARRIVAL[2] + "_" + ARRIVAL[3] });
        }
        if (url == here && tracking) {
          track(url);
          appendToCopies(onward(answer.variants.copy, true));
        }
      }).catch(function (error) { console.warn("Lumen share buttons: " + error.message); });
    });
  }

  w.LumenShare = { scan: scan };
  if (d.readyState == "loading") d.addEventListener("DOMContentLoaded", scan); else scan();
})(window, document);
