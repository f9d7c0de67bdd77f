// A booking site on its own origin runs the shipped lock client
// (www/slotlock-client.js) in headless Chromium against slotlock on
// another origin. tests/browser/test_cross_origin.py serves the site pages
// and starts slotlock with the site's origin listed; by hand:
//
//   node tests/browser/cross_origin.mjs --api URL --site URL --evil URL
//
// --api   slotlock (CORS_ALLOWED_ORIGINS lists --site, not --evil)
// --site  a page origin that serves /index.html and /slotlock-client.js
// --evil  another such origin, not listed
//
// Prints "ok N - name" / "not ok N - name"; exits 1 when any failed.

import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const args = { api: "", site: "", evil: "" };
for (let i = 2; i < process.argv.length; i += 2) {
    args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
}

// Runs in the page: the shipped client, from the page's own origin,
// against the API's origin.
async function inPage(page, api, steps) {
    return page.evaluate(async ({ api, steps }) => {
        const { LockClient } = await import("/slotlock-client.js");
        const client = new LockClient({ baseUrl: api, autoRefresh: false,
                                        releaseOnPageHide: false });
        const tenant = "site-" + Math.random().toString(36).slice(2);
        const slot = { tenantId: tenant, resourceId: "room-1",
                       date: "2025-03-10", startTime: "14:00",
                       duration: 60 };
        const out = { tenant };
        try {
            out.acquire = await client.acquire(slot);
        } catch (e) {
            out.acquireError = String(e);
            return out;
        }
        if (!steps.includes("all")) {
            return out;
        }
        out.remaining1 = client.remainingMs();
        out.formatted = client.formatRemainingTime();
        await new Promise((r) => setTimeout(r, 1200));
        out.remaining2 = client.remainingMs();
        out.refresh = await client.refresh();
        out.remaining3 = client.remainingMs();
        out.release = await client.release();
        // Hold again and book, as a checkout would.
        out.acquire2 = await client.acquire(slot);
        const lockId = client.lockData && client.lockData.lockId;
        const r = await fetch(api + "/api/appointments", {
            method: "POST", headers: { "Content-Type": "application/json" },
            body: JSON.stringify({
                lockId, tenantId: tenant, specialistId: "room-1",
                serviceId: "svc", date: "2025-03-10", startTime: "14:00",
                endTime: "15:00", duration: 60, customerName: "Ann",
                customerEmail: "ann@example.com", price: 10 }),
        });
        out.bookingStatus = r.status;
        out.booking = await r.json();
        return out;
    }, { api, steps });
}

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
});
let n = 0, failed = 0;
async function scenario(name, fn) {
    n++;
    const page = await browser.newPage();
    try {
        await fn(page);
        console.log("ok " + n + " - " + name);
    } catch (e) {
        failed++;
        console.log("not ok " + n + " - " + name + "\n" + (e.stack || e));
    } finally {
        await page.close();
    }
}

await scenario("a listed origin holds, counts down, refreshes, releases and books",
    async (page) => {
        await page.goto(args.site + "/index.html");
        const out = await inPage(page, args.api, ["all"]);
        assert.equal(out.acquireError, undefined, JSON.stringify(out));
        assert.equal(out.acquire.success, true, JSON.stringify(out));
        assert.ok(out.remaining1 > 0 && out.remaining1 <= 150000, JSON.stringify(out));
        assert.match(out.formatted, /^\d+:\d\d$/);
        assert.ok(out.remaining2 < out.remaining1, JSON.stringify(out));
        assert.equal(out.refresh.success, true, JSON.stringify(out));
        assert.ok(out.remaining3 > out.remaining2, JSON.stringify(out));
        assert.equal(out.release.success, true, JSON.stringify(out));
        assert.equal(out.acquire2.success, true, JSON.stringify(out));
        assert.equal(out.bookingStatus, 201, JSON.stringify(out));
        assert.equal(out.booking.appointmentId, out.booking.appointment.id);
    });

await scenario("an unlisted origin is refused", async (page) => {
    await page.goto(args.evil + "/index.html");
    const out = await inPage(page, args.api, []);
    // The API answers 403 origin_not_allowed with no CORS header, so the
    // browser does not even let the page read it: fetch fails.
    assert.ok(out.acquireError !== undefined ||
              (out.acquire && out.acquire.success === false),
              JSON.stringify(out));
    assert.ok(!(out.acquire && out.acquire.success), JSON.stringify(out));
});

await browser.close();
console.log(`${n - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
