// streamvault: the social widgets. The notification bell (a long poll of the unread count with
// its validator: the server answers when something arrives), follow, like and dislike buttons,
// "save to playlist", and the watch history (resume where the viewer stopped; report how far
// they got; play a playlist's next video). Plain browser JavaScript; no inline script.
'use strict';

(function () {
  const sv = window.sv;
  if (!sv) return;

  // ---------- the bell ----------
  function bell() {
    const count = document.getElementById('bell-count');
    if (!count) return;
    let etag = null;
    let delay = 1000;
    // A form that leaves the page (signing out among them) stops the poll first: the session it
    // asks with may end before the next page comes, and the 401 would be logged as an error.
    let stopped = false;
    let inflight = null;
    document.addEventListener('submit', (e) => {
      // Handled in the page, or a dialog's form: the page stays.
      if (e.defaultPrevented || (e.target.getAttribute('method') || '').toLowerCase() === 'dialog') return;
      stopped = true;
      if (inflight) inflight.abort();
    });
    // Back to this page from the history's cache: it asks again.
    window.addEventListener('pageshow', (e) => {
      if (e.persisted && stopped) {
        stopped = false;
        poll();
      }
    });
    async function poll() {
      if (stopped) return;
      const headers = { Accept: 'application/json' };
      if (etag) headers['If-None-Match'] = etag;
      try {
        inflight = new AbortController();
        const res = await fetch(`/api/v1/me/notifications/unread${etag ? '?wait=25' : ''}`, {
          headers,
          credentials: 'same-origin',
          signal: inflight.signal,
        });
        if (res.status === 200) {
          etag = res.headers.get('ETag');
          const body = await res.json();
          const n = Number(body.unread) || 0;
          count.textContent = n > 99 ? '99+' : String(n);
          count.hidden = n === 0;
          document.getElementById('bell').setAttribute('aria-label', `Notifications, ${n} unread`);
          delay = 1000;
        } else if (res.status !== 304) {
          throw new Error(String(res.status));
        }
        setTimeout(poll, 250);
      } catch (e) {
        if (stopped) return;
        // Signed out, or the server is away: back off, up to a minute.
        delay = Math.min(delay * 2, 60000);
        setTimeout(poll, delay);
      }
    }
    poll();
  }

  // ---------- follow ----------
  function followButton() {
    const btn = document.getElementById('follow-button');
    if (!btn) return;
    const counter = document.getElementById('follower-count');
    btn.addEventListener('click', async () => {
      const on = btn.getAttribute('aria-pressed') !== 'true';
      btn.disabled = true;
      try {
        const state = await sv.api(on ? 'PUT' : 'DELETE', `/api/v1/channels/${encodeURIComponent(btn.dataset.channel)}/follow`);
        btn.setAttribute('aria-pressed', String(state.following));
        btn.textContent = state.following ? 'Following' : 'Follow';
        btn.classList.toggle('btn-primary', !state.following);
        if (counter) counter.textContent = String(state.followers);
      } catch (e) {
        sv.toast(e.message, 'error');
      } finally {
        btn.disabled = false;
      }
    });
  }

  // ---------- like / dislike ----------
  function ratingButtons(bar) {
    const like = document.getElementById('like-button');
    const dislike = document.getElementById('dislike-button');
    if (!like || !dislike) return;
    const path = `/api/v1/videos/${bar.dataset.videoId}`;
    function show(r) {
      like.setAttribute('aria-pressed', String(r.rating === 'like'));
      dislike.setAttribute('aria-pressed', String(r.rating === 'dislike'));
      document.getElementById('like-count').textContent = String(r.likes);
      document.getElementById('dislike-count').textContent = String(r.dislikes);
    }
    sv.api('GET', `${path}/like`).then(show, () => {});
    async function press(btn, which) {
      const on = btn.getAttribute('aria-pressed') !== 'true';
      btn.disabled = true;
      try {
        show(await sv.api(on ? 'PUT' : 'DELETE', `${path}/${which}`));
      } catch (e) {
        sv.toast(e.message, 'error');
      } finally {
        btn.disabled = false;
      }
    }
    like.addEventListener('click', () => press(like, 'like'));
    dislike.addEventListener('click', () => press(dislike, 'dislike'));
  }

  // ---------- save to playlist ----------
  function saveMenu(bar) {
    const menu = document.getElementById('save-menu');
    const list = document.getElementById('save-list');
    if (!menu || !list) return;
    const vid = bar.dataset.videoId;
    let loaded = false;
    menu.addEventListener('toggle', async () => {
      if (!menu.open || loaded) return;
      loaded = true;
      try {
        const res = await sv.api('GET', `/api/v1/me/playlists?limit=100&video=${vid}`);
        list.textContent = '';
        for (const p of res.playlists) {
          const li = document.createElement('li');
          const label = document.createElement('label');
          const box = document.createElement('input');
          box.type = 'checkbox';
          box.checked = !!p.holds_video;
          box.dataset.playlist = p.id;
          label.append(box, ` ${p.name}`);
          li.append(label);
          list.append(li);
          box.addEventListener('change', async () => {
            box.disabled = true;
            const url = `/api/v1/me/playlists/${p.id}/items/${vid}`;
            try {
              await sv.api(box.checked ? 'PUT' : 'DELETE', url);
              sv.toast(box.checked ? `Saved to ${p.name}` : `Removed from ${p.name}`);
            } catch (e) {
              box.checked = !box.checked;
              sv.toast(e.message, 'error');
            } finally {
              box.disabled = false;
            }
          });
        }
      } catch (e) {
        loaded = false;
        sv.toast(e.message, 'error');
      }
    });
  }

  // ---------- history: resume, report, next in the playlist ----------
  function history(bar) {
    const video = document.getElementById('player');
    if (!video) return;
    const vid = bar.dataset.videoId;
    const signedIn = bar.dataset.signedIn === 'true';
    const asked = new URLSearchParams(location.search).get('t');
    let resumeAt = asked !== null && /^\d+$/.test(asked) ? Number(asked) : null;
    function seek() {
      if (resumeAt === null || !(resumeAt > 0)) return;
      const end = video.duration;
      // Near the end it starts over.
      if (Number.isFinite(end) && resumeAt > end * 0.95) return;
      try {
        video.currentTime = resumeAt;
      } catch (e) {
        /* not seekable yet */
      }
    }
    function whenReady() {
      if (video.readyState >= 1) seek();
      else video.addEventListener('loadedmetadata', seek, { once: true });
    }
    if (resumeAt !== null) whenReady();
    else if (signedIn) {
      sv.api('GET', `/api/v1/me/history/${vid}`).then(
        (h) => {
          if (h.position_ms === null) return;
          resumeAt = h.position_ms / 1000;
          whenReady();
        },
        () => {},
      );
    }
    // A playlist plays on: the next video when this one ends.
    video.addEventListener('ended', () => {
      const panel = document.getElementById('list-panel');
      if (panel && panel.dataset.next) location.assign(panel.dataset.next);
    });
    if (!signedIn) return;
    let last = -1;
    function report() {
      const ms = Math.floor((video.currentTime || 0) * 1000);
      if (ms === last) return;
      last = ms;
      sv.api('PUT', `/api/v1/me/history/${vid}`, { position_ms: ms }).catch(() => {});
    }
    let timer = null;
    video.addEventListener('play', () => {
      if (!timer) timer = setInterval(report, 10000);
    });
    video.addEventListener('pause', () => {
      clearInterval(timer);
      timer = null;
      report();
    });
    video.addEventListener('ended', report);
    window.addEventListener('pagehide', report);
  }

  document.addEventListener('DOMContentLoaded', () => {
    bell();
    followButton();
    const bar = document.getElementById('social-bar');
    if (bar) {
      if (bar.dataset.signedIn === 'true') {
        ratingButtons(bar);
        saveMenu(bar);
      }
      history(bar);
    }
  });
})();
