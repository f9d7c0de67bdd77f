// slotlock-client.js: hold a time slot from any page.
//
// A dependency-free ES module. It acquires, refreshes and releases one lock
// through the slotlock HTTP API, refreshes it by itself every
// refreshInterval the server names, keeps a countdown that is right even
// when the browser's clock is not, and releases the lock with
// navigator.sendBeacon when the page goes away.
//
//     import { LockClient } from "/slotlock-client.js";
//
//     const lock = new LockClient();
//     lock.addEventListener("expired", () => showExpired());
//     const result = await lock.acquire({ tenantId: "demo",
//         resourceId: "specialist-1", date: "2025-03-10",
//         startTime: "14:00", duration: 60 });
//     if (result.success) showTimer(lock.formatRemainingTime());
//
// Events (CustomEvent, detail in brackets):
//   acquired   a new hold                                 [lockData]
//   refreshed  the hold was extended                      [lockData]
//   maxhold    the server will not extend it further; it  [lockData]
//              stays until it runs out, then "expired"
//   lost       the server no longer has it (a refresh     [{reason, lockData}]
//              or a check answered lock_not_found)
//   expired    the countdown reached 0                    [lockData]
//   released   released by release() (or on pagehide)     [lockData]
//   consumed   consume(): a booking used the lock up      [lockData]
//   change     after any of the above                     [lockData or null]

const DEFAULT_REFRESH_MS = 30000;
// A refresh this long before the end is still in time over a slow network.
const REFRESH_MARGIN_MS = 5000;
const MIN_REFRESH_WAIT_MS = 250;
const TICK_MS = 250;

/** m:ss for a number of milliseconds (rounded up, so 0:00 means over). */
export function formatMs(ms) {
    const totalS = Math.max(0, Math.ceil(ms / 1000));
    const m = Math.floor(totalS / 60);
    const s = totalS % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
}

/** A holder id kept for the life of this tab, so that the server can cap
 *  how many slots one visitor holds and let them re-acquire their own. */
export function tabHolderId(storage = globalThis.sessionStorage) {
    const key = "slotlock.holderId";
    try {
        const known = storage && storage.getItem(key);
        if (known) {
            return known;
        }
    } catch (_) {
        // Storage can be disabled; a fresh id per page is still correct.
    }
    const random = globalThis.crypto && globalThis.crypto.randomUUID
        ? globalThis.crypto.randomUUID()
        : Math.random().toString(36).slice(2) + Date.now().toString(36);
    const id = "h-" + random;
    try {
        if (storage) {
            storage.setItem(key, id);
        }
    } catch (_) {
        // Same as above.
    }
    return id;
}

/*
 * What refresh and release send: the lockId, and the slot it holds. With
 * the slot fields the server goes straight to the lock (in Redis Cluster
 * it then needs no lookup of the lockId first).
 */
function lockRef(lock) {
    return { lockId: lock.lockId, tenantId: lock.tenantId,
             resourceId: lock.resourceId, date: lock.date,
             startTime: lock.startTime };
}

/**
 * Sends one request to the API and returns its JSON body, with `status`
 * (the HTTP status, 0 when the network failed) added. It never throws: a
 * caller switches on `success` and `reason`, as the API intends.
 */
export async function apiRequest(baseUrl, method, path, body, headers) {
    const init = { method, headers: Object.assign({}, headers) };
    if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
    }
    let response;
    try {
        response = await fetch(baseUrl + path, init);
    } catch (e) {
        return { success: false, status: 0, reason: "network_error",
                 message: "The server could not be reached." };
    }
    let data = null;
    try {
        data = await response.json();
    } catch (_) {
        data = null;
    }
    if (!data || typeof data !== "object") {
        data = { success: response.ok, reason: response.ok ? undefined
                 : "bad_response",
                 message: "The server sent an answer that is not JSON." };
    }
    data.status = response.status;
    return data;
}

export class LockClient extends EventTarget {
    /**
     * options:
     *   baseUrl          where /api lives (default: this page's origin)
     *   holderId         sent with acquire (default: one id per tab)
     *   autoRefresh      refresh by itself every refreshInterval (true)
     *   releaseOnPageHide  release with sendBeacon on pagehide (true)
     */
    constructor(options = {}) {
        super();
        this.baseUrl = options.baseUrl || "";
        this.holderId = options.holderId === undefined
            ? tabHolderId() : options.holderId;
        this.autoRefresh = options.autoRefresh !== false;
        this.releaseOnPageHide = options.releaseOnPageHide !== false;

        this.lockData = null;    // see _adopt()
        this.offsetMs = 0;       // server clock minus this browser's clock
        this.maxHoldReached = false;
        this._refreshTimer = null;
        this._tickTimer = null;
        this._onPageHide = () => this._releaseByBeacon();
        this.attach();
    }

    // ---- state ---------------------------------------------------------

    get isLocked() {
        return this.lockData !== null && this.remainingMs() > 0;
    }

    /** The server's idea of now, from this browser's clock and the offset
     *  measured at the last answer. */
    serverNow() {
        return Date.now() + this.offsetMs;
    }

    remainingMs() {
        if (!this.lockData) {
            return 0;
        }
        return Math.max(0, this.lockData.expiresAt - this.serverNow());
    }

    formatRemainingTime() {
        return formatMs(this.remainingMs());
    }

    /** Remaining time as a percentage of the life the last acquire or
     *  refresh gave the lock (100 right after it, 0 at the end). */
    remainingPercent() {
        if (!this.lockData || !(this.lockData.expiresIn > 0)) {
            return 0;
        }
        const p = 100 * this.remainingMs() / this.lockData.expiresIn;
        return Math.min(100, Math.max(0, p));
    }

    // ---- operations ----------------------------------------------------

    /**
     * Holds slot {tenantId, resourceId, date, startTime, duration[, ttl]}.
     * A lock this client already holds on another slot is released first.
     * Returns the server's answer; on success lockData is set.
     */
    async acquire(slot) {
        if (this.lockData && !this._sameSlot(slot)) {
            await this.release();
        }
        const body = Object.assign({}, slot);
        if (this.holderId && body.holderId === undefined) {
            body.holderId = this.holderId;
        }
        const result = await apiRequest(this.baseUrl, "POST",
                                        "/api/locks/acquire", body);
        if (result.success) {
            this.maxHoldReached = false;
            this._adopt(result, slot);
            this._emit("acquired");
        }
        return result;
    }

    /** Extends the lock (what the "extend" button does). */
    async refresh() {
        const lock = this.lockData;
        if (!lock) {
            return { success: false, status: 0, reason: "no_lock",
                     message: "No slot is held." };
        }
        const result = await apiRequest(this.baseUrl, "POST",
                                        "/api/locks/refresh", lockRef(lock));
        if (this.lockData !== lock) {
            return result;    // released or replaced while we waited
        }
        if (result.success) {
            this._adopt(result, lock);
            this._emit("refreshed");
        } else if (result.reason === "lock_not_found") {
            this._drop();
            this._emit("lost", { reason: result.reason, lockData: lock });
        } else if (result.reason === "max_hold_reached") {
            // Nothing more to gain from refreshing; let it run out.
            this.maxHoldReached = true;
            this._clearRefresh();
            this._emit("maxhold");
        } else {
            // A 503 or a network failure: keep the countdown and try again
            // at the next interval, while there is time left.
            this._scheduleRefresh();
        }
        return result;
    }

    /** Releases the lock. beacon: send it with navigator.sendBeacon, which
     *  outlives the page (no answer is available then). */
    async release({ beacon = false } = {}) {
        const lock = this.lockData;
        if (!lock) {
            return { success: true, released: false, reason: "no_lock" };
        }
        // Given up here and now, whatever the server answers: a release that
        // fails leaves a lock that runs out by itself.
        this._drop();
        this._emit("released", lock);
        if (beacon) {
            this._beacon(lock);
            return { success: true, released: true, beacon: true };
        }
        return apiRequest(this.baseUrl, "POST", "/api/locks/release",
                          lockRef(lock));
    }

    /** Forgets the lock without telling the server: a booking consumed it. */
    consume() {
        const lock = this.lockData;
        this._drop();
        this._emit("consumed", lock);
    }

    /** Adds the pagehide handler (done by the constructor). */
    attach() {
        if (this.releaseOnPageHide && typeof window !== "undefined") {
            window.addEventListener("pagehide", this._onPageHide);
        }
    }

    /** Stops every timer and the pagehide handler; the lock is kept. */
    detach() {
        this._clearRefresh();
        this._clearTick();
        if (typeof window !== "undefined") {
            window.removeEventListener("pagehide", this._onPageHide);
        }
    }

    // ---- inside --------------------------------------------------------

    /* Takes a successful acquire or refresh answer. lockData keeps the
     * slot, the lockId, expiresAt (server clock), expiresIn (the life this
     * answer gave) and refreshInterval. */
    _adopt(answer, slot) {
        if (typeof answer.serverTime === "number") {
            // Measured when the answer arrived; the network delay makes the
            // countdown err on the short side, never the long one.
            this.offsetMs = answer.serverTime - Date.now();
        }
        this.lockData = {
            lockId: answer.lockId,
            tenantId: slot.tenantId,
            resourceId: slot.resourceId,
            date: slot.date,
            startTime: slot.startTime,
            duration: slot.duration,
            expiresAt: answer.expiresAt,
            expiresIn: answer.expiresIn,
            refreshInterval: answer.refreshInterval || DEFAULT_REFRESH_MS,
        };
        this._scheduleRefresh();
        this._startTick();
    }

    _sameSlot(slot) {
        const l = this.lockData;
        return l && l.tenantId === slot.tenantId
            && l.resourceId === slot.resourceId && l.date === slot.date
            && l.startTime === slot.startTime && l.duration === slot.duration;
    }

    _scheduleRefresh() {
        this._clearRefresh();
        if (!this.autoRefresh || !this.lockData || this.maxHoldReached) {
            return;
        }
        const lock = this.lockData;
        const remaining = this.remainingMs();
        // Every refreshInterval, but early enough to land before the end,
        // and never in a tight loop when the life is short.
        const wait = Math.max(MIN_REFRESH_WAIT_MS,
            Math.min(lock.refreshInterval,
                     Math.max(remaining - REFRESH_MARGIN_MS, remaining / 2)));
        this._refreshTimer = setTimeout(() => {
            this._refreshTimer = null;
            if (this.lockData === lock && this.remainingMs() > 0) {
                this.refresh();
            }
        }, wait);
    }

    _clearRefresh() {
        if (this._refreshTimer !== null) {
            clearTimeout(this._refreshTimer);
            this._refreshTimer = null;
        }
    }

    // The tick only watches for the end; pages draw their own countdown
    // from remainingMs() as often as they like.
    _startTick() {
        if (this._tickTimer !== null) {
            return;
        }
        this._tickTimer = setInterval(() => {
            if (this.lockData && this.remainingMs() <= 0) {
                const lock = this.lockData;
                this._drop();
                this._emit("expired", lock);
            }
        }, TICK_MS);
    }

    _clearTick() {
        if (this._tickTimer !== null) {
            clearInterval(this._tickTimer);
            this._tickTimer = null;
        }
    }

    _drop() {
        this.lockData = null;
        this.maxHoldReached = false;
        this._clearRefresh();
        this._clearTick();
    }

    _releaseByBeacon() {
        if (this.lockData) {
            this.release({ beacon: true });
        }
    }

    _beacon(lock) {
        const url = this.baseUrl + "/api/locks/release";
        const body = JSON.stringify(lockRef(lock));
        // A string body goes as text/plain, which the server accepts and
        // which needs no CORS preflight, so the browser sends it even while
        // the page is being torn down.
        if (typeof navigator !== "undefined" && navigator.sendBeacon
            && navigator.sendBeacon(url, body)) {
            return;
        }
        fetch(url, { method: "POST", body, keepalive: true,
                     headers: { "Content-Type": "text/plain" } })
            .catch(() => {});
    }

    _emit(type, detail) {
        const d = detail === undefined ? this.lockData : detail;
        this.dispatchEvent(new CustomEvent(type, { detail: d }));
        if (type !== "change") {
            this.dispatchEvent(new CustomEvent("change",
                                               { detail: this.lockData }));
        }
    }
}
