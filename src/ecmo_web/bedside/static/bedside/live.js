// Pages that stay live without reload (decision 0008): small fragments poll every few seconds with
// If-None-Match; an unchanged fragment costs the server one cheap query and a 304. Every poll carries
// X-Ecmo-Background: 1 so a ward monitor's refreshes never count as activity for the idle sign-out.
(() => {
  "use strict";
  const MUTE_KEY = "ecmo-alert-sound-muted";
  const seen = new Set();
  let primed = false;
  let audio = null;

  const isMuted = () => localStorage.getItem(MUTE_KEY) === "1";

  // Browsers allow sound only after the person has touched the page once; make the audio context then.
  const unlock = () => {
    if (!audio) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx) audio = new Ctx();
    }
    if (audio && audio.state === "suspended") audio.resume();
  };
  document.addEventListener("pointerdown", unlock, { once: false, passive: true });
  document.addEventListener("keydown", unlock, { passive: true });

  const chime = () => {
    document.body.dataset.lastChime = String(Date.now());
    if (isMuted() || !audio) return;
    // Two short 880 Hz tones: a WebAudio beep, no audio file.
    [0, 0.25].forEach((offset) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.25, audio.currentTime + offset);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + offset + 0.18);
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + offset);
      osc.stop(audio.currentTime + offset + 0.2);
    });
  };

  // A critical alert the page has not shown before chimes once (not on the first look at the page).
  const noticeCritical = () => {
    let fresh = false;
    document.querySelectorAll("[data-critical-ids]").forEach((el) => {
      el.dataset.criticalIds.split(" ").filter(Boolean).forEach((id) => {
        if (!seen.has(id)) {
          seen.add(id);
          fresh = true;
        }
      });
    });
    if (fresh && primed) chime();
    primed = true;
  };

  const typing = (el) => {
    const active = document.activeElement;
    return active && el.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
  };

  const interval = (el) => {
    const seconds = parseFloat(el.dataset.liveSeconds || "2.5");
    return (document.hidden ? Math.max(seconds, 15) : seconds) * 1000;
  };

  const fetchLive = async (url, etag) => {
    const headers = { "X-Ecmo-Background": "1", "X-Requested-With": "fetch" };
    if (etag) headers["If-None-Match"] = etag;
    const response = await fetch(url, { headers, cache: "no-store", credentials: "same-origin" });
    if (response.redirected && new URL(response.url).pathname.startsWith("/login")) {
      window.location.reload(); // signed out: show the sign-in page
      return null;
    }
    return response;
  };

  // A fragment: data-live-url returns the element's new inner HTML.
  const pollFragment = async (el) => {
    try {
      const response = await fetchLive(el.dataset.liveUrl, el.dataset.liveEtag);
      if (response && response.status === 200 && !typing(el)) {
        el.innerHTML = await response.text();
        el.dataset.liveEtag = response.headers.get("ETag") || "";
        if (window.htmx) window.htmx.process(el);
        noticeCritical();
      }
    } catch (err) {
      // Network hiccup: keep the last numbers, try again next time.
    }
    window.setTimeout(() => pollFragment(el), interval(el));
  };

  // A whole page (run list, alert list, rounds board): the page polls itself and swaps its live regions.
  const pollPage = async (root) => {
    try {
      const response = await fetchLive(window.location.pathname + window.location.search, root.dataset.liveEtag);
      if (response && response.status === 200) {
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        document.querySelectorAll("[data-live-region]").forEach((region) => {
          const fresh = doc.getElementById(region.id);
          if (fresh && !typing(region)) {
            region.innerHTML = fresh.innerHTML;
            if (window.htmx) window.htmx.process(region);
          }
        });
        const next = doc.querySelector("[data-live-page]");
        root.dataset.liveEtag = next ? next.dataset.liveEtag : response.headers.get("ETag") || "";
        noticeCritical();
      }
    } catch (err) {
      // keep what is shown
    }
    window.setTimeout(() => pollPage(root), interval(root));
  };

  const muteButton = () => {
    const button = document.querySelector("[data-mute-toggle]");
    if (!button) return;
    const show = () => {
      button.textContent = isMuted() ? "Alert sound off" : "Alert sound on";
      button.setAttribute("aria-pressed", isMuted() ? "true" : "false");
    };
    button.addEventListener("click", () => {
      localStorage.setItem(MUTE_KEY, isMuted() ? "0" : "1");
      show();
    });
    show();
  };

  document.addEventListener("DOMContentLoaded", () => {
    muteButton();
    document.querySelectorAll("[data-live-url]").forEach((el) => pollFragment(el));
    const page = document.querySelector("[data-live-page]");
    if (page) window.setTimeout(() => pollPage(page), interval(page));
  });
})();
