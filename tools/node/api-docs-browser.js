#!/usr/bin/env node
// Opens the rendered API reference (docs/api.html, served at /api/docs) in
// headless Chromium, Debian's /usr/bin/chromium driven by playwright-core,
// and reports what a reader sees, as JSON on standard output: the console
// messages and page errors (of every page opened), the requests that failed
// or left the page's own origin, the first screen (its text and where
// Getting started, the Authorization header and the error table are), the
// operations and the rows of the error table as rendered (and whether a code
// wraps), the branches of each request body (its oneOf, each shown in turn),
// the text of the response samples, each operation's request-sample tabs and
// their code, whether the page reacts to a click (that is, Redoc's
// script runs, not only its prerendered HTML) and what its search finds,
// and what a deep link to each operation shows.
//   usage: node tools/node/api-docs-browser.js URL [FIRST_SCREEN_PNG [OPERATION_PNG]]
// The screenshots: the first screen, and the get-sales operation opened by a
// deep link.  tests/test_api_docs.py asserts on the report; make docs saves
// docs/api-docs.png and docs/api-docs-operation.png.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// No background traffic: the machine's network is closed, and the page needs none.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORT = { width: 1440, height: 900 };
const SCREENSHOT_OPERATION = 'tag/Sales/operation/getSales';
// How long a step may take before it is a failure: a guard for a loaded machine, never a pause (each wait
// ends as soon as its condition holds).
const WAIT = 60000;

// Functions run in the page (their source is sent there).

// The text on screen (every text node, or part of one, inside the
// viewport), in document order.
function visibleText() {
	const out = [];
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	const range = document.createRange();
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		if (!n.textContent.trim())
			continue;
		range.selectNodeContents(n);
		const shown = [...range.getClientRects()].some((r) => r.width > 0 && r.bottom > 0 && r.top < innerHeight &&
			r.right > 0 && r.left < innerWidth);
		const style = n.parentElement && getComputedStyle(n.parentElement);
		if (shown && style.visibility !== 'hidden')
			out.push(n.textContent);
	}
	return out.join(' ').replace(/\s+/g, ' ');
}

// The error table: the table of the Errors section.
function errorTable() {
	const section = document.querySelector('[data-section-id="tag/Errors"]');
	return section && section.querySelector('table');
}

async function main() {
	const [url, firstPng, operationPng] = process.argv.slice(2);
	if (!url) {
		console.error('usage: node tools/node/api-docs-browser.js URL [FIRST_SCREEN_PNG [OPERATION_PNG]]');
		process.exit(2);
	}
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'menzzo-chromium-'));
	const report = { console: [], pageErrors: [], failedRequests: [], foreignRequests: [] };
	// A persistent context is the way to hand Chromium a user-data-dir of our own, fresh each run.
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: VIEWPORT,
	});
	const origin = new URL(url).origin;
	const watch = (page) => {
		page.on('console', (m) => report.console.push({ type: m.type(), text: m.text() }));
		page.on('pageerror', (e) => report.pageErrors.push(String(e)));
		page.on('requestfailed', (r) => report.failedRequests.push(`${r.url()}: ${r.failure() && r.failure().errorText}`));
		page.on('request', (r) => {
			const u = r.url();
			if (!u.startsWith(origin + '/') && !/^(data|blob|about):/.test(u))
				report.foreignRequests.push(u);
		});
		return page;
	};
	try {
		const page = watch(context.pages()[0] || await context.newPage());
		const response = await page.goto(url, { waitUntil: 'load' });
		report.status = response.status();
		report.contentType = response.headers()['content-type'];
		await page.waitForSelector('[data-section-id^="tag/"]', { timeout: WAIT });
		report.title = await page.title();
		report.redocLoaded = await page.evaluate(() => typeof window.Redoc === 'object' && !!window.Redoc.hydrate);

		// The first screen, as it opens.
		await page.waitForTimeout(300);
		report.firstScreen = await page.evaluate(`(() => {
			const top = (el) => el ? Math.round(el.getBoundingClientRect().top + scrollY) : null;
			const started = document.querySelector('[data-section-id="section/Getting-started"]');
			const auth = [...document.querySelectorAll('.api-content pre, .api-content code')]
				.find((el) => /Authorization: Bearer mzk_/.test(el.textContent));
			return {
				scrollY, viewport: { width: innerWidth, height: innerHeight },
				text: (${visibleText})(),
				gettingStartedTop: top(started && started.querySelector('h1, h2')),
				authorizationTop: top(auth),
				errorTableTop: top((${errorTable})()),
			};
		})()`);
		if (firstPng)
			await page.screenshot({ path: firstPng });

		report.operations = await page.$$eval('[data-section-id*="/operation/"]', (els) => els.map((el) => ({
			id: el.getAttribute('data-section-id'),
			top: Math.round(el.getBoundingClientRect().top + scrollY),
			heading: (el.querySelector('h2') || {}).textContent || '',
			text: el.innerText,
		})));
		// The rows of the error table, and for each code whether it is on one line.
		report.errorTable = await page.evaluate(`(() => {
			const t = (${errorTable})();
			return t ? [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.cells].map((c) => c.innerText.trim())) : [];
		})()`);
		report.wrappedCodes = await page.evaluate(`(() => {
			const t = (${errorTable})();
			if (!t)
				return [];
			return [...t.querySelectorAll('tbody tr')].map((tr) => tr.cells[1] && tr.cells[1].querySelector('code'))
				.filter((c) => c && c.getClientRects().length !== 1).map((c) => c.textContent);
		})()`);
		// The branches of each request body's oneOf (its buttons, in order), each clicked in turn: the
		// fields it shows.
		report.bodyBranches = {};
		for (const { id } of report.operations) {
			const oneOf = page.locator(`[data-section-id="${id}"] span:text-is("One of")`).first();
			if (!await oneOf.count())
				continue;
			const block = oneOf.locator('xpath=..');
			const buttons = block.locator('xpath=./div[1]/button');
			const branches = [];
			for (let i = 0; i < await buttons.count(); i++) {
				await buttons.nth(i).click();
				branches.push({ title: await buttons.nth(i).innerText(), text: await block.innerText() });
			}
			await buttons.first().click();
			report.bodyBranches[id] = branches;
		}
		report.samples = await page.$$eval('[data-section-id*="/operation/"]', (els) =>
			els.map((el) => [...el.querySelectorAll('pre, code')].map((c) => c.innerText).join('\n')));
		// Each operation's request samples: its tabs (Payload, curl, Python...) and, clicked in
		// turn, the code each shows.
		report.codeSamples = {};
		for (const { id } of report.operations) {
			const tabs = page.locator(`[data-section-id="${id}"] h3:has-text("Request samples") + div`);
			const labels = await tabs.locator('[role=tab]').allInnerTexts();
			const code = {};
			for (let i = 0; i < labels.length; i++) {
				await tabs.locator('[role=tab]').nth(i).click();
				code[labels[i]] = await tabs.locator('[role=tabpanel].react-tabs__tab-panel--selected').first()
					.innerText({ timeout: WAIT }).catch(() => '');
			}
			report.codeSamples[id] = { tabs: labels, code };
		}

		// A click on the menu's Health entry scrolls there and updates the address: the script runs.
		await page.click('li[data-item-id="tag/Health"] > label', { timeout: WAIT });
		await page.waitForFunction(() => location.hash === '#tag/Health', null, { timeout: WAIT });
		report.hashAfterClick = await page.evaluate(() => location.hash);
		// The search box, whose index is built in a web worker.
		await page.fill('input.search-input', 'tracking');
		await page.waitForFunction(() => /Confirm shipment/.test(document.querySelector('[role=search]').parentElement.innerText),
			null, { timeout: WAIT }).catch(() => {});
		report.searchResults = await page.evaluate(() => document.querySelector('[role=search]').parentElement.innerText);

		// A deep link to each operation, opened afresh: the operation at the top of the
		// screen, its entry shown and marked in the menu, the address kept.
		report.deepLinks = {};
		for (const { id } of report.operations) {
			const link = watch(await context.newPage());
			await link.goto(`${url.split('#')[0]}#${id}`, { waitUntil: 'load' });
			// Settled: what the report below reads is all there (a loaded machine takes its time).
			const settled = await link.waitForFunction((id) => {
				const el = document.querySelector(`[data-section-id="${id}"]`);
				const item = document.querySelector(`li[data-item-id="${id}"]`);
				const label = item && item.querySelector('label');
				const plain = document.querySelector('li[data-item-id="tag/Errors"] > label');
				return el && item && item.offsetParent && location.hash === `#${id}` &&
					Math.abs(el.getBoundingClientRect().top) < 5 && label && plain &&
					getComputedStyle(label).backgroundColor !== getComputedStyle(plain).backgroundColor;
			}, id, { timeout: WAIT }).then(() => true, () => false);
			report.deepLinks[id] = await link.evaluate(`(() => {
				const id = ${JSON.stringify(id)};
				const el = document.querySelector('[data-section-id="' + id + '"]');
				const item = document.querySelector('li[data-item-id="' + id + '"]');
				const label = item && item.querySelector('label');
				const plain = document.querySelector('li[data-item-id="tag/Errors"] > label');
				return {
					hash: location.hash,
					top: el ? Math.round(el.getBoundingClientRect().top) : null,
					heading: el ? (el.querySelector('h2') || {}).textContent || '' : '',
					menuItemShown: !!(item && item.offsetParent),
					menuItemMarked: !!(label && plain && getComputedStyle(label).backgroundColor !== getComputedStyle(plain).backgroundColor),
					text: (${visibleText})(),
				};
			})()`);
			report.deepLinks[id].settled = settled;
			if (operationPng && id === SCREENSHOT_OPERATION)
				await link.screenshot({ path: operationPng });
			await link.close();
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
