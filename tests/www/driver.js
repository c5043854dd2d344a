#!/usr/bin/env node
/*
 * Headless Chromium for the widget tests (tests/www/test_widget.py), through playwright-core
 * (npm, pinned in package.json; it drives the system's /usr/bin/chromium, it downloads no
 * browser). What `chromium --dump-dom` did, but it reads through open shadow roots:
 *
 *   dom:        load a URL, wait until the page has settled, print the DOM with every open
 *               shadow root's content inlined into its host element as
 *               <template shadowrootmode="open">…</template> (declarative Shadow DOM), so a
 *               plain HTML parser sees the widget's elements as descendants of the host
 *   screenshot: the same, then a PNG of the viewport (or the full page) at a given size
 *
 * "Settled": the load event, then (if given) a ready selector matches, searched in the
 * document and in every open shadow root, then no request is in flight and the serialised DOM
 * stays the same for 300 ms (a slow API, e.g. a daemon under ASan, keeps it waiting, as
 * --virtual-time-budget did); every wait is bounded by the timeout (the DOM is returned
 * anyway; the caller's assertions say what was missing).
 *
 * Two ways to run it:
 *   node driver.js serve             JSON requests on stdin, one per line; one JSON answer per
 *                                    line on stdout: {"id", "ok", "html", "errors"} or
 *                                    {"id", "ok": false, "error"}. One browser for all
 *                                    requests, a fresh browser context (no shared cookies,
 *                                    storage or cache) for each.
 *   node driver.js dom URL [--ready SEL] [--width W] [--height H]
 *   node driver.js screenshot URL OUT.png [--width W] [--height H] [--full-page] [--ready SEL]
 *
 * Request fields: cmd ("dom" | "screenshot"), url, ready (CSS selector), timeout (ms, default
 * 20000), width/height (viewport, default 1280x900), path and fullPage (screenshot).
 * Environment: CHROMIUM (default /usr/bin/chromium), ZS_NODE_MODULES (where playwright-core is
 * installed; default node_modules next to this file).
 */
'use strict';

const path = require('path');
const readline = require('readline');

const modules = process.env.ZS_NODE_MODULES || path.join(__dirname, 'node_modules');
const { chromium } = require(path.join(modules, 'playwright-core'));

const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';

/* runs in the page: the document with open shadow roots inlined (getHTML, Chromium >= 125) */
function serialise() {
	const roots = [];
	(function walk(node) {
		for (const el of node.querySelectorAll('*')) {
			if (el.shadowRoot) {
				roots.push(el.shadowRoot);
				walk(el.shadowRoot);
			}
		}
	})(document);
	const de = document.documentElement;
	const esc = (v) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
	const attrs = Array.from(de.attributes).map((a) => ' ' + a.name + '="' + esc(a.value) + '"').join('');
	return '<!DOCTYPE html><html' + attrs + '>' + de.getHTML({ shadowRoots: roots }) + '</html>';
}

/* runs in the page: does the selector match in the document or in any open shadow root? */
function deepMatch(sel) {
	const look = (node) => {
		if (node.querySelector(sel))
			return true;
		for (const el of node.querySelectorAll('*'))
			if (el.shadowRoot && look(el.shadowRoot))
				return true;
		return false;
	};
	return look(document);
}

async function settle(page, req, deadline, inflight) {
	const left = () => Math.max(1, deadline - Date.now());
	if (req.ready) {
		try {
			await page.waitForFunction(deepMatch, req.ready, { timeout: left(), polling: 50 });
		} catch (e) {
			/* not ready in time: return what there is */
		}
	}
	let last = null, same = 0;
	while (Date.now() < deadline && same < 3) {
		const now = await page.evaluate(serialise);
		same = now === last && inflight.size === 0 ? same + 1 : 0;
		last = now;
		if (same < 3)
			await page.waitForTimeout(100);
	}
	return page.evaluate(serialise);
}

async function handle(browser, req) {
	const timeout = req.timeout || 20000;
	const deadline = Date.now() + timeout;
	const context = await browser.newContext({
		viewport: { width: req.width || 1280, height: req.height || 900 },
		deviceScaleFactor: 1
	});
	const errors = [];
	try {
		const page = await context.newPage();
		const inflight = new Set();
		page.on('request', (r) => inflight.add(r));
		page.on('requestfinished', (r) => inflight.delete(r));
		page.on('requestfailed', (r) => inflight.delete(r));
		page.on('pageerror', (e) => errors.push('pageerror: ' + String(e && e.message || e)));
		page.on('console', (m) => {
			if (m.type() === 'error')
				errors.push('console: ' + m.text() + ' (' + (m.location().url || '') + ')');
		});
		await page.goto(req.url, { waitUntil: 'load', timeout });
		const html = await settle(page, req, deadline, inflight);
		if (req.cmd === 'screenshot')
			await page.screenshot({ path: req.path, fullPage: !!req.fullPage, timeout: Math.max(5000, deadline - Date.now()) });
		return { ok: true, html, errors };
	} finally {
		await context.close();
	}
}

function launch() {
	return chromium.launch({
		executablePath: EXECUTABLE,
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run', '--hide-scrollbars']
	});
}

async function serve() {
	const browser = await launch();
	const rl = readline.createInterface({ input: process.stdin, terminal: false });
	process.stdout.write(JSON.stringify({ ready: true, version: browser.version() }) + '\n');
	for await (const line of rl) {
		if (!line.trim())
			continue;
		let req = null, res;
		try {
			req = JSON.parse(line);
			res = await handle(browser, req);
		} catch (e) {
			res = { ok: false, error: String(e && e.stack || e) };
		}
		res.id = req && req.id;
		process.stdout.write(JSON.stringify(res) + '\n');
	}
	await browser.close();
}

async function once(argv) {
	const req = { cmd: argv[0], url: argv[1] };
	let i = 2;
	if (req.cmd === 'screenshot')
		req.path = argv[i++];
	for (; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--ready') req.ready = argv[++i];
		else if (a === '--width') req.width = +argv[++i];
		else if (a === '--height') req.height = +argv[++i];
		else if (a === '--timeout') req.timeout = +argv[++i];
		else if (a === '--full-page') req.fullPage = true;
		else throw new Error('unknown option ' + a);
	}
	if (!req.url || (req.cmd !== 'dom' && req.cmd !== 'screenshot') || (req.cmd === 'screenshot' && !req.path))
		throw new Error('usage: driver.js serve | dom URL [opts] | screenshot URL OUT.png [opts]');
	const browser = await launch();
	try {
		const res = await handle(browser, req);
		for (const e of res.errors)
			process.stderr.write(e + '\n');
		if (req.cmd === 'dom')
			process.stdout.write(res.html + '\n');
	} finally {
		await browser.close();
	}
}

const argv = process.argv.slice(2);
(argv[0] === 'serve' ? serve() : once(argv)).catch((e) => {
	process.stderr.write(String(e && e.stack || e) + '\n');
	process.exit(1);
});
