// callproof's only script: the call page's player and transcript stay together.
// Clicking a time, a word or a finding seeks the audio there; the segment being played is
// highlighted and scrolled into view; a link ending in #t=<ms> starts playing at that moment.
(function () {
  "use strict";
  var audio = document.getElementById("player");
  if (!audio) return;
  var segments = Array.prototype.slice.call(document.querySelectorAll(".segment[data-start]"));

  function seek(ms) {
    audio.currentTime = ms / 1000;
    var p = audio.play();
    if (p && p.catch) p.catch(function () {});
  }

  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-seek]");
    if (!el) return;
    e.preventDefault();
    seek(Number(el.getAttribute("data-seek")));
  });

  var current = null;
  audio.addEventListener("timeupdate", function () {
    var ms = audio.currentTime * 1000;
    var found = null;
    for (var i = 0; i < segments.length; i++) {
      var s = segments[i];
      if (ms >= Number(s.dataset.start) && ms < Number(s.dataset.end)) { found = s; }
    }
    if (found !== current) {
      if (current) { current.classList.remove("playing"); current.removeAttribute("aria-current"); }
      if (found) {
        found.classList.add("playing");
        found.setAttribute("aria-current", "true");
        found.scrollIntoView({ block: "nearest" });
      }
      current = found;
    }
    var excerpt = document.getElementById("excerpt");
    if (excerpt) {
      var from = Math.max(0, Math.floor(ms) - 5000);
      excerpt.href = excerpt.href.replace(/from_ms=\d+&to_ms=\d+/, "from_ms=" + from + "&to_ms=" + (from + 30000));
    }
  });

  // "Link to this moment": the address of this page at the current time (#t=<ms>), put in
  // the address bar and, where the browser allows, on the clipboard.
  var moment = document.getElementById("moment-link");
  if (moment) {
    moment.addEventListener("click", function () {
      var url = location.href.split("#")[0] + "#t=" + Math.floor(audio.currentTime * 1000);
      history.replaceState(null, "", url);
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(url).catch(function () {});
      }
      moment.setAttribute("data-url", url);
    });
  }

  // Keyboard: k or space plays/pauses, j / l go back / forward 5 s — outside form fields, and
  // also while a time button (a transcript time, a finding, a timeline mark) has the focus,
  // so that seeking with Enter and pausing with space go together.
  document.addEventListener("keydown", function (e) {
    var tag = (e.target.tagName || "").toLowerCase();
    var seekButton = tag === "button" && e.target.hasAttribute("data-seek");
    if (tag === "input" || tag === "textarea" || tag === "select" || (tag === "button" && !seekButton) || e.target === audio) return;
    if (e.key === "k" || e.key === " ") {
      e.preventDefault();
      if (audio.paused) { var p = audio.play(); if (p && p.catch) p.catch(function () {}); } else { audio.pause(); }
    } else if (e.key === "j") {
      audio.currentTime = Math.max(0, audio.currentTime - 5);
    } else if (e.key === "l") {
      audio.currentTime = audio.currentTime + 5;
    }
  });

  var m = /t=(\d+)/.exec(location.hash);
  if (m) {
    var start = Number(m[1]) / 1000;
    var apply = function () { audio.currentTime = start; };
    if (audio.readyState >= 1) apply(); else audio.addEventListener("loadedmetadata", apply, { once: true });
  }
})();
