// The slot picker and the admin page in headless Chromium, against a
// running stack. tests/browser/test_browser.py starts two stacks and runs
// this; by hand:
//
//   node tests/browser/run.mjs --url http://127.0.0.1:4000 --token T \
//       [--short-url URL] [--screenshots DIR] [--only NAME]
//
// --url        a stack with ADMIN_TOKEN=T, LOCK_TTL=150000
//              and a short LOCK_REFRESH_INTERVAL (about 1 s)
// --short-url  a stack with LOCK_TTL=4000, LOCK_MAX_HOLD=5000 and
//              LOCK_REFRESH_INTERVAL=1000, for the expiry scenario
//
// Prints "ok N - name" or "not ok N - name" per scenario and a closing
// "N passed, N failed" line; exits 1 when any failed.

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadPicker, parseArgs, runScenarios, slot, waiter }
    from "./chromium.mjs";

const MSG_TAKEN =
    "This slot is being booked by someone else. Please choose another.";
const MSG_EXPIRED =
    "Your reservation expired. Please select a time slot again.";
const MSG_LOST =
    "Your reservation was released. Please select a time slot again.";
const HOUR_MS = 3600 * 1000;
const WAIT_MS = 10000;

// ---- arguments --------------------------------------------------------------

const args = parseArgs("run.mjs", { url: "", shortUrl: "", token: "",
                                     screenshots: "", only: "" });
const shotDir = args.screenshots ||
    fs.mkdtempSync(path.join(os.tmpdir(), "slotlock-shots-"));
fs.mkdirSync(shotDir, { recursive: true });

// ---- helpers ----------------------------------------------------------------

function pickerUrl(base, { date, specialist = "specialist-1",
                           duration = 60, tenant = "demo" }) {
    const q = new URLSearchParams({ tenant, specialist, date,
                                    duration: String(duration) });
    return base + "/?" + q;
}

const until = waiter(WAIT_MS);

async function slotText(page, time) {
    return (await slot(page, time).textContent()).replace(/\s+/g, " ").trim();
}

async function expectSlot(page, time, word, disabled) {
    await until(async () => {
        const text = await slotText(page, time);
        const isDisabled = await slot(page, time).isDisabled();
        return text === time + " " + word && isDisabled === disabled;
    }, `slot ${time} to be "${word}"` + (disabled ? " and disabled" : ""));
}

async function message(page) {
    return (await page.locator("#message").textContent()).trim();
}

async function expectMessage(page, text) {
    await until(async () => (await message(page)) === text,
                `the message "${text}"`);
}

async function openPicker(browser, url, options = {}) {
    const context = await browser.newContext(options.context || {});
    if (options.clockOffsetMs !== undefined) {
        await context.addInitScript(shiftClock, options.clockOffsetMs);
    }
    const page = await context.newPage();
    page.on("pageerror", (e) => console.log("# page error: " + e.message));
    await loadPicker(page, url, until);
    return { context, page };
}

/** Runs in the page before its scripts: a browser whose clock is wrong by
 *  offsetMs (Date.now() and new Date() both). The page's
 *  __moveClock(ms) moves it further, as if that much time had passed. */
function shiftClock(offsetMs) {
    const RealDate = Date;
    let shift = offsetMs;
    class ShiftedDate extends RealDate {
        constructor(...a) {
            if (a.length === 0) {
                super(RealDate.now() + shift);
            } else {
                super(...a);
            }
        }
        static now() {
            return RealDate.now() + shift;
        }
    }
    globalThis.Date = ShiftedDate;
    globalThis.__moveClock = (ms) => {
        shift += ms;
    };
}

/** m:ss to seconds. */
function seconds(mss) {
    const m = /^(\d+):(\d\d)$/.exec(mss);
    assert.ok(m, "not a m:ss countdown: " + JSON.stringify(mss));
    return Number(m[1]) * 60 + Number(m[2]);
}

async function countdown(page) {
    return (await page.locator("#countdown").textContent()).trim();
}

async function api(base, method, pathAndQuery, body, token) {
    const headers = {};
    if (body !== undefined) {
        headers["Content-Type"] = "application/json";
    }
    if (token) {
        headers.Authorization = "Bearer " + token;
    }
    const r = await fetch(base + pathAndQuery, { method, headers,
        body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, json: await r.json() };
}

async function lockedStarts(base, date, specialist = "specialist-1") {
    const q = new URLSearchParams({ tenantId: "demo", resourceId: specialist,
                                    date });
    const r = await api(base, "GET", "/api/locks/status?" + q);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.locked.map((l) => l.startTime);
}

async function fillCheckout(page, name) {
    await page.fill("#customer-name", name);
    await page.fill("#customer-email",
                    name.toLowerCase().replace(/\W+/g, ".") + "@example.com");
    await page.fill("#customer-phone", "+1 555 0100");
}

async function shot(page, name) {
    await page.screenshot({ path: path.join(shotDir, name + ".png"),
                            fullPage: true });
}

// ---- scenarios --------------------------------------------------------------

const scenarios = [];
function scenario(name, needs, fn) {
    scenarios.push({ name, needs, fn });
}

scenario("two browsers race for one slot: one holds, the other is told " +
         "it is taken and sees it held, then booked", "url",
         async (browser) => {
    const date = "2030-01-10";
    const url = pickerUrl(args.url, { date });
    const one = await openPicker(browser, url);
    const two = await openPicker(browser, url);
    try {
        await expectSlot(one.page, "14:00", "free", false);
        await expectSlot(two.page, "14:00", "free", false);

        // Both click while both grids still show the slot free.
        await Promise.all([slot(one.page, "14:00").click(),
                           slot(two.page, "14:00").click()]);
        const winner = await until(async () => {
            const h1 = await one.page.locator("#hold").isVisible();
            const h2 = await two.page.locator("#hold").isVisible();
            const m1 = await message(one.page);
            const m2 = await message(two.page);
            if (h1 && m2 === MSG_TAKEN) return "one";
            if (h2 && m1 === MSG_TAKEN) return "two";
            return false;
        }, "one hold and one 'slot taken' message");
        const a = winner === "one" ? one.page : two.page;
        const b = winner === "one" ? two.page : one.page;

        await expectSlot(a, "14:00", "yours", false);
        assert.equal(await a.locator("#hold").isVisible(), true);
        assert.ok(seconds(await countdown(a)) > 140, await countdown(a));
        await expectSlot(b, "14:00", "held", true);
        // A 60-minute slot at 14:30 overlaps the held 14:00-15:00.
        await expectSlot(b, "14:30", "held", true);
        await expectSlot(b, "15:00", "free", false);
        await shot(a, "picker-holding");

        await fillCheckout(a, "Ada Lovelace");
        await a.click("#book");
        await until(async () => (await message(a)).startsWith("Booked: "),
                    "the booking confirmation");
        assert.match(await message(a), /2030-01-10 at 14:00–15:00/);
        assert.equal(await a.locator("#hold").isVisible(), false);
        await expectSlot(a, "14:00", "booked", true);
        await expectSlot(b, "14:00", "booked", true);
        await expectSlot(b, "13:30", "booked", true);
        await shot(b, "picker-booked");
    } finally {
        await one.context.close();
        await two.context.close();
    }
});

scenario("closing the holder's page frees the slot at once " +
         "(sendBeacon on pagehide)", "url", async (browser) => {
    const date = "2030-01-11";
    const url = pickerUrl(args.url, { date });
    const a = await openPicker(browser, url);
    const b = await openPicker(browser, url);
    try {
        await slot(a.page, "11:00").click();
        await expectSlot(a.page, "11:00", "yours", false);
        await expectSlot(b.page, "11:00", "held", true);
        assert.deepEqual(await lockedStarts(args.url, date), ["11:00"]);

        const closedAt = Date.now();
        await a.page.close({ runBeforeUnload: true });
        // The lock lives for minutes unless released: gone within a
        // couple of seconds can only be the beacon.
        await until(async () => (await lockedStarts(args.url, date))
            .length === 0, "the lock to be released", 3000);
        console.log("# released " + (Date.now() - closedAt) +
                    " ms after the page was closed");
        await expectSlot(b.page, "11:00", "free", false);
        await slot(b.page, "11:00").click();
        await expectSlot(b.page, "11:00", "yours", false);
    } finally {
        await a.context.close();
        await b.context.close();
    }
});

scenario("a browser whose clock is an hour off still counts down from " +
         "the server's time", "url", async (browser) => {
    const date = "2030-01-12";
    const url = pickerUrl(args.url, { date });
    const ttlS = Number((await api(args.url, "POST", "/api/locks/acquire", {
        tenantId: "demo", resourceId: "specialist-9", date,
        startTime: "09:00", duration: 30 })).json.expiresIn) / 1000;
    for (const [offset, time] of [[HOUR_MS, "09:00"], [-HOUR_MS, "10:00"]]) {
        const p = await openPicker(browser, url, { clockOffsetMs: offset });
        try {
            const skew = await p.page.evaluate(() => Date.now()) - Date.now();
            assert.ok(Math.abs(skew - offset) < 60000,
                      "the page's clock is not shifted: " + skew);
            // Keyboard: focus the slot and press Enter.
            await slot(p.page, time).focus();
            await p.page.keyboard.press("Enter");
            await expectSlot(p.page, time, "yours", false);
            const left = seconds(await countdown(p.page));
            assert.ok(left <= ttlS && left >= ttlS - 5,
                      `countdown ${left} s with the clock ${offset} ms off, ` +
                      `lock life ${ttlS} s`);
            const width = await p.page.locator("#bar-fill")
                .evaluate((e) => parseFloat(e.style.width));
            assert.ok(width > 85, "remaining bar at " + width + "%");
            assert.match(await p.page.locator("#announce").textContent(),
                         /^Reserved for 2 minutes (30|2\d) seconds\.$/);
            // Refreshed every second here, it stays near the full life:
            // neither run out nor an hour too long.
            await p.page.waitForTimeout(2200);
            const later = seconds(await countdown(p.page));
            assert.ok(later <= ttlS && later >= ttlS - 5,
                      `countdown at ${later} s after 2.2 s`);
            if (offset > 0) {
                await shot(p.page, "picker-clock-ahead");
            }
        } finally {
            await p.context.close();
        }
    }
});

scenario("the countdown is announced politely at minute marks and at " +
         "30 seconds, not every second", "url", async (browser) => {
    const date = "2030-01-17";
    const p = await openPicker(browser, pickerUrl(args.url, { date }),
                               { clockOffsetMs: 0 });
    const announce = p.page.locator("#announce");
    const moveClock = (ms) => p.page.evaluate((d) => __moveClock(d), ms);
    try {
        assert.equal(await announce.getAttribute("aria-live"), "polite");
        assert.equal(await p.page.locator("#countdown")
            .getAttribute("role"), "timer");
        await slot(p.page, "10:00").click();
        await expectSlot(p.page, "10:00", "yours", false);
        assert.match(await announce.textContent(),
                     /^Reserved for 2 minutes (30|2\d) seconds\.$/);
        await p.page.waitForTimeout(1500);
        assert.match(await announce.textContent(), /^Reserved for /);

        // With refreshes failing, time passing is what the page sees.
        await p.page.route("**/api/locks/refresh", (r) => r.abort());
        await p.page.waitForTimeout(1200);
        await moveClock(40000);             // about 1:50 left
        await until(async () => (await announce.textContent())
            === "2 minutes left.", "the 2-minute mark");
        await moveClock(60000);             // about 0:50 left
        await until(async () => (await announce.textContent())
            === "1 minute left.", "the 1-minute mark");
        assert.equal(await p.page.locator("#hold").getAttribute("class"),
                     "hold");
        await moveClock(25000);             // about 0:25 left
        await until(async () => (await announce.textContent())
            === "30 seconds left. Extend to keep it.", "the 30 s mark");
        assert.equal(await p.page.locator("#hold").getAttribute("class"),
                     "hold ending");
        assert.ok(seconds(await countdown(p.page)) <= 30);

        // Extend: the server's answer sets the time right again.
        await p.page.unroute("**/api/locks/refresh");
        await p.page.click("#extend");
        await until(async () => /^Reserved for 2 minutes/.test(
            await announce.textContent()), "the extended hold's announcement");
        assert.ok(seconds(await countdown(p.page)) >= 140);
        assert.match(await message(p.page), /^Extended: reserved for 2:/);
    } finally {
        await p.context.close();
    }
});

scenario("a phone-sized screen shows the grid without sideways scrolling",
         "url", async (browser) => {
    const date = "2030-01-13";
    const p = await openPicker(browser, pickerUrl(args.url, { date }), {
        context: { viewport: { width: 375, height: 740 }, isMobile: true,
                   hasTouch: true } });
    try {
        await slot(p.page, "09:30").click();
        await expectSlot(p.page, "09:30", "yours", false);
        const overflow = await p.page.evaluate(() =>
            document.documentElement.scrollWidth - 375);
        assert.ok(overflow <= 0, "the page is " + overflow + " px too wide");
        await shot(p.page, "picker-phone");
    } finally {
        await p.context.close();
    }
});

scenario("the admin page lists a hold and force-releases it; the holder " +
         "is told; bookings are listed and cancelled", "url",
         async (browser) => {
    const date = "2030-01-14";
    const holder = await openPicker(browser,
        pickerUrl(args.url, { date, specialist: "specialist-2" }));
    const context = await browser.newContext();
    const admin = await context.newPage();
    admin.on("pageerror", (e) => console.log("# page error: " + e.message));
    admin.on("dialog", (d) => d.accept());
    try {
        // A booking to list, made through the API with a hold of its own.
        const held = await api(args.url, "POST", "/api/locks/acquire", {
            tenantId: "demo", resourceId: "specialist-3", date,
            startTime: "16:00", duration: 30 });
        assert.equal(held.status, 200, JSON.stringify(held.json));
        const booked = await api(args.url, "POST", "/api/appointments", {
            lockId: held.json.lockId, tenantId: "demo",
            specialistId: "specialist-3", serviceId: "service-1", date,
            startTime: "16:00", endTime: "16:30",
            customerName: "Grace Hopper",
            customerEmail: "grace@example.com", price: 50, duration: 30 });
        assert.equal(booked.status, 201, JSON.stringify(booked.json));

        await slot(holder.page, "15:00").click();
        await expectSlot(holder.page, "15:00", "yours", false);

        await admin.goto(args.url + "/admin");
        // A wrong token is refused and not kept.
        await admin.fill("#token", "not-the-token");
        await admin.press("#token", "Enter");
        await expectMessage(admin,
            "The admin token was not accepted. Please type it again.");
        assert.equal(await admin.locator("#signin").isVisible(), true);

        await admin.fill("#token", args.token);
        await admin.press("#token", "Enter");
        await admin.locator("#dashboard").waitFor();
        assert.equal(await admin.locator("#signin").isVisible(), false);
        assert.ok(!admin.url().includes(args.token), admin.url());
        assert.equal(await admin.evaluate(() =>
            sessionStorage.getItem("slotlock.adminToken")), args.token);
        await admin.fill("#date", date);
        await admin.press("#date", "Enter");

        const row = admin.locator("#locks tr", { hasText: "specialist-2" })
            .filter({ hasText: "15:00" });
        await row.waitFor();
        const cells = await row.locator("td").allTextContents();
        assert.equal(cells[2], "15:00");
        assert.equal(cells[3], "60 min");
        assert.match(cells[4], /^h-/);
        assert.ok(seconds(cells[5]) > 30, cells[5]);

        const appt = admin.locator("#appts tr", { hasText: "Grace Hopper" });
        await appt.waitFor();
        assert.match(await appt.textContent(), /confirmed/);
        await until(async () => Number(await admin.locator("#m-acquired")
            .textContent()) >= 2, "the metrics");
        await until(async () => (await admin.locator("#chart polyline")
            .count()) === 1, "the chart line");
        await admin.waitForTimeout(3500);   // a second sample in the chart
        await shot(admin, "admin");

        // The token survives a reload of the tab, but is never in the URL.
        await admin.reload();
        await admin.locator("#dashboard").waitFor();
        await admin.fill("#date", date);
        await admin.press("#date", "Enter");

        await row.getByRole("button", { name: /Force release/ }).click();
        await expectMessage(admin, "Released the hold on specialist-2, " +
                            date + " at 15:00.");
        await until(async () => (await row.count()) === 0,
                    "the row to go");
        assert.deepEqual(await lockedStarts(args.url, date, "specialist-2"),
                         []);
        // The holder's next refresh (every second here) finds it gone.
        await expectMessage(holder.page, MSG_LOST);
        assert.equal(await holder.page.locator("#hold").isVisible(), false);
        await expectSlot(holder.page, "15:00", "free", false);

        await appt.getByRole("button", { name: /Cancel/ }).click();
        await until(async () => /cancelled/.test(await appt.textContent()),
                    "the appointment to show cancelled");
        const q = new URLSearchParams({ tenantId: "demo",
            resourceId: "specialist-3", date });
        const st = await api(args.url, "GET", "/api/locks/status?" + q);
        assert.deepEqual(st.json.booked, []);
    } finally {
        await holder.context.close();
        await context.close();
    }
});

scenario("a hold that reaches LOCK_MAX_HOLD counts down to 0:00 and the " +
         "page says the reservation expired", "shortUrl",
         async (browser) => {
    const date = "2030-01-15";
    const p = await openPicker(browser, pickerUrl(args.shortUrl, { date }));
    try {
        await slot(p.page, "13:00").click();
        await expectSlot(p.page, "13:00", "yours", false);
        assert.equal(await p.page.evaluate(() => document.activeElement.id),
                     "customer-name");
        const first = seconds(await countdown(p.page));
        assert.ok(first >= 2 && first <= 4, "countdown " + first);
        // Auto-refresh extends it up to LOCK_MAX_HOLD, then the server
        // says max_hold_reached and the page stops offering to extend.
        await expectMessage(p.page,
                            "This reservation cannot be extended any further.");
        assert.equal(await p.page.locator("#extend").isDisabled(), true);
        const seen = new Set();
        const announced = new Set();
        await until(async () => {
            if (await p.page.locator("#hold").isVisible()) {
                seen.add(await countdown(p.page));
                announced.add(await p.page.locator("#announce")
                    .textContent());
            }
            return (await message(p.page)) === MSG_EXPIRED;
        }, "the expiry message");
        assert.ok(seen.has("0:01"), "the countdown showed " + [...seen]);
        // Announced once, politely, not every second.
        assert.equal(announced.size, 1, [...announced].join(" | "));
        assert.match([...announced][0], /^Reserved for [2-4] seconds\.$/);
        assert.equal(await p.page.locator("#hold").isVisible(), false);
        // Focus was in the checkout form, which went away: it moves to
        // the message rather than to the top of the page.
        assert.equal(await p.page.evaluate(() => document.activeElement.id),
                     "message");
        await expectSlot(p.page, "13:00", "free", false);
        await shot(p.page, "picker-expired");

        // Booking with a lock that has gone: the same message.
        await slot(p.page, "13:00").click();
        await expectSlot(p.page, "13:00", "yours", false);
        await fillCheckout(p.page, "Late Customer");
        await p.page.route("**/api/appointments", async (route) => {
            // Let the lock go first, as if the form had been left too long.
            const body = JSON.parse(route.request().postData());
            await api(args.shortUrl, "POST", "/api/locks/release",
                      { lockId: body.lockId });
            await route.continue();
        });
        await p.page.click("#book");
        await expectMessage(p.page, MSG_EXPIRED);
    } finally {
        await p.context.close();
    }
});

// The hook, in a page of its own: React 18's UMD builds from
// tests/browser/node_modules, served under /__hook__/ by the browser's
// request routing, and "react" mapped to them with an import map, the way
// a host application's bundler would resolve it. StrictMode mounts every
// component twice, as React does in development.
const HOOK_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hook</title>
<script src="/__hook__/react.js"></script>
<script src="/__hook__/react-dom.js"></script>
<script type="importmap">{"imports": {"react": "/__hook__/react-shim.js"}}</script>
<script type="module">
import React from "react";
import { useLockManager } from "/useLockManager.js";
const h = React.createElement;
const SLOT = { tenantId: "demo", resourceId: "specialist-7",
               date: "2030-01-16", duration: 30 };
function TimeSlotPage() {
  const { acquireLock, releaseLock, refreshLock, lockData, isLocked,
          formatRemainingTime, remainingPercent, error } = useLockManager();
  const [note, setNote] = React.useState("");
  const hold = async (startTime) => {
    const result = await acquireLock({ ...SLOT, startTime });
    setNote(result.success ? "held " + startTime : "This slot is being " +
            "booked by someone else. Please choose another.");
  };
  return h("div", null,
    isLocked && h("p", { id: "timer" },
                  "Your slot is reserved for: " + formatRemainingTime()),
    error && h("p", { id: "error" }, error.message),
    h("p", { id: "note" }, note),
    h("p", { id: "percent" }, String(Math.round(remainingPercent))),
    lockData && h("p", { id: "lock-id" }, lockData.lockId),
    ["12:00", "12:30"].map((t) => h("button", { key: t, id: "hold-" +
        t.replace(":", ""), onClick: () => hold(t) }, t)),
    h("button", { id: "extend", onClick: refreshLock }, "Extend"),
    h("button", { id: "release", onClick: releaseLock }, "Release"));
}
function App() {
  const [shown, setShown] = React.useState(true);
  return h("div", null, shown && h(TimeSlotPage),
           h("button", { id: "leave", onClick: () => setShown(false) },
             "Leave"));
}
ReactDOM.createRoot(document.getElementById("root"))
  .render(h(React.StrictMode, null, h(App)));
</script></head><body><div id="root"></div></body></html>`;

const HOOK_SHIM = `const R = window.React;
export default R;
export const { useState, useEffect, useRef, useCallback, useMemo,
               useReducer, useContext, useLayoutEffect } = R;
`;

async function routeHookPage(page, base) {
    const modules = path.join(path.dirname(new URL(import.meta.url)
        .pathname), "node_modules");
    const files = {
        "/__hook__/react.js": path.join(modules, "react", "umd",
                                        "react.development.js"),
        "/__hook__/react-dom.js": path.join(modules, "react-dom", "umd",
                                            "react-dom.development.js"),
    };
    await page.route(base + "/__hook__/**", async (route) => {
        const p = new URL(route.request().url()).pathname;
        if (p === "/__hook__/") {
            await route.fulfill({ contentType: "text/html", body: HOOK_PAGE });
        } else if (p === "/__hook__/react-shim.js") {
            await route.fulfill({ contentType: "text/javascript",
                                  body: HOOK_SHIM });
        } else if (files[p]) {
            await route.fulfill({ contentType: "text/javascript",
                                  body: fs.readFileSync(files[p]) });
        } else {
            await route.fulfill({ status: 404, body: "" });
        }
    });
}

scenario("the React hook holds, counts down, extends and releases, and " +
         "releases when its component unmounts", "url", async (browser) => {
    const date = "2030-01-16";
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on("pageerror", (e) => console.log("# page error: " + e.message));
    const statusOf = () => lockedStarts(args.url, date, "specialist-7");
    try {
        const other = await api(args.url, "POST", "/api/locks/acquire", {
            tenantId: "demo", resourceId: "specialist-7", date,
            startTime: "12:30", duration: 30, holderId: "someone-else" });
        assert.equal(other.status, 200);
        await routeHookPage(page, args.url);
        await page.goto(args.url + "/__hook__/");
        await page.locator("#hold-1200").waitFor();

        await page.click("#hold-1230");
        await until(async () => (await page.locator("#note").textContent())
            === MSG_TAKEN, "the hook's refusal");
        assert.equal(await page.locator("#error").textContent(),
                     "Slot is currently locked by another user");
        assert.equal(await page.locator("#timer").count(), 0);

        await page.click("#hold-1200");
        await page.locator("#timer").waitFor();
        assert.match(await page.locator("#timer").textContent(),
                     /^Your slot is reserved for: (2:30|2:2\d)$/);
        assert.equal(await page.locator("#error").count(), 0);
        assert.ok(Number(await page.locator("#percent").textContent()) > 85);
        assert.deepEqual(await statusOf(), ["12:00", "12:30"]);

        const lockId = await page.locator("#lock-id").textContent();
        await page.click("#extend");
        await page.click("#release");
        await until(async () => (await page.locator("#timer").count()) === 0,
                    "the timer to go");
        assert.deepEqual(await statusOf(), ["12:30"]);
        const gone = await api(args.url, "GET", "/api/locks/" + lockId);
        assert.equal(gone.status, 404);

        await page.click("#hold-1200");
        await page.locator("#timer").waitFor();
        assert.deepEqual(await statusOf(), ["12:00", "12:30"]);
        await page.click("#leave");
        await until(async () => (await statusOf()).length === 1,
                    "the unmounted component's lock to be released", 3000);
    } finally {
        await context.close();
    }
});

// ---- run --------------------------------------------------------------------

const { passed, failed } = await runScenarios(scenarios, args);
console.log(`# screenshots in ${shotDir}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
