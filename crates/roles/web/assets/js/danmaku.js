// streamvault: bullet comments (弹幕) over the watch page's player. They are read by segment of
// six minutes of video time (as bilibili's players do) and fly over the video at their moment,
// in step with playback: seeking, pausing, speed changes and HLS quality switches included. New
// ones arrive live over a WebSocket (with the count of viewers now); the player's heartbeats go
// up the same socket while it plays. A lost socket reconnects and catches up from the segments.
// Viewer settings stay in this browser (localStorage).
'use strict';

(function () {
  const video = document.getElementById('player');
  const stage = document.getElementById('danmaku-stage');
  if (!video || !stage || !window.sv) return;
  const sv = window.sv;
  const base = `/api/v1/videos/${encodeURIComponent(video.dataset.videoId)}`;
  const SEGMENT_MS = 6 * 60 * 1000;
  const HEARTBEAT_MS = 15000;
  const SPEEDS = { slow: 12000, normal: 8000, fast: 5000 };
  const STILL_MS = 4000;
  const $ = (id) => document.getElementById(id);

  // ---- settings (this browser) ----

  const KEY = 'sv.danmaku.settings';
  const DEFAULTS = {
    on: true,
    opacity: 100,
    speed: 'normal',
    area: 100,
    hideScroll: false,
    hideTop: false,
    hideBottom: false,
    blocklist: '',
  };
  let settings = { ...DEFAULTS };
  try {
    settings = { ...DEFAULTS, ...JSON.parse(localStorage.getItem(KEY) || '{}') };
  } catch (e) {
    /* unreadable: defaults */
  }
  let blockwords = [];

  function applySettings() {
    stage.hidden = !settings.on;
    stage.style.opacity = String(settings.opacity / 100);
    stage.style.height = `${settings.area}%`;
    blockwords = settings.blocklist
      .split(/[\n,]/)
      .map((w) => w.trim().toLowerCase())
      .filter(Boolean);
    if (!settings.on) clearStage();
  }

  function saveSettings() {
    try {
      localStorage.setItem(KEY, JSON.stringify(settings));
    } catch (e) {
      /* private mode: for this page only */
    }
    applySettings();
  }

  function bindSetting(id, field, read, write) {
    const el = $(id);
    if (!el) return;
    write(el, settings[field]);
    el.addEventListener('change', () => {
      settings[field] = read(el);
      saveSettings();
    });
  }
  const checked = [(el) => el.checked, (el, v) => (el.checked = !!v)];
  const value = [(el) => el.value, (el, v) => (el.value = String(v))];
  const number = [(el) => Number(el.value), (el, v) => (el.value = String(v))];
  bindSetting('dm-on', 'on', ...checked);
  bindSetting('dm-opacity', 'opacity', ...number);
  bindSetting('dm-speed', 'speed', ...value);
  bindSetting('dm-area', 'area', ...number);
  bindSetting('dm-hide-scroll', 'hideScroll', ...checked);
  bindSetting('dm-hide-top', 'hideTop', ...checked);
  bindSetting('dm-hide-bottom', 'hideBottom', ...checked);
  bindSetting('dm-blocklist', 'blocklist', ...value);

  function hiddenByViewer(d) {
    if ((d.mode === 'scroll' && settings.hideScroll) || (d.mode === 'top' && settings.hideTop)) return true;
    if (d.mode === 'bottom' && settings.hideBottom) return true;
    const text = d.text.toLowerCase();
    return blockwords.some((w) => text.includes(w));
  }

  // ---- the timeline: segments as read, plus what arrived live ----

  const segments = new Map(); // segment number → list sorted by t_ms
  const loading = new Map();
  const known = new Set(); // ids in the timeline

  function insert(list, d) {
    if (known.has(d.id)) return false;
    known.add(d.id);
    let i = list.length;
    while (i > 0 && list[i - 1].t_ms > d.t_ms) i--;
    list.splice(i, 0, d);
    return true;
  }

  function loadSegment(n, again) {
    if (n < 0 || (!again && (segments.has(n) || loading.has(n)))) return loading.get(n);
    const p = fetch(`${base}/danmaku?segment=${n}`, { credentials: 'same-origin', cache: 'no-cache' })
      .then((res) => (res.ok ? res.json() : null))
      .then((body) => {
        if (!body) return;
        const list = segments.get(n) || [];
        for (const d of body.danmaku) insert(list, d);
        segments.set(n, list);
      })
      .catch(() => {})
      .finally(() => loading.delete(n));
    loading.set(n, p);
    return p;
  }

  // ---- the stage: lanes, and each bullet comment's flight ----

  const flying = new Set(); // {el, anim}
  const shown = new Set(); // ids flown since the last seek
  const lanes = { scroll: [], top: [], bottom: [] }; // per lane: when it is free again (performance.now())

  function clearStage() {
    for (const f of flying) f.anim.cancel();
    flying.clear();
    stage.replaceChildren();
    lanes.scroll = [];
    lanes.top = [];
    lanes.bottom = [];
  }

  function pickLane(kind, count, freeAt) {
    const now = performance.now();
    const list = lanes[kind];
    let best = 0;
    for (let i = 0; i < count; i++) {
      const at = list[i] || 0;
      if (at <= now) {
        list[i] = freeAt(i);
        return i;
      }
      if (at < (list[best] || 0)) best = i;
    }
    // Every lane is busy: the one that frees first (they overlap a little, as on bilibili).
    list[best] = freeAt(best);
    return best;
  }

  function fly(d, own) {
    if (!settings.on || hiddenByViewer(d) || shown.has(d.id)) return;
    shown.add(d.id);
    const el = document.createElement('span');
    el.className = `dm dm-${d.size}${own ? ' dm-own' : ''}`;
    el.textContent = d.text;
    el.dataset.id = d.id;
    el.style.color = `#${(d.color >>> 0).toString(16).padStart(6, '0').slice(-6)}`;
    stage.appendChild(el);
    const width = stage.clientWidth;
    const height = stage.clientHeight;
    const w = el.offsetWidth;
    const h = el.offsetHeight || 24;
    const count = Math.max(1, Math.floor(height / h));
    let anim;
    if (d.mode === 'scroll') {
      const duration = SPEEDS[settings.speed] || SPEEDS.normal;
      const speed = (width + w) / duration; // px per ms of playback
      const rate = video.playbackRate || 1;
      // A lane is free once this one's tail is on screen with a gap behind it.
      const lane = pickLane('scroll', count, () => performance.now() + (w + 24) / speed / rate);
      el.style.top = `${lane * h}px`;
      anim = el.animate([{ transform: `translateX(${width}px)` }, { transform: `translateX(${-w}px)` }], {
        duration,
        easing: 'linear',
      });
    } else {
      const kind = d.mode === 'top' ? 'top' : 'bottom';
      const lane = pickLane(kind, count, () => performance.now() + STILL_MS / (video.playbackRate || 1));
      el.classList.add('dm-still');
      if (kind === 'top') el.style.top = `${lane * h}px`;
      else el.style.bottom = `${lane * h}px`;
      anim = el.animate([{ opacity: 1 }, { opacity: 1 }], { duration: STILL_MS });
    }
    anim.playbackRate = video.playbackRate || 1;
    if (video.paused) anim.pause();
    const f = { el, anim };
    flying.add(f);
    anim.onfinish = () => {
      el.remove();
      flying.delete(f);
    };
  }

  // ---- in step with playback ----

  let cursor = -1; // the video moment (ms) up to which bullet comments have flown

  function restart() {
    clearStage();
    shown.clear();
    cursor = video.currentTime * 1000;
    const n = Math.floor(cursor / SEGMENT_MS);
    loadSegment(n);
  }

  function tick() {
    const now = video.currentTime * 1000;
    // A jump (a seek, a source switch that restored the position) starts over from there.
    if (cursor < 0 || now < cursor || now - cursor > 2000) {
      restart();
      return;
    }
    const n = Math.floor(now / SEGMENT_MS);
    loadSegment(n);
    if (now % SEGMENT_MS > SEGMENT_MS - 30000) loadSegment(n + 1);
    for (const m of n === Math.floor(cursor / SEGMENT_MS) ? [n] : [n - 1, n]) {
      for (const d of segments.get(m) || []) {
        if (d.t_ms > now) break;
        if (d.t_ms > cursor) fly(d, false);
      }
    }
    cursor = now;
  }

  let frame = 0;
  function loop() {
    tick();
    frame = video.paused ? 0 : requestAnimationFrame(loop);
  }
  video.addEventListener('playing', () => {
    for (const f of flying) f.anim.play();
    if (!frame) frame = requestAnimationFrame(loop);
  });
  video.addEventListener('pause', () => {
    for (const f of flying) f.anim.pause();
  });
  video.addEventListener('seeking', restart);
  video.addEventListener('emptied', () => clearStage());
  video.addEventListener('ratechange', () => {
    for (const f of flying) f.anim.playbackRate = video.playbackRate || 1;
  });

  // ---- now watching, and live bullet comments ----

  const watchingNow = $('watching-now');
  function showWatching(w) {
    if (w && typeof w.now === 'number' && watchingNow) watchingNow.textContent = String(w.now);
  }

  function arrived(d, own) {
    const n = Math.floor(d.t_ms / SEGMENT_MS);
    if (!segments.has(n)) segments.set(n, []);
    insert(segments.get(n), d);
    // One posted near where this viewer is flies now; others wait for their moment.
    if (Math.abs(d.t_ms - video.currentTime * 1000) < 10000) fly(d, own);
    // The live echo of one's own may come before the answer to the post: mark it then.
    if (own) {
      const el = stage.querySelector(`[data-id="${CSS.escape(d.id)}"]`);
      if (el) el.classList.add('dm-own');
    }
  }

  /** Taken back by its author or hidden by the owner: out of the timeline and off the stage. */
  function removed(id) {
    for (const list of segments.values()) {
      const i = list.findIndex((d) => d.id === id);
      if (i >= 0) list.splice(i, 1);
    }
    for (const f of flying) {
      if (f.el.dataset.id === id) {
        f.anim.cancel();
        f.el.remove();
        flying.delete(f);
      }
    }
  }

  let socket = null;
  let retry = 1000;
  let everOpen = false;
  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}${base}/live`);
    socket = ws;
    ws.addEventListener('open', () => {
      retry = 1000;
      stage.dataset.live = 'open';
      if (!video.paused) beat();
      // What was posted while the socket was down is in the segments.
      if (everOpen) loadSegment(Math.floor((video.currentTime * 1000) / SEGMENT_MS), true);
      everOpen = true;
    });
    ws.addEventListener('message', (e) => {
      let m;
      try {
        m = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      showWatching(m.watching);
      if (m.type === 'danmaku' && m.danmaku) arrived(m.danmaku, false);
      if (m.type === 'removed' && m.id) removed(m.id);
    });
    ws.addEventListener('close', () => {
      if (socket !== ws) return;
      stage.dataset.live = 'closed';
      socket = null;
      setTimeout(connect, retry + Math.random() * 500);
      retry = Math.min(retry * 2, 30000);
    });
  }

  function beat() {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send('{"type":"heartbeat"}');
    } else {
      sv.api('POST', `${base}/watching`).then(showWatching, () => {});
    }
  }

  // Heartbeats while playing: at the start, every 15 s, and past the middle of a short video
  // (half of it is a view).
  let beats = 0;
  let half = 0;
  video.addEventListener('playing', () => {
    if (beats) return;
    beat();
    beats = setInterval(beat, HEARTBEAT_MS);
    const duration = video.duration;
    if (Number.isFinite(duration) && duration < 60) {
      const left = (duration / 2 + 1 - video.currentTime) * 1000;
      if (left > 0) half = setTimeout(beat, left / (video.playbackRate || 1));
    }
  });
  const stopBeats = () => {
    clearInterval(beats);
    clearTimeout(half);
    beats = 0;
  };
  video.addEventListener('pause', stopBeats);
  video.addEventListener('ended', stopBeats);

  // ---- density strip ----

  async function density() {
    const strip = $('danmaku-density');
    if (!strip) return;
    let body;
    try {
      body = await sv.api('GET', `${base}/danmaku/density`);
    } catch (e) {
      return;
    }
    const max = Math.max(1, ...body.counts);
    strip.replaceChildren(
      ...body.counts.map((n) => {
        const bar = document.createElement('span');
        bar.style.height = `${Math.round((n / max) * 100)}%`;
        return bar;
      }),
    );
    strip.dataset.bucketMs = String(body.bucket_ms);
    strip.addEventListener('click', (e) => {
      const rect = strip.getBoundingClientRect();
      const i = Math.floor(((e.clientX - rect.left) / rect.width) * body.counts.length);
      video.currentTime = (i * body.bucket_ms) / 1000;
    });
  }

  // ---- sending, and the owner's switches ----

  const form = $('danmaku-form');
  const text = $('danmaku-text');
  async function meta() {
    let m;
    try {
      m = await sv.api('GET', `${base}/danmaku/meta`);
    } catch (e) {
      return;
    }
    if (form) {
      for (const el of form.elements) el.disabled = !m.enabled;
      if (text) text.placeholder = m.enabled ? 'Send a bullet comment…' : 'The owner turned bullet comments off';
    }
    const enabled = $('dm-enabled');
    if (enabled) enabled.checked = m.enabled;
  }

  if (form && text) {
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = {
        t_ms: Math.round(video.currentTime * 1000),
        mode: $('danmaku-mode').value,
        size: $('danmaku-size').value,
        color: parseInt($('danmaku-color').value.slice(1), 16),
        text: text.value,
      };
      try {
        const d = await sv.api('POST', `${base}/danmaku`, body);
        text.value = '';
        arrived(d, true);
      } catch (err) {
        sv.toast(err.message, 'error');
      }
    });
  }

  const enabled = $('dm-enabled');
  if (enabled) {
    enabled.addEventListener('change', async () => {
      try {
        await sv.api('PUT', `${base}/danmaku/enabled`, { enabled: enabled.checked });
        meta();
      } catch (err) {
        sv.toast(err.message, 'error');
        enabled.checked = !enabled.checked;
      }
    });
  }

  const ownerWords = $('dm-owner-words');
  const ownerSave = $('dm-owner-save');
  if (ownerWords && ownerSave) {
    sv.api('GET', '/api/v1/me/danmaku/blocked-words').then(
      (b) => (ownerWords.value = b.words.join('\n')),
      () => {},
    );
    ownerSave.addEventListener('click', async () => {
      const words = ownerWords.value
        .split('\n')
        .map((w) => w.trim())
        .filter(Boolean);
      try {
        const b = await sv.api('PUT', '/api/v1/me/danmaku/blocked-words', { words });
        ownerWords.value = b.words.join('\n');
        sv.toast('Blocked words saved.');
      } catch (err) {
        sv.toast(err.message, 'error');
      }
    });
  }

  // ---- start ----

  applySettings();
  loadSegment(0);
  meta();
  density();
  connect();
  if (!video.paused) frame = requestAnimationFrame(loop);
})();
