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

  // The level strip: how loud each channel is along the call, from the recording itself,
  // with the findings' marks and the playing position; a click plays from there.
  var energy = document.getElementById("energy");
  if (energy && window.fetch) {
    var duration = Number(energy.dataset.duration);
    var canvases = Array.prototype.slice.call(energy.querySelectorAll("canvas"));
    var marks = Array.prototype.slice.call(document.querySelectorAll(".timeline .mark")).map(function (b) {
      return { at: Number(b.getAttribute("data-seek")), status: b.classList.contains("fail") ? "fail" : (b.classList.contains("review") ? "review" : "pass") };
    });
    var colours = { fail: "#a40000", review: "#8a5a00", pass: "#1b6b2a" };
    var profile = null;
    var draw = function () {
      if (!profile) return;
      canvases.forEach(function (c) {
        var levels = profile.channels[Number(c.dataset.channel)] || [];
        var w = c.clientWidth || 600, h = c.height;
        c.width = w;
        var g = c.getContext("2d");
        g.clearRect(0, 0, w, h);
        g.fillStyle = "#0b4f8a";
        var bar = w / Math.max(1, levels.length);
        for (var i = 0; i < levels.length; i++) {
          var v = levels[i] / 100 * h;
          g.fillRect(i * bar, (h - v) / 2, Math.max(1, bar - 0.5), Math.max(1, v));
        }
        marks.forEach(function (m) {
          g.fillStyle = colours[m.status];
          g.fillRect(m.at / duration * w - 1.5, 0, 3, h);
        });
        g.fillStyle = "#111";
        g.fillRect(audio.currentTime * 1000 / duration * w - 0.5, 0, 1, h);
      });
    };
    fetch(energy.dataset.src, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (p) {
      if (!p) return;
      profile = p;
      energy.hidden = false;
      draw();
    }).catch(function () {});
    audio.addEventListener("timeupdate", draw);
    window.addEventListener("resize", draw);
    canvases.forEach(function (c) {
      c.addEventListener("click", function (e) {
        var r = c.getBoundingClientRect();
        seek(Math.round((e.clientX - r.left) / r.width * duration));
      });
    });
  }

  var m = /t=(\d+)/.exec(location.hash);
  if (m) {
    var start = Number(m[1]) / 1000;
    var apply = function () { audio.currentTime = start; };
    if (audio.readyState >= 1) apply(); else audio.addEventListener("loadedmetadata", apply, { once: true });
  }
})();
