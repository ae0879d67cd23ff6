// streamvault: the watch page's player. Adaptive HLS through hls.js (with a quality choice),
// else the browser's own HLS, else the original MP4; while the video is processing, the original
// plays and the page polls the API until HLS is ready, then switches keeping the position.
'use strict';

(function () {
  const video = document.getElementById('player');
  if (!video || !window.sv) return;
  const sv = window.sv;
  const d = video.dataset;

  const qualityBox = document.getElementById('quality-box');
  const quality = document.getElementById('quality');
  const note = document.getElementById('engine-note');
  const processing = document.getElementById('processing');
  const processingBar = document.getElementById('processing-progress');
  const processingPct = document.getElementById('processing-pct');
  const processingText = document.getElementById('processing-text');
  const failed = document.getElementById('failed');
  const failureReason = document.getElementById('failure-reason');

  const POLL_MS = 2000;
  let hls = null;

  function setEngine(name) {
    video.dataset.engine = name;
  }

  /** The position and play state to carry over when the source changes. */
  function snapshot() {
    return { time: video.currentTime || 0, paused: video.paused, started: video.currentTime > 0 || !video.paused };
  }

  function restore(state) {
    if (!state || !state.started) return;
    const apply = () => {
      if (state.time > 0) {
        try {
          video.currentTime = state.time;
        } catch (e) {
          /* not seekable yet */
        }
      }
      if (!state.paused) video.play().catch(() => {});
    };
    if (video.readyState >= 1) apply();
    else video.addEventListener('loadedmetadata', apply, { once: true });
  }

  function destroyHls() {
    if (hls) {
      hls.destroy();
      hls = null;
    }
    qualityBox.hidden = true;
  }

  function useMp4(state) {
    destroyHls();
    setEngine('mp4');
    note.textContent = '';
    video.src = d.mp4;
    video.load();
    restore(state);
  }

  function levelLabel(level) {
    if (level.height) return `${level.height}p`;
    if (level.bitrate) return `${Math.round(level.bitrate / 1000)} kbps`;
    return 'Level';
  }

  function fillQualities() {
    while (quality.options.length > 1) quality.remove(1);
    const levels = hls.levels
      .map((level, index) => ({ level, index }))
      .sort((a, b) => (b.level.height || 0) - (a.level.height || 0) || (b.level.bitrate || 0) - (a.level.bitrate || 0));
    for (const { level, index } of levels) {
      const opt = document.createElement('option');
      opt.value = String(index);
      opt.textContent = levelLabel(level);
      quality.appendChild(opt);
    }
    quality.value = '-1';
    qualityBox.hidden = levels.length === 0;
  }

  function useHlsJs(url, state) {
    destroyHls();
    video.removeAttribute('src');
    const start = state && state.started ? state.time : -1;
    hls = new window.Hls({
      // The CSP has no blob: workers; fMP4 needs no transmuxing worth a worker anyway.
      enableWorker: false,
      capLevelToPlayerSize: true,
      startPosition: start,
      maxBufferLength: 30,
    });
    const current = hls;
    setEngine('hls');
    hls.on(window.Hls.Events.MANIFEST_PARSED, () => {
      if (hls !== current) return;
      fillQualities();
      if (state && state.started && !state.paused) video.play().catch(() => {});
    });
    hls.on(window.Hls.Events.LEVEL_SWITCHED, (_e, data) => {
      if (hls !== current) return;
      const level = hls.levels[data.level];
      quality.options[0].textContent = hls.autoLevelEnabled && level ? `Auto (${levelLabel(level)})` : 'Auto';
    });
    hls.on(window.Hls.Events.ERROR, (_e, data) => {
      if (hls !== current || !data.fatal) return;
      // Anything fatal: play the original instead, from where we were.
      const s = snapshot();
      note.textContent = 'Adaptive streaming failed; playing the original file.';
      useMp4(s);
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  }

  function useHls(url, state) {
    if (window.Hls && window.Hls.isSupported()) {
      useHlsJs(url, state);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      destroyHls();
      setEngine('native-hls');
      video.src = url;
      video.load();
      restore(state);
      video.addEventListener(
        'error',
        () => {
          if (video.dataset.engine === 'native-hls') useMp4(snapshot());
        },
        { once: true },
      );
    } else {
      useMp4(state);
    }
  }

  quality.addEventListener('change', () => {
    if (!hls) return;
    // currentLevel switches now (flushing the buffer); -1 is automatic.
    hls.currentLevel = Number(quality.value);
    if (quality.value === '-1') quality.options[0].textContent = 'Auto';
  });

  // ---- processing status ----

  function showProgress(p) {
    const n = Math.max(0, Math.min(100, Number(p) || 0));
    sv.setProgress(processingBar, n);
    processingPct.textContent = `${Math.floor(n)}%`;
  }

  function statusUrl() {
    return `/api/v1/user/${encodeURIComponent(d.author)}/videos/${encodeURIComponent(d.videoId)}`;
  }

  async function poll() {
    let v;
    try {
      v = await sv.api('GET', statusUrl());
    } catch (e) {
      if (e.status === 404) return; // deleted meanwhile
      setTimeout(poll, POLL_MS * 2);
      return;
    }
    d.status = v.status;
    if (typeof v.progress === 'number') showProgress(v.progress);
    if (v.status === 'processing') {
      processingText.textContent = 'Preparing adaptive streaming. You can already watch the original.';
    }
    if (v.status === 'ready') {
      processing.hidden = true;
      if (v.thumbnail_url && !video.getAttribute('poster')) video.setAttribute('poster', v.thumbnail_url);
      if (v.hls_url) {
        d.hls = v.hls_url;
        useHls(v.hls_url, snapshot());
      }
      return;
    }
    if (v.status === 'failed') {
      processing.hidden = true;
      failureReason.textContent = v.failure_reason || '';
      failed.hidden = false;
      return;
    }
    setTimeout(poll, POLL_MS);
  }

  // ---- storyboard preview over the timeline (optional) ----

  function parseVtt(text, base) {
    const cues = [];
    const time = (t) => {
      const parts = t.trim().split(':').map(Number);
      return parts.reduce((acc, n) => acc * 60 + n, 0);
    };
    const blocks = text.replace(/\r/g, '').split('\n\n');
    for (const block of blocks) {
      const lines = block.split('\n').filter(Boolean);
      const i = lines.findIndex((l) => l.includes('-->'));
      if (i < 0 || !lines[i + 1]) continue;
      const [from, to] = lines[i].split('-->').map((s) => time(s.split(' ').filter(Boolean)[0] || s));
      const target = lines[i + 1].trim();
      const m = target.match(/^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/);
      if (!m) continue;
      cues.push({
        from,
        to,
        url: new URL(m[1], base).href,
        x: +m[2],
        y: +m[3],
        w: +m[4],
        h: +m[5],
      });
    }
    return cues;
  }

  async function storyboard() {
    const url = d.storyboard;
    const hint = document.getElementById('storyboard-hint');
    if (!url || !hint || !window.matchMedia('(hover: hover)').matches) return;
    let cues;
    try {
      const res = await fetch(url, { credentials: 'same-origin' });
      if (!res.ok) return;
      cues = parseVtt(await res.text(), new URL(url, location.href).href);
    } catch (e) {
      return;
    }
    if (!cues.length) return;
    const image = hint.querySelector('.storyboard-image');
    const label = hint.querySelector('.storyboard-time');
    const frame = video.parentElement;
    // The native timeline runs along the bottom of the player; preview while hovering there.
    frame.addEventListener('mousemove', (e) => {
      const rect = video.getBoundingClientRect();
      const y = e.clientY - rect.top;
      const duration = video.duration;
      if (!Number.isFinite(duration) || duration <= 0 || y < rect.height - 56) {
        hint.hidden = true;
        return;
      }
      const x = Math.max(0, Math.min(rect.width, e.clientX - rect.left));
      const t = (x / rect.width) * duration;
      const cue = cues.find((c) => t >= c.from && t < c.to) || cues[cues.length - 1];
      image.style.width = `${cue.w}px`;
      image.style.height = `${cue.h}px`;
      image.style.backgroundImage = `url("${cue.url}")`;
      image.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      label.textContent = sv.formatTime(t);
      const half = cue.w / 2 + 4;
      hint.style.left = `${Math.max(half, Math.min(rect.width - half, x))}px`;
      hint.hidden = false;
    });
    frame.addEventListener('mouseleave', () => {
      hint.hidden = true;
    });
  }

  // ---- start ----

  const pending = d.status === 'uploaded' || d.status === 'processing' || d.status === 'created';
  if (!pending && d.hls) {
    useHls(d.hls, null);
  } else {
    useMp4(null);
  }
  if (pending) {
    showProgress(d.progress);
    setTimeout(poll, POLL_MS);
  }
  storyboard();
})();
