// The live slot grid in headless Chromium: two customers on the same
// day's grid; what one does shows on the other's grid through the stream
// (GET /api/locks/stream), with no reload and no polling. A third page
// whose stream cannot connect falls back to polling status.
// tests/browser/test_grid_browser.py starts a stack with slotlock-events
// and runs this; by hand:
//
//   node tests/browser/grid.mjs --url http://127.0.0.1:4000
//
// Prints "ok N - name" or "not ok N - name" per scenario and a closing
// "N passed, N failed" line; exits 1 when any failed.

import assert from "node:assert/strict";
import { loadPicker, parseArgs, runScenarios, slot, waiter }
    from "./chromium.mjs";

// Generous: the machine running the tests may be small and busy. What is
// checked is that the change arrives without a reload, not how fast.
const WAIT_MS = 20000;

const args = parseArgs("grid.mjs", { url: "" });

function pickerUrl(date, tenant) {
    const q = new URLSearchParams({ tenant, specialist: "specialist-1",
                                    date, duration: "60" });
    return args.url + "/?" + q;
}

const until = waiter(WAIT_MS);

async function expectSlot(page, time, word) {
    await until(async () => {
        const text = (await slot(page, time).textContent())
            .replace(/\s+/g, " ").trim();
        return text === time + " " + word;
    }, `slot ${time} to be "${word}"`);
}

/** Opens the picker; counts its status reads and its stream opens. */
async function openPicker(browser, url, { blockStream = false } = {}) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = { status: 0, streams: 0 };
    page.on("pageerror", (e) => console.log("# page error: " + e.message));
    page.on("request", (r) => {
        const u = new URL(r.url());
        if (u.pathname === "/api/locks/status") {
            seen.status += 1;
        } else if (u.pathname === "/api/locks/stream") {
            seen.streams += 1;
        }
    });
    if (blockStream) {
        await page.route("**/api/locks/stream?**", (route) => route.abort());
    }
    await loadPicker(page, url, until);
    return { context, page, seen };
}

async function live(page) {
    return (await page.locator("#slots").getAttribute("data-live")) ===
        "true";
}

const scenarios = [];
function scenario(name, fn) {
    scenarios.push({ name, fn });
}

scenario("what one customer does shows on the other's grid through the " +
         "stream: held, free again, booked", async (browser) => {
    const date = "2030-02-11";
    const url = pickerUrl(date, "grid-" + Date.now());
    const one = await openPicker(browser, url);
    const two = await openPicker(browser, url);
    try {
        await until(() => live(two.page), "the second page's stream to open");
        await expectSlot(two.page, "10:00", "free");
        // Its snapshot read: from here on, nothing but the stream.
        await until(async () => two.seen.status >= 1, "a snapshot");
        await new Promise((r) => setTimeout(r, 500));
        const reads = two.seen.status;

        await slot(one.page, "10:00").click();
        await expectSlot(one.page, "10:00", "yours");
        await expectSlot(two.page, "10:00", "held");
        assert.equal(await slot(two.page, "10:00").isDisabled(), true);

        await one.page.click("#cancel-hold");
        await expectSlot(one.page, "10:00", "free");
        await expectSlot(two.page, "10:00", "free");

        await slot(one.page, "12:00").click();
        await expectSlot(two.page, "12:00", "held");
        await one.page.fill("#customer-name", "Grace Hopper");
        await one.page.fill("#customer-email", "grace@example.com");
        await one.page.fill("#customer-phone", "+1 555 0100");
        await one.page.click("#book");
        await expectSlot(one.page, "12:00", "booked");
        await expectSlot(two.page, "12:00", "booked");

        // A customer who closes the tab gives the slot up (the page's
        // beacon on pagehide); the other grid shows it free again.
        const three = await openPicker(browser, url);
        await slot(three.page, "15:00").click();
        await expectSlot(three.page, "15:00", "yours");
        await expectSlot(two.page, "15:00", "held");
        await three.page.close({ runBeforeUnload: true });
        await three.context.close();
        await expectSlot(two.page, "15:00", "free");

        // Every change reached the second page without a status read and
        // without a reload (one stream, opened once).
        assert.equal(two.seen.status, reads,
                     "the second page read status again: it polled");
        assert.equal(two.seen.streams, 1);
        assert.equal(await live(two.page), true);
    } finally {
        await one.context.close();
        await two.context.close();
    }
});

scenario("a page whose stream cannot connect polls status instead",
         async (browser) => {
    const date = "2030-02-12";
    const url = pickerUrl(date, "grid-fallback-" + Date.now());
    const one = await openPicker(browser, url);
    const cut = await openPicker(browser, url, { blockStream: true });
    try {
        assert.equal(await live(cut.page), false);
        await slot(one.page, "14:00").click();
        await expectSlot(one.page, "14:00", "yours");
        await expectSlot(cut.page, "14:00", "held");
        assert.ok(cut.seen.status >= 2, "it read status more than once");
        await one.page.click("#cancel-hold");
        await expectSlot(cut.page, "14:00", "free");
    } finally {
        await one.context.close();
        await cut.context.close();
    }
});

const { passed, failed } = await runScenarios(scenarios, args);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
