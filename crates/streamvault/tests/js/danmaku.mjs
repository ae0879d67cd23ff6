// Bullet comments in a real browser: two people (two browser contexts, two sessions) watch one
// video; one sends a bullet comment from the composer with the keyboard, the other sees it fly
// over the video (it moves), the count of viewers reaches two on both; after a seek back it
// flies again at its moment (read from the segment); the viewer's settings hide it, hold across
// a reload, and a keyword blocklist hides matching ones; the density strip is drawn. Any page
// error or console error (a CSP violation included) fails the run.
//
//   node danmaku.mjs --base http://127.0.0.1:8080 --video ID --poster TOKEN --viewer TOKEN --shots DIR
//
// Prints one line per step and `DANMAKU OK` at the end; exit status 1 on failure.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const need of ['base', 'video', 'poster', 'viewer', 'shots']) {
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
    args: ['--no-sandbox', '--headless=new', '--autoplay-policy=no-user-gesture-required'],
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

  const poster = await person(opts.poster, 'poster');
  const viewer = await person(opts.viewer, 'viewer');
  const watch = `${opts.base}/watch/${opts.video}`;
  const play = (page) =>
    page.evaluate(async () => {
      const v = document.getElementById('player');
      v.muted = true;
      await v.play();
    });
  const live = (page) => page.waitForSelector('#danmaku-stage[data-live="open"]', { state: 'attached' });
  const text = `弹幕 test ${Math.floor(Math.random() * 1e6)}`;
  let postedAt = 0;

  try {
    await step('both open the video; it plays; live connections open', async () => {
      for (const page of [poster, viewer]) {
        const res = await page.goto(watch);
        expect(res && res.status() === 200, `GET ${watch}: ${res && res.status()}`);
        await live(page);
        await play(page);
      }
    });

    await step('the count of viewers reaches two', async () => {
      await viewer.waitForFunction(() => document.getElementById('watching-now').textContent === '2', null, {
        timeout: 10000,
      });
    });

    await step('the poster sends a bullet comment with the keyboard; the viewer sees it fly', async () => {
      await poster.focus('#danmaku-text');
      await poster.keyboard.type(text);
      postedAt = await poster.evaluate(() => document.getElementById('player').currentTime);
      await poster.keyboard.press('Enter');
      const own = poster.locator('#danmaku-stage .dm', { hasText: text });
      await own.waitFor({ state: 'attached', timeout: 5000 });
      expect(await own.evaluate((el) => el.classList.contains('dm-own')), 'the sender sees its own marked');
      const seen = viewer.locator('#danmaku-stage .dm', { hasText: text });
      await seen.waitFor({ state: 'attached', timeout: 5000 });
      const x1 = await seen.evaluate((el) => el.getBoundingClientRect().x);
      await sleep(400);
      const x2 = await seen.evaluate((el) => el.getBoundingClientRect().x);
      expect(x2 < x1 - 5, `it flies right to left (x ${x1} then ${x2})`);
      // The poster's page learns the count with the event.
      await poster.waitForFunction(() => document.getElementById('watching-now').textContent === '2');
      expect((await poster.inputValue('#danmaku-text')) === '', 'the composer is cleared');
      await viewer.screenshot({ path: join(opts.shots, 'danmaku-flying.png') });
    });

    await step('after a seek back it flies again at its moment, read from the segment', async () => {
      // Gone from the stage first, then seek to just before its moment.
      await viewer.waitForFunction(
        (t) => ![...document.querySelectorAll('#danmaku-stage .dm')].some((el) => el.textContent === t),
        text,
        { timeout: 15000 },
      );
      await viewer.evaluate((at) => {
        document.getElementById('player').currentTime = Math.max(0, at - 1);
      }, postedAt);
      try {
        await viewer.locator('#danmaku-stage .dm', { hasText: text }).waitFor({ state: 'attached', timeout: 5000 });
      } catch (e) {
        const state = await viewer.evaluate(() => {
          const v = document.getElementById('player');
          const dms = [...document.querySelectorAll('#danmaku-stage .dm')].map((el) => el.textContent);
          return { t: v.currentTime, paused: v.paused, ready: v.readyState, engine: v.dataset.engine, dms };
        });
        throw new Check(`it did not fly again (posted at ${postedAt} s); the viewer: ${JSON.stringify(state)}`);
      }
    });

    await step('the viewer turns bullet comments off; it holds across a reload', async () => {
      await viewer.click('#danmaku-settings > summary');
      await viewer.uncheck('#dm-on');
      expect(await viewer.locator('#danmaku-stage').isHidden(), 'the stage is hidden');
      await viewer.reload();
      await live(viewer);
      expect(!(await viewer.isChecked('#dm-on')), 'the setting was kept');
      expect(await viewer.locator('#danmaku-stage').isHidden(), 'still hidden after the reload');
      await viewer.click('#danmaku-settings > summary');
      await viewer.check('#dm-on');
      await play(viewer);
    });

    await step('a keyword blocklist hides matching ones from this viewer only', async () => {
      // Where the poster is (after the reload the viewer started over): one posted more
      // than 10 s away from a viewer waits for its moment instead of flying at once.
      const at = await poster.evaluate(() => document.getElementById('player').currentTime);
      await viewer.evaluate((t) => (document.getElementById('player').currentTime = t + 3.5), at);
      await viewer.fill('#dm-blocklist', 'secret');
      await viewer.locator('#dm-blocklist').blur();
      await sleep(3200); // one bullet comment per 3 s per sender
      const hidden = `a secret ${Math.floor(Math.random() * 1e6)}`;
      const shown = `in the open ${Math.floor(Math.random() * 1e6)}`;
      await poster.fill('#danmaku-text', hidden);
      await poster.press('#danmaku-text', 'Enter');
      await poster.locator('#danmaku-stage .dm', { hasText: hidden }).waitFor({ state: 'attached' });
      await sleep(3200);
      await poster.fill('#danmaku-text', shown);
      await poster.press('#danmaku-text', 'Enter');
      await viewer.locator('#danmaku-stage .dm', { hasText: shown }).waitFor({ state: 'attached', timeout: 5000 });
      const leaked = await viewer.evaluate(
        (t) => [...document.querySelectorAll('#danmaku-stage .dm')].some((el) => el.textContent === t),
        hidden,
      );
      expect(!leaked, 'the blocked one was not shown');
    });

    await step('the density strip is drawn', async () => {
      await viewer.reload();
      await viewer.waitForSelector('#danmaku-density > span', { state: 'attached' });
      const bars = await viewer.locator('#danmaku-density > span').count();
      expect(bars > 0, 'bars in the strip');
    });

    console.log('DANMAKU OK');
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Check ? `CHECK FAILED: ${e.message}` : e);
  process.exit(1);
});
