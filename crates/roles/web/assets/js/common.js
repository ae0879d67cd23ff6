// streamvault: helpers shared by every page (window.sv). Plain browser JavaScript, no build step.
'use strict';

(function () {
  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') || '' : '';
  }

  /** An Error carrying the API's `{error, error_code}` and the HTTP status. */
  class ApiError extends Error {
    constructor(message, status, code) {
      super(message);
      this.name = 'ApiError';
      this.status = status;
      this.code = code || '';
    }
  }

  /**
   * Calls the JSON API on this site: `await sv.api('POST', '/api/v1/folders', {name})`.
   * Resolves to the parsed JSON body (or null for an empty one); rejects with an ApiError whose
   * message is the server's `error` text.
   */
  async function api(method, url, body) {
    const headers = { 'X-CSRF-Token': csrf(), Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      throw new ApiError('The server could not be reached. Check your connection and try again.', 0, 'network');
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
    }
    if (!res.ok) {
      const message = (data && data.error) || `The request failed (${res.status} ${res.statusText}).`;
      throw new ApiError(message, res.status, data && data.error_code);
    }
    return data;
  }

  const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  /** 1536 → "1.5 KB" (powers of 1024, like most drives show). */
  function formatSize(bytes) {
    let n = Number(bytes);
    if (!Number.isFinite(n) || n < 0) return '';
    let i = 0;
    while (n >= 1024 && i < UNITS.length - 1) {
      n /= 1024;
      i++;
    }
    const digits = i === 0 || n >= 100 ? 0 : n >= 10 ? 1 : 2;
    return `${n.toFixed(digits)} ${UNITS[i]}`;
  }

  /** 83.4 → "1:23"; 3725 → "1:02:05". */
  function formatTime(seconds) {
    const s = Math.max(0, Math.floor(Number(seconds) || 0));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = String(s % 60).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
  }

  /** A short message in the page's live region; `kind` is 'info' or 'error'. */
  function toast(message, kind) {
    const area = document.getElementById('toasts');
    if (!area) return;
    const el = document.createElement('div');
    el.className = kind === 'error' ? 'toast toast-error' : 'toast';
    el.textContent = message;
    area.appendChild(el);
    setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
  }

  /** Sets a role=progressbar element (with an inner <progress>) to `percent`. */
  function setProgress(el, percent, text) {
    if (!el) return;
    const p = Math.max(0, Math.min(100, Math.floor(percent)));
    el.setAttribute('aria-valuenow', String(p));
    if (text) el.setAttribute('aria-valuetext', text);
    const bar = el.querySelector('progress');
    if (bar) bar.value = p;
  }

  window.sv = { csrf, api, ApiError, formatSize, formatTime, toast, setProgress };

  // Keep the search box showing the current query on the home page.
  document.addEventListener('DOMContentLoaded', () => {
    const input = document.getElementById('site-search');
    if (input && location.pathname === '/') {
      const q = new URLSearchParams(location.search).get('q');
      if (q) input.value = q;
    }
  });
})();
