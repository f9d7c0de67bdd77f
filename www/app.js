// The slot picker at /: choose a business, specialist, date and length,
// hold a free time, and book it before the hold runs out.

import { LockClient, apiRequest, formatMs } from "/slotlock-client.js";

const DAY_START_MIN = 9 * 60;
const DAY_END_MIN = 17 * 60;
const STEP_MIN = 30;
const POLL_MS = 2000;
const DRAW_MS = 250;

// The guide's words for the two things that go wrong.
const MSG_TAKEN =
    "This slot is being booked by someone else. Please choose another.";
const MSG_EXPIRED =
    "Your reservation expired. Please select a time slot again.";
const MSG_LOST =
    "Your reservation was released. Please select a time slot again.";

const $ = (id) => document.getElementById(id);
const el = {
    tenant: $("tenant"), specialist: $("specialist"), date: $("date"),
    duration: $("duration"), message: $("message"), hold: $("hold"),
    holdSlot: $("hold-slot"), countdown: $("countdown"), bar: $("bar-fill"),
    announce: $("announce"), extend: $("extend"), cancel: $("cancel-hold"),
    checkout: $("checkout"), service: $("service"),
    name: $("customer-name"), email: $("customer-email"),
    phone: $("customer-phone"), book: $("book"), slots: $("slots"),
    slotsFor: $("slots-for"),
};

const client = new LockClient();
let status = null;          // the last GET /api/locks/status answer
let statusSeq = 0;          // drops answers to an older selection
let stream = null;          // the EventSource of the shown selection
let streamLive = false;     // open: no polling
let statusLoading = false;  // a snapshot is on its way
let heldBack = [];          // changes that came while it was
let resnapshot = null;      // a status read after changes (capacity > 1)
let acting = false;         // one click or booking at a time
let lastMinutesLeft = null; // for announcing at minute marks
let lastRemainingMs = null;

// ---- time helpers -------------------------------------------------------

function toMinutes(hhmm) {
    return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function toHhmm(minutes) {
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
}

function localToday() {
    const d = new Date();
    const pad = (n) => (n < 10 ? "0" : "") + n;
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" +
        pad(d.getDate());
}

function overlaps(aStart, aLen, bStart, bLen) {
    return aStart < bStart + bLen && bStart < aStart + aLen;
}

// ---- what is chosen -----------------------------------------------------

function selection() {
    return {
        tenantId: el.tenant.value.trim(),
        resourceId: el.specialist.value,
        date: el.date.value,
        duration: Number(el.duration.value),
    };
}

function selectionValid(sel) {
    return /^[A-Za-z0-9_.-]{1,64}$/.test(sel.tenantId) &&
        /^\d{4}-\d{2}-\d{2}$/.test(sel.date);
}

function specialistName(id) {
    const opt = Array.from(el.specialist.options).find((o) => o.value === id);
    return opt ? opt.textContent : id;
}

function isMine(sel, startTime) {
    const l = client.lockData;
    return l !== null && l.tenantId === sel.tenantId &&
        l.resourceId === sel.resourceId && l.date === sel.date &&
        l.startTime === startTime && l.duration === sel.duration;
}

// ---- messages -----------------------------------------------------------

function say(text, kind) {
    el.message.textContent = text;
    el.message.className = "message" + (kind ? " " + kind : "");
}

// ---- the grid -----------------------------------------------------------

function slotState(sel, start) {
    if (isMine(sel, start)) {
        return "yours";
    }
    if (!status) {
        return "free";
    }
    const s = toMinutes(start);
    const len = sel.duration;
    if (status.booked.some((b) =>
        overlaps(s, len, toMinutes(b.startTime), b.duration))) {
        return "booked";
    }
    // Our own lock does not make a neighbouring time unavailable to us:
    // choosing it releases ours first.
    const mine = client.lockData;
    const others = status.locked.filter((l) => !(mine &&
        mine.tenantId === sel.tenantId && mine.resourceId === sel.resourceId &&
        mine.date === sel.date && l.startTime === mine.startTime &&
        l.duration === mine.duration));
    if (others.some((l) =>
        overlaps(s, len, toMinutes(l.startTime), l.duration))) {
        return "held";
    }
    return "free";
}

function drawSlots() {
    const sel = selection();
    const starts = [];
    for (let m = DAY_START_MIN; m + sel.duration <= DAY_END_MIN;
         m += STEP_MIN) {
        starts.push(toHhmm(m));
    }
    // Buttons are kept while the times stay the same, so keyboard focus
    // survives the regular redraw.
    if (el.slots.dataset.starts !== starts.join(",")) {
        el.slots.textContent = "";
        for (const start of starts) {
            const b = document.createElement("button");
            b.type = "button";
            b.className = "slot";
            b.dataset.time = start;
            const t = document.createElement("span");
            t.className = "time";
            t.textContent = start;
            const w = document.createElement("span");
            w.className = "state";
            b.append(t, " ", w);
            b.addEventListener("click", () => holdSlot(start));
            el.slots.append(b);
        }
        el.slots.dataset.starts = starts.join(",");
    }
    for (const b of el.slots.querySelectorAll("button.slot")) {
        const state = slotState(sel, b.dataset.time);
        b.className = "slot " + state;
        b.querySelector(".state").textContent = state;
        b.disabled = state === "held" || state === "booked";
        b.setAttribute("aria-pressed", state === "yours" ? "true" : "false");
        b.title = b.dataset.time + "–" +
            toHhmm(toMinutes(b.dataset.time) + sel.duration) + ", " + state;
    }
    el.slotsFor.textContent = sel.date
        ? "for " + specialistName(sel.resourceId) + " on " + sel.date : "";
    el.slots.setAttribute("aria-busy", status ? "false" : "true");
}

async function loadStatus() {
    const sel = selection();
    if (!selectionValid(sel)) {
        status = null;
        drawSlots();
        return;
    }
    const seq = ++statusSeq;
    statusLoading = true;
    heldBack = [];
    const q = new URLSearchParams({ tenantId: sel.tenantId,
        resourceId: sel.resourceId, date: sel.date });
    const r = await apiRequest("", "GET", "/api/locks/status?" + q);
    if (seq !== statusSeq) {
        return;
    }
    statusLoading = false;
    if (r.success) {
        status = r;
        // Changes pushed while the snapshot was on its way: each says what
        // its slot is now, so applying one the snapshot already has
        // changes nothing.
        for (const change of heldBack) {
            applyChange(change);
        }
    } else if (r.status !== 0 && r.status < 500) {
        say(r.message || "The times could not be loaded.", "error");
    }
    drawSlots();
}

// ---- the live grid -------------------------------------------------------
//
// GET /api/locks/stream pushes each change of the shown resource and day
// (docs/live-grid.md). Each time the stream opens (the first time, and
// after every reconnect) the page reads status once, so nothing missed
// while it was away stays wrong; while it is open there is no polling.

function applyChange(change) {
    if (!status) {
        return;
    }
    const same = (e) => e.startTime === change.startTime;
    if (change.type.startsWith("booking.")) {
        status.booked = status.booked.filter((b) => !same(b));
    }
    status.locked = status.locked.filter((l) => !(same(l) &&
        l.duration === change.duration));
    if (change.status === "held") {
        status.locked.push({ startTime: change.startTime,
            duration: change.duration, expiresIn: change.expiresIn });
    } else if (change.status === "booked") {
        status.booked.push({ startTime: change.startTime,
            duration: change.duration });
    }
}

function openStream() {
    if (stream) {
        stream.close();
        stream = null;
    }
    streamLive = false;
    const sel = selection();
    if (!selectionValid(sel) || typeof EventSource !== "function") {
        return;
    }
    const q = new URLSearchParams({ tenantId: sel.tenantId,
        resourceId: sel.resourceId, date: sel.date });
    const es = new EventSource("/api/locks/stream?" + q);
    stream = es;
    es.addEventListener("open", () => {
        if (stream === es) {
            streamLive = true;
            el.slots.dataset.live = "true";
            loadStatus();
        }
    });
    es.addEventListener("error", () => {
        // EventSource tries again by itself; until it is back the page
        // polls.
        if (stream === es) {
            streamLive = false;
            el.slots.dataset.live = "false";
        }
    });
    es.addEventListener("message", (e) => {
        if (stream !== es) {
            return;
        }
        let change;
        try {
            change = JSON.parse(e.data);
        } catch (err) {
            return;
        }
        if (typeof change.type !== "string" ||
            typeof change.startTime !== "string" ||
            change.date !== sel.date) {
            return;
        }
        // Where several may share a slot (capacity above 1), one change
        // does not say how many places are left: read status again, once
        // for a burst of changes.
        if (status && status.capacity > 1) {
            clearTimeout(resnapshot);
            resnapshot = setTimeout(loadStatus, 200);
            return;
        }
        if (statusLoading) {
            heldBack.push(change);
        }
        applyChange(change);
        drawSlots();
    });
}

// ---- holding ------------------------------------------------------------

async function holdSlot(start) {
    if (acting) {
        return;
    }
    const sel = selection();
    if (isMine(sel, start)) {
        el.name.focus();
        return;
    }
    acting = true;
    try {
        const r = await client.acquire({ tenantId: sel.tenantId,
            resourceId: sel.resourceId, date: sel.date, startTime: start,
            duration: sel.duration });
        if (r.success) {
            say("");
            showHold(true);
            el.name.focus();
        } else if (r.reason === "slot_locked" || r.reason === "slot_booked") {
            say(MSG_TAKEN, "error");
        } else {
            say(r.message || "The time could not be held.", "error");
        }
    } finally {
        acting = false;
    }
    await loadStatus();
}

function showHold(fresh) {
    const l = client.lockData;
    if (!l) {
        el.hold.hidden = true;
        return;
    }
    el.hold.hidden = false;
    el.holdSlot.textContent = specialistName(l.resourceId) + ", " + l.date +
        " at " + l.startTime + "–" +
        toHhmm(toMinutes(l.startTime) + l.duration);
    if (fresh) {
        el.extend.disabled = false;
        lastMinutesLeft = null;
        lastRemainingMs = null;
    }
    drawCountdown();
}

function drawCountdown() {
    if (!client.lockData) {
        return;
    }
    const ms = client.remainingMs();
    el.countdown.textContent = formatMs(ms);
    el.bar.style.width = client.remainingPercent().toFixed(1) + "%";
    el.hold.classList.toggle("ending", ms < 30000);

    // The visible timer is silent; a polite announcement at each minute
    // mark, and once at 30 seconds, is enough to act on.
    // A refresh moves both up again, silently.
    const minutesLeft = Math.ceil(ms / 60000);
    if (lastMinutesLeft === null) {
        el.announce.textContent = "Reserved for " + describe(ms) + ".";
    } else if (minutesLeft < lastMinutesLeft && minutesLeft >= 1) {
        el.announce.textContent = describe(minutesLeft * 60000) + " left.";
    } else if (lastRemainingMs > 30000 && ms <= 30000 && ms > 0) {
        el.announce.textContent = "30 seconds left. Extend to keep it.";
    }
    lastMinutesLeft = minutesLeft;
    lastRemainingMs = ms;
}

// "2 minutes 30 seconds", "1 minute", "45 seconds".
function describe(ms) {
    const total = Math.ceil(ms / 1000);
    const m = Math.floor(total / 60);
    const s = total % 60;
    const parts = [];
    if (m > 0) {
        parts.push(m + (m === 1 ? " minute" : " minutes"));
    }
    if (s > 0 || m === 0) {
        parts.push(s + (s === 1 ? " second" : " seconds"));
    }
    return parts.join(" ");
}

// Hiding the hold section would drop keyboard focus to the page's start
// when it was inside; the message that says why is the next place to be.
function leaveHold() {
    const hadFocus = el.hold.contains(document.activeElement);
    el.hold.hidden = true;
    if (hadFocus) {
        el.message.focus();
    }
}

function endHold(text) {
    say(text, "error");
    leaveHold();
    loadStatus();
}

// Whatever ended the hold (a beacon on pagehide included, which matters
// when the page comes back from the back-forward cache), the page shows
// it at once.
client.addEventListener("change", () => {
    if (!client.lockData && !el.hold.hidden) {
        leaveHold();
    }
    drawSlots();
});
client.addEventListener("expired", () => endHold(MSG_EXPIRED));
client.addEventListener("lost", () => endHold(MSG_LOST));
client.addEventListener("maxhold", () => {
    el.extend.disabled = true;
    say("This reservation cannot be extended any further.", "warning");
});

el.extend.addEventListener("click", async () => {
    const r = await client.refresh();
    if (r.success) {
        say("Extended: reserved for " + client.formatRemainingTime() + ".");
        lastMinutesLeft = null;
        lastRemainingMs = null;
        drawCountdown();
    } else if (r.reason !== "lock_not_found" &&
               r.reason !== "max_hold_reached") {
        say(r.message || "The reservation could not be extended.", "error");
    }
});

el.cancel.addEventListener("click", async () => {
    const start = client.lockData && client.lockData.startTime;
    await client.release();
    el.hold.hidden = true;
    say("Your reservation was released.");
    await loadStatus();
    const b = start && el.slots.querySelector(
        'button.slot[data-time="' + start + '"]');
    if (b && !b.disabled) {
        b.focus();
    }
});

// ---- booking ------------------------------------------------------------

el.checkout.addEventListener("submit", async (event) => {
    event.preventDefault();
    const l = client.lockData;
    if (!l) {
        endHold(MSG_EXPIRED);
        return;
    }
    const name = el.name.value.trim();
    const email = el.email.value.trim();
    if (!name || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
        say("Please give your name and a valid email address.", "error");
        (name ? el.email : el.name).focus();
        return;
    }
    if (acting) {
        return;
    }
    acting = true;
    el.book.disabled = true;
    const option = el.service.selectedOptions[0];
    const body = {
        lockId: l.lockId, tenantId: l.tenantId, specialistId: l.resourceId,
        serviceId: option.value, date: l.date, startTime: l.startTime,
        endTime: toHhmm(toMinutes(l.startTime) + l.duration),
        customerName: name, customerEmail: email,
        price: Number(option.dataset.price), duration: l.duration,
    };
    const phone = el.phone.value.trim();
    if (phone) {
        body.customerPhone = phone;
    }
    let r;
    try {
        r = await apiRequest("", "POST", "/api/appointments", body);
    } finally {
        acting = false;
        el.book.disabled = false;
    }
    if (r.success) {
        const a = r.appointment;
        say("Booked: " + specialistName(a.specialistId) + ", " + a.date +
            " at " + a.startTime + "–" + a.endTime + ". Reference " + a.id +
            ".", "success");
        leaveHold();
        client.consume();
        el.checkout.reset();
    } else if (r.reason === "lock_expired" || r.reason === "lock_mismatch") {
        client.consume();
        endHold(MSG_EXPIRED);
    } else if (r.reason === "slot_booked") {
        await client.release();
        endHold(MSG_TAKEN);
    } else if (r.reason === "validation_error" && r.errors) {
        say(r.errors.map((e) => e.field + ": " + e.message).join("; "),
            "error");
    } else {
        say(r.message || "The booking could not be made.", "error");
    }
    await loadStatus();
});

// ---- start --------------------------------------------------------------

function start() {
    const q = new URLSearchParams(location.search);
    if (q.get("tenant")) {
        el.tenant.value = q.get("tenant");
    }
    if (q.get("specialist")) {
        const wanted = q.get("specialist");
        if (!Array.from(el.specialist.options).some((o) =>
            o.value === wanted)) {
            el.specialist.add(new Option(wanted, wanted));
        }
        el.specialist.value = wanted;
    }
    el.date.value = q.get("date") || localToday();
    if (q.get("duration")) {
        el.duration.value = q.get("duration");
    }
    for (const input of [el.tenant, el.specialist, el.date, el.duration]) {
        input.addEventListener("change", () => {
            status = null;
            drawSlots();
            openStream();
            loadStatus();
        });
    }
    // Enter in a field shows that selection's times; no page load, which
    // would give up a hold.
    document.getElementById("picker").addEventListener("submit", (e) => {
        e.preventDefault();
        status = null;
        drawSlots();
        openStream();
        loadStatus();
    });
    drawSlots();
    openStream();
    loadStatus();
    // Polling only while the stream is not open (it cannot connect, or
    // is reconnecting).
    setInterval(() => {
        if (!document.hidden && !streamLive) {
            loadStatus();
        }
    }, POLL_MS);
    setInterval(drawCountdown, DRAW_MS);
}

start();
