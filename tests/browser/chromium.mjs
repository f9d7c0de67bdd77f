// What the picker scenarios in run.mjs and grid.mjs share: reading the
// command line, waiting for a page to get somewhere, loading the picker,
// starting headless Chromium and running the scenarios in it.

import { chromium } from "playwright-core";

/** Reads --name value pairs into a copy of defaults (--short-url fills
 *  shortUrl); exits 2 on an unknown or incomplete one, or without --url. */
export function parseArgs(script, defaults) {
    const args = { ...defaults };
    for (let i = 2; i < process.argv.length; i += 2) {
        const name = process.argv[i].replace(/^--/, "")
            .replace(/-([a-z])/g, (_, c) => c.toUpperCase());
        if (!(name in args) || process.argv[i + 1] === undefined) {
            console.error(script + ": unknown or incomplete argument " +
                          process.argv[i]);
            process.exit(2);
        }
        args[name] = process.argv[i + 1];
    }
    if (!args.url) {
        console.error(script + ": --url is required");
        process.exit(2);
    }
    return args;
}

/** An until(fn, what, timeoutMs = waitMs) that waits until fn() returns
 *  something truthy, and fails with what() after timeoutMs. */
export function waiter(waitMs) {
    return async function until(fn, what, timeoutMs = waitMs) {
        const deadline = Date.now() + timeoutMs;
        let last;
        for (;;) {
            last = await fn();
            if (last) {
                return last;
            }
            if (Date.now() > deadline) {
                throw new Error("timed out waiting for " + what +
                                (last === undefined ? "" : " (last: " +
                                 JSON.stringify(last) + ")"));
            }
            await new Promise((r) => setTimeout(r, 100));
        }
    };
}

export function slot(page, time) {
    return page.locator(`#slots button.slot[data-time="${time}"]`);
}

/** Opens the picker at url in page and waits for its grid and its first
 *  status answer. */
export async function loadPicker(page, url, until) {
    await page.goto(url);
    await page.locator("#slots button.slot").first().waitFor();
    await until(async () => (await page.locator("#slots")
        .getAttribute("aria-busy")) === "false", "the first status answer");
}

/** Starts Chromium and runs each scenario { name, needs, fn } as
 *  fn(browser), printing "ok N - name" or "not ok N - name". With
 *  args.only, only the scenarios whose name contains it; one whose needs
 *  names an empty argument is skipped. Returns { passed, failed }. */
export async function runScenarios(scenarios, args) {
    const browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
        headless: true,
        // Playwright gives each launch a fresh, empty user-data-dir.
        args: ["--headless", "--no-sandbox", "--disable-gpu",
               "--disable-quic", "--no-first-run",
               "--disable-background-networking",
               "--disable-component-update", "--disable-sync"],
    });
    let passed = 0;
    let failed = 0;
    let n = 0;
    try {
        for (const s of scenarios) {
            if (args.only && !s.name.includes(args.only)) {
                continue;
            }
            n += 1;
            if (s.needs && !args[s.needs]) {
                console.log(`ok ${n} - ${s.name} # SKIP no --${s.needs}`);
                continue;
            }
            const started = Date.now();
            try {
                await s.fn(browser);
                passed += 1;
                console.log(`ok ${n} - ${s.name} ` +
                            `(${Date.now() - started} ms)`);
            } catch (e) {
                failed += 1;
                console.log(`not ok ${n} - ${s.name}`);
                console.log(String(e.stack || e).split("\n")
                    .map((l) => "# " + l).join("\n"));
            }
        }
    } finally {
        await browser.close();
    }
    return { passed, failed };
}
