#!/usr/bin/env node
// Opens the rendered API reference (docs/api.html, served at /api/docs) in
// headless Chromium, Debian's /usr/bin/chromium driven by playwright-core,
// and reports what a reader sees, as JSON on standard output: the console
// messages and page errors, the requests that failed or left the page's own
// origin, the operations and the rows of the error table as rendered, the
// text of the response samples, and whether the page reacts to a click (that
// is, Redoc's script runs, not only its prerendered HTML) and what its
// search finds.  With a second argument it saves a screenshot there (of the
// first get-sales operation).
//   usage: node tools/node/api-docs-browser.js URL [PNG]
// tests/test_api_docs.py asserts on the report; make docs saves docs/api-docs.png.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// No background traffic: the machine's network is closed, and the page needs none.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function main() {
	const [url, png] = process.argv.slice(2);
	if (!url) {
		console.error('usage: node tools/node/api-docs-browser.js URL [PNG]');
		process.exit(2);
	}
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'menzzo-chromium-'));
	const report = { console: [], pageErrors: [], failedRequests: [], foreignRequests: [] };
	// A persistent context is the way to hand Chromium a user-data-dir of our own, fresh each run.
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM, headless: true, args: FLAGS,
		viewport: { width: 1440, height: 900 },
	});
	try {
		const page = context.pages()[0] || await context.newPage();
		const origin = new URL(url).origin;
		page.on('console', (m) => report.console.push({ type: m.type(), text: m.text() }));
		page.on('pageerror', (e) => report.pageErrors.push(String(e)));
		page.on('requestfailed', (r) => report.failedRequests.push(`${r.url()}: ${r.failure() && r.failure().errorText}`));
		page.on('request', (r) => {
			const u = r.url();
			if (!u.startsWith(origin + '/') && !/^(data|blob|about):/.test(u))
				report.foreignRequests.push(u);
		});
		const response = await page.goto(url, { waitUntil: 'load' });
		report.status = response.status();
		report.contentType = response.headers()['content-type'];
		await page.waitForSelector('[data-section-id^="tag/"]', { timeout: 15000 });
		report.title = await page.title();
		report.redocLoaded = await page.evaluate(() => typeof window.Redoc === 'object' && !!window.Redoc.hydrate);
		report.operations = await page.$$eval('[data-section-id*="/operation/"]', (els) => els.map((el) => ({
			id: el.getAttribute('data-section-id'),
			heading: (el.querySelector('h2') || {}).textContent || '',
			text: el.innerText,
		})));
		report.errorTable = await page.$$eval('table', (tables) => {
			const t = tables.find((x) => /\bcode\b/.test((x.querySelector('thead') || x).innerText));
			return t ? [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.cells].map((c) => c.innerText.trim())) : [];
		});
		report.samples = await page.$$eval('[data-section-id*="/operation/"]', (els) =>
			els.map((el) => [...el.querySelectorAll('pre, code')].map((c) => c.innerText).join('\n')));
		// A click on the menu's Health entry scrolls there and updates the address: the script runs.
		await page.click('li[data-item-id="tag/Health"] > label', { timeout: 5000 });
		await page.waitForFunction(() => location.hash === '#tag/Health', null, { timeout: 5000 });
		report.hashAfterClick = await page.evaluate(() => location.hash);
		// The search box, whose index is built in a web worker.
		await page.fill('input.search-input', 'tracking');
		await page.waitForFunction(() => /Confirm shipment/.test(document.querySelector('[role=search]').parentElement.innerText),
			null, { timeout: 5000 }).catch(() => {});
		report.searchResults = await page.evaluate(() => document.querySelector('[role=search]').parentElement.innerText);
		if (png) {
			const shot = await context.newPage();
			await shot.goto(url + '#tag/Sales/operation/getSales', { waitUntil: 'load' });
			await shot.waitForSelector('[data-section-id="tag/Sales/operation/getSales"]');
			await shot.waitForTimeout(300);
			await shot.screenshot({ path: png });
		}
	} finally {
		await context.close();
		fs.rmSync(profile, { recursive: true, force: true });
	}
	process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e) => {
	console.error(`api-docs-browser.js: ${e.stack || e}`);
	process.exit(1);
});
