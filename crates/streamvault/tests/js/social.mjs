// The social layer in a real browser: two people (two browser contexts). B follows A from A's
// channel page with the keyboard; A uploads a video; B's bell shows the notification without a
// reload (the long poll), B's feed lists the video, B saves it to "Watch later" and likes it
// from its page, and the notification page lists it; B messages A, and A reads it. Any page error or console error (a CSP
// violation included) fails the run.
//
//   node social.mjs --base http://127.0.0.1:8080 --a NAME --a-token TOKEN --b-token TOKEN --file VIDEO --shots DIR
//
// Prints one line per step and `SOCIAL OK` at the end; exit status 1 on failure.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const need of ['base', 'a', 'a-token', 'b-token', 'file', 'shots']) {
    if (!out[need]) throw new Error(`--${need} is required`);
  }
  out.base = out.base.replace(/\/+$/, '');
  return out;
}

class Check extends Error {}
function expect(cond, message) {
  if (!cond) throw new Check(message);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  mkdirSync(opts.shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new'],
  });
  const problems = [];
  async function person(token, who) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    context.setDefaultTimeout(20000);
    await context.addCookies([{ name: 'sv_session', value: token, url: opts.base }]);
    const page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`${who}: page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`${who}: console error: ${msg.text()}`);
    });
    return page;
  }
  let stepNo = 0;
  async function step(name, fn) {
    stepNo++;
    const t0 = Date.now();
    await fn();
    if (problems.length) throw new Check(`browser reported errors:\n  ${problems.join('\n  ')}`);
    console.log(`step ${stepNo} ok: ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  /** A's own API calls (the upload page's requests, without its form). */
  async function asA(method, path, body, type) {
    const headers = { 'X-Session-Id': opts['a-token'] };
    if (type) headers['Content-Type'] = type;
    const res = await fetch(`${opts.base}${path}`, { method, headers, body });
    expect(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
    return res.json().catch(() => null);
  }

  const b = await person(opts['b-token'], 'B');
  let vid = '';
  const title = `Fresh from A ${Math.floor(Math.random() * 1e6)}`;

  try {
    await step("B follows A from A's channel page, with the keyboard", async () => {
      const res = await b.goto(`${opts.base}/u/${opts.a}`);
      expect(res && res.status() === 200, `channel page: ${res && res.status()}`);
      await b.focus('#follow-button');
      await b.keyboard.press('Enter');
      await b.waitForSelector('#follow-button[aria-pressed="true"]');
      expect((await b.textContent('#follower-count')).trim() === '1', 'one follower');
      expect((await b.textContent('#follow-button')).trim() === 'Following', 'the button says so');
    });

    await step("B's bell is at zero; A uploads a video; the bell shows it without a reload", async () => {
      await b.goto(`${opts.base}/feed`);
      await b.waitForFunction(() => document.getElementById('bell').getAttribute('aria-label') === 'Notifications, 0 unread');
      const made = await asA('POST', `/api/v1/user/${opts.a}/videos`, JSON.stringify({ name: title, description: '' }), 'application/json');
      vid = made.id;
      await asA('POST', `/stream/v1/videos/${vid}/upload`, readFileSync(opts.file), 'application/octet-stream');
      await b.waitForSelector('#bell-count:not([hidden])', { timeout: 30000 });
      expect((await b.textContent('#bell-count')).trim() === '1', 'one unread');
      await b.screenshot({ path: join(opts.shots, 'social-bell.png') });
    });

    await step("B's feed lists the video", async () => {
      await b.reload();
      await b.locator('.card-title a', { hasText: title }).waitFor();
    });

    await step('the bell leads to the notification', async () => {
      await b.focus('#bell');
      await b.keyboard.press('Enter');
      await b.waitForURL(`${opts.base}/notifications`);
      await b.locator('.notification a', { hasText: title }).waitFor();
    });

    await step('B saves it to "Watch later" from its page, with the keyboard', async () => {
      await b.goto(`${opts.base}/watch/${vid}`);
      await b.focus('#save-menu > summary');
      await b.keyboard.press('Enter');
      const box = b.locator('#save-list label', { hasText: 'Watch later' }).locator('input');
      await box.waitFor();
      await box.focus();
      await b.keyboard.press('Space');
      await b.locator('.toast', { hasText: 'Saved to Watch later' }).waitFor();
      const lists = await b.evaluate(async (v) => (await fetch(`/api/v1/me/playlists?video=${v}`)).json(), vid);
      const later = lists.playlists.find((p) => p.builtin === 'watch_later');
      expect(later && later.holds_video === true, 'Watch later holds it');
    });

    await step('B likes it; the count says one', async () => {
      await b.focus('#like-button');
      await b.keyboard.press('Enter');
      await b.waitForSelector('#like-button[aria-pressed="true"]');
      expect((await b.textContent('#like-count')).trim() === '1', 'one like');
      await b.reload();
      await b.waitForSelector('#like-button[aria-pressed="true"]');
      await b.screenshot({ path: join(opts.shots, 'social-watch.png') });
    });

    await step('"Watch later" plays it from its page', async () => {
      const lists = await b.evaluate(async () => (await fetch('/api/v1/me/playlists')).json());
      const later = lists.playlists.find((p) => p.builtin === 'watch_later');
      await b.goto(`${opts.base}/playlists/${later.id}`);
      await b.click('#play-all');
      await b.waitForURL(new RegExp(`/watch/${vid}\\?list=`));
      await b.waitForSelector('#list-panel');
    });

    await step('B messages A from the channel page; A reads it in /messages', async () => {
      const text = `Hello A! 你好 ${Math.floor(Math.random() * 1e6)}`;
      await b.goto(`${opts.base}/u/${opts.a}`);
      await b.focus('#message-link');
      await b.keyboard.press('Enter');
      await b.waitForURL(`${opts.base}/messages/${opts.a}`);
      await b.focus('#message-text');
      await b.keyboard.type(text);
      await b.keyboard.press('Tab');
      await b.keyboard.press('Enter');
      await b.locator('.message.mine .message-text', { hasText: text }).waitFor();
      const a = await person(opts['a-token'], 'A');
      await a.goto(`${opts.base}/messages`);
      await a.locator('.conversation.unread a', { hasText: 'new' }).waitFor();
      await a.click('.conversation a');
      await a.locator('.message .message-text', { hasText: text }).waitFor();
      await a.goto(`${opts.base}/messages`);
      expect((await a.locator('.conversation.unread').count()) === 0, 'read once opened');
      await a.screenshot({ path: join(opts.shots, 'social-messages.png') });
    });

    console.log('SOCIAL OK');
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Check ? `CHECK FAILED: ${e.message}` : e);
  process.exit(1);
});
