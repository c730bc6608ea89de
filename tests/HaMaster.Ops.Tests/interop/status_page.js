// Drives a master's status page in headless Debian chromium (playwright-core, no bundled browser).
// Usage: node status_page.js URL EXPECTED_LEADER SCREENSHOT_PATH USER_DATA_DIR
// Protocol (line-based, so the .NET test controls the cluster between the two phases):
//   prints  "PAGE leader=<id> members=<n>"  once the members table shows EXPECTED_LEADER;
//   reads   "EXPECT <id>" on stdin (after the test moved leadership), waits until the page shows
//           that leader (the page refreshes itself), saves the screenshot and prints
//   "SCREENSHOT <path>" then "DONE". Any failure prints "FAIL <reason>" and exits 1.
// Every wait is bounded.
'use strict';
const fs = require('fs');
const readline = require('readline');
const { chromium } = require('playwright-core');

const [url, expectedLeader, screenshotPath, userDataDir] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const WAIT_MS = 20000;

function fail(reason) {
  console.log('FAIL ' + reason);
  process.exit(1);
}

function nextStdinLine(timeoutMs) {
  const rl = readline.createInterface({ input: process.stdin });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { rl.close(); reject(new Error('no instruction on stdin within ' + timeoutMs + ' ms')); }, timeoutMs);
    rl.once('line', line => { clearTimeout(timer); rl.close(); resolve(line.trim()); });
  });
}

async function shownLeader(page) {
  return page.$eval('#leader', el => el.dataset.leaderId || '');
}

async function waitForLeader(page, id) {
  await page.waitForFunction(
    want => {
      const el = document.getElementById('leader');
      const rows = document.querySelectorAll('#members tbody tr');
      return el && el.dataset.leaderId === want && rows.length > 0 &&
        document.querySelector('#members tbody tr.leader[data-id="' + want + '"]') !== null;
    },
    String(id),
    { timeout: WAIT_MS, polling: 100 });
}

(async () => {
  if (!fs.existsSync(executablePath)) fail(executablePath + ' is missing: install Debian chromium (apt-get install chromium)');
  // A persistent context is how playwright takes a fresh --user-data-dir (the profile directory).
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    timeout: WAIT_MS,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  try {
    const page = browser.pages()[0] || await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(url, { waitUntil: 'load', timeout: WAIT_MS });
    try {
      await waitForLeader(page, expectedLeader);
    } catch (e) {
      fail('the page did not show leader ' + expectedLeader + ' (shows "' + await shownLeader(page) + '"): ' + e.message);
    }
    const members = await page.$$eval('#members tbody tr', rows => rows.length);
    console.log('PAGE leader=' + await shownLeader(page) + ' members=' + members);

    const instruction = await nextStdinLine(60000);
    const match = /^EXPECT (\d+)$/.exec(instruction);
    if (!match) fail('unexpected instruction "' + instruction + '"');
    try {
      await waitForLeader(page, match[1]);
    } catch (e) {
      fail('the page did not refresh to leader ' + match[1] + ' within ' + WAIT_MS + ' ms (shows "' + await shownLeader(page) + '")');
    }
    await page.screenshot({ path: screenshotPath, fullPage: true });
    console.log('SCREENSHOT ' + screenshotPath);
    console.log('DONE');
  } finally {
    await browser.close();
  }
  // stdin stays open (the test may keep its end open): end explicitly.
  process.exit(0);
})().catch(e => fail(e && e.stack ? e.stack.split('\n')[0] : String(e)));
