// make test-browser (test/t/024_docs_browser.pl runs this): GET /docs and
// GET /docs/static in headless Chromium.
//
//   node docs.mjs API_URL ASSETS_PORT TOKEN
//
// Serves npm's swagger-ui-dist on 127.0.0.1:ASSETS_PORT (the server's
// ecommerce_api.docs_assets_url points there), aborts every request that is
// not for 127.0.0.1, and prints one JSON object of what it saw; the TAP test
// judges it.  Every wait is bounded.
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [api, assetsPort, token] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'node_modules', 'swagger-ui-dist');
const types = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.png': 'image/png', '.html': 'text/html' };
const WAIT = 30000;

const assets = http.createServer((req, res) => {
	const file = path.join(dist, path.basename(new URL(req.url, 'http://x').pathname));
	fs.readFile(file, (err, data) => {
		if (err) { res.writeHead(404); res.end(); return; }
		res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
		res.end(data);
	});
});
await new Promise((ok) => assets.listen(Number(assetsPort), '127.0.0.1', ok));

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'eapi-chromium-'));
const out = { blocked: [], errors: [] };
const context = await chromium.launchPersistentContext(profile, {
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	headless: true,
	timeout: WAIT,
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
	await context.route('**/*', (route) => {
		const url = new URL(route.request().url());
		if (url.hostname === '127.0.0.1') return route.continue();
		out.blocked.push(url.href);
		return route.abort();
	});
	const page = await context.newPage();
	page.setDefaultTimeout(WAIT);
	page.on('pageerror', (e) => out.errors.push(String(e)));
	const sent = [];
	page.on('request', (r) => sent.push({ url: r.url(), authorization: r.headers()['authorization'] || null }));

	// --- /docs: Swagger UI, every route
	await page.goto(`${api}/docs`);
	await page.waitForSelector('.opblock');
	out.title = await page.title();
	out.operations = await page.$$eval('.opblock', (blocks) => blocks.map((b) =>
		b.querySelector('.opblock-summary-method').textContent.trim() + ' ' +
		b.querySelector('.opblock-summary-path').getAttribute('data-path')));
	out.filter = (await page.$('.operation-filter-input')) !== null;

	// --- try it out: GET /products/ (public)
	const execute = async (id) => {
		const block = page.locator(`#${id}`);
		await block.locator('.opblock-summary').first().click();
		await block.locator('button.try-out__btn').click();
		await block.locator('button.execute').click();
		const status = block.locator('.live-responses-table tr.response td.response-col_status').first();
		await status.waitFor();
		return (await status.textContent()).trim();
	};
	out.productsStatus = await execute('operations-products-products_list');

	// --- Authorize with the bearer token, then a private route
	await page.locator('.auth-wrapper button.authorize').click();
	await page.locator('.modal-ux').waitFor();
	// bearerAuth's description, where a bare <token> used to vanish
	out.tokenShown = await page.evaluate(() => document.querySelector('.modal-ux').innerText.includes('Bearer <token>'));
	await page.locator('.modal-ux input[type=text], .modal-ux input:not([type])').first().fill(token);
	await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click();
	await page.locator('.modal-ux .auth-btn-wrapper button.btn-done').click();
	out.ordersStatus = await execute('operations-orders-orders_list');
	const ordersCall = sent.filter((r) => new URL(r.url).pathname.startsWith('/orders')).pop();
	out.ordersAuthorization = ordersCall ? ordersCall.authorization : null;

	// persistAuthorization: the token is still there after a reload
	await page.reload();
	await page.waitForSelector('.opblock');
	out.keptAfterReload = await page.evaluate(() => (localStorage.getItem('authorized') || '').includes('bearerAuth'));

	// --- /docs/static: no script, nothing loaded but the page
	sent.length = 0;
	out.staticStatus = (await page.goto(`${api}/docs/static`)).status();
	out.staticTitle = await page.title();
	out.staticText = await page.evaluate(() => document.body.innerText.length);
	out.staticRequests = sent.map((r) => r.url);
	out.staticPaths = await page.$$eval('code', (els) => els.map((e) => e.textContent));
} catch (e) {
	out.failure = String(e && e.stack || e);
} finally {
	await context.close();
	assets.close();
	fs.rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
