// The admin dashboard at /admin: active holds with force-release, the
// day's appointments with cancel, and the lock metrics with a live chart.
//
// The admin token is typed once and kept in sessionStorage (this tab only,
// gone when it closes); it is sent only in the Authorization header, never
// in an address.

import { apiRequest, formatMs } from "/slotlock-client.js";

const TOKEN_KEY = "slotlock.adminToken";
const POLL_MS = 3000;
const DRAW_MS = 500;
const CHART_SAMPLES = 200;           // 10 minutes at POLL_MS
const CHART_MIN_SAMPLES = 20;        // 1 minute at POLL_MS
const SVG_NS = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);
const el = {
    signin: $("signin"), token: $("token"), signedIn: $("signed-in"),
    signout: $("signout"), message: $("message"), dashboard: $("dashboard"),
    filters: $("filters"), tenant: $("tenant"), specialist: $("specialist"),
    date: $("date"), locks: $("locks"), locksCount: $("locks-count"),
    appts: $("appts"), apptsCount: $("appts-count"), chart: $("chart"),
    chartSpan: $("chart-span"), chartStep: $("chart-step"),
    mAcquired: $("m-acquired"), mFailed: $("m-failed"), mRate: $("m-rate"),
    mActive: $("m-active"), mBooked: $("m-booked"),
};

let pollTimer = null;
let samples = [];        // {at, active, acquired} per metrics answer
let lockRows = [];       // {cell, endsAt} for the local countdown

// ---- the token ------------------------------------------------------------

function token() {
    try {
        return sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (_) {
        return "";
    }
}

function setToken(value) {
    try {
        if (value) {
            sessionStorage.setItem(TOKEN_KEY, value);
        } else {
            sessionStorage.removeItem(TOKEN_KEY);
        }
    } catch (_) {
        // Without storage the token lives only until the page closes.
        memoryToken = value;
    }
}
let memoryToken = "";

function currentToken() {
    return token() || memoryToken;
}

function say(text, kind) {
    el.message.textContent = text;
    el.message.className = "message" + (kind ? " " + kind : "");
}

/** An admin request; a refused token signs out. */
async function admin(method, path, body) {
    const r = await apiRequest("", method, path, body,
                               { Authorization: "Bearer " + currentToken() });
    if (r.status === 401) {
        signOut();
        say("The admin token was not accepted. Please type it again.",
            "error");
    } else if (r.status === 403 && r.reason === "admin_disabled") {
        signOut();
        say("Admin routes are disabled on this server: ADMIN_TOKEN is not " +
            "set.", "error");
    }
    return r;
}

function signIn() {
    el.signin.hidden = true;
    el.signedIn.hidden = false;
    el.dashboard.hidden = false;
    refreshAll();
    if (pollTimer === null) {
        pollTimer = setInterval(() => {
            if (!document.hidden) {
                refreshAll();
            }
        }, POLL_MS);
    }
}

function signOut() {
    setToken("");
    memoryToken = "";
    if (pollTimer !== null) {
        clearInterval(pollTimer);
        pollTimer = null;
    }
    el.signin.hidden = false;
    el.signedIn.hidden = true;
    el.dashboard.hidden = true;
    el.token.value = "";
}

// ---- loading --------------------------------------------------------------

function filters() {
    return {
        tenantId: el.tenant.value.trim(),
        resourceId: el.specialist.value.trim(),
        date: el.date.value,
    };
}

async function refreshAll() {
    const f = filters();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(f.tenantId)) {
        say("Type the business (tenant) id to see its holds.", "error");
        return;
    }
    await Promise.all([loadMetrics(), loadLocks(f), loadAppointments(f)]);
}

async function loadMetrics() {
    const r = await admin("GET", "/api/locks/metrics");
    if (!r.success) {
        return;
    }
    const m = r.metrics;
    el.mAcquired.textContent = m.locksAcquired;
    el.mFailed.textContent = m.locksFailed;
    el.mRate.textContent = m.successRate;
    el.mActive.textContent = m.activeLocks;
    el.mBooked.textContent = m.bookingsCreated;
    samples.push({ at: Date.now(), active: m.activeLocks,
                   acquired: m.locksAcquired });
    if (samples.length > CHART_SAMPLES) {
        samples = samples.slice(-CHART_SAMPLES);
    }
    drawChart();
}

async function loadLocks(f) {
    const q = new URLSearchParams({ tenantId: f.tenantId, limit: "1000" });
    if (f.resourceId) {
        q.set("resourceId", f.resourceId);
    }
    const r = await admin("GET", "/api/locks/admin/active?" + q);
    if (!r.success) {
        if (r.status === 400) {
            say(r.message, "error");
        }
        return;
    }
    const receivedAt = Date.now();
    const locks = r.locks.slice().sort((a, b) =>
        (a.date + a.startTime + a.resourceId).localeCompare(
            b.date + b.startTime + b.resourceId));
    el.locks.textContent = "";
    lockRows = [];
    el.locksCount.textContent = "(" + locks.length + ")";
    if (locks.length === 0) {
        el.locks.append(emptyRow(7, "No slot is held right now."));
        return;
    }
    for (const l of locks) {
        const tr = document.createElement("tr");
        const remaining = cell(formatMs(l.remainingTTL), "num");
        tr.append(cell(l.resourceId), cell(l.date), cell(l.startTime),
                  cell(l.duration + " min", "num"),
                  cell(l.holderId === null ? "—" : l.holderId), remaining);
        const b = document.createElement("button");
        b.type = "button";
        b.className = "secondary";
        b.textContent = "Force release";
        b.setAttribute("aria-label", "Force release " + l.resourceId + " " +
                       l.date + " " + l.startTime);
        b.addEventListener("click", () => forceRelease(l));
        const td = document.createElement("td");
        td.append(b);
        tr.append(td);
        el.locks.append(tr);
        // Counted down from the moment the answer came, so this browser's
        // clock does not matter.
        lockRows.push({ cell: remaining, endsAt: receivedAt + l.remainingTTL });
    }
}

async function loadAppointments(f) {
    const q = new URLSearchParams({ tenantId: f.tenantId });
    if (f.resourceId) {
        q.set("specialistId", f.resourceId);
    }
    if (f.date) {
        q.set("date", f.date);
    }
    const r = await admin("GET", "/api/appointments?" + q);
    if (!r.success) {
        if (r.status === 400) {
            say(r.message, "error");
        }
        return;
    }
    el.appts.textContent = "";
    const confirmed = r.appointments.filter((a) => a.status === "confirmed");
    el.apptsCount.textContent = "(" + confirmed.length + " confirmed" +
        (f.date ? " on " + f.date : "") + ")";
    if (r.appointments.length === 0) {
        el.appts.append(emptyRow(7, "No appointments."));
        return;
    }
    for (const a of r.appointments) {
        const tr = document.createElement("tr");
        tr.className = a.status;
        tr.append(cell(a.date + " " + a.startTime + "–" + a.endTime),
                  cell(a.specialistId), cell(a.customerName),
                  cell(a.customerEmail), cell(a.serviceId), cell(a.status));
        const td = document.createElement("td");
        if (a.status === "confirmed") {
            const b = document.createElement("button");
            b.type = "button";
            b.className = "secondary";
            b.textContent = "Cancel";
            b.setAttribute("aria-label", "Cancel " + a.customerName + " " +
                           a.date + " " + a.startTime);
            b.addEventListener("click", () => cancelAppointment(a));
            td.append(b);
        }
        tr.append(td);
        el.appts.append(tr);
    }
}

function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) {
        td.className = cls;
    }
    return td;
}

function emptyRow(columns, text) {
    const tr = document.createElement("tr");
    const td = cell(text, "empty");
    td.colSpan = columns;
    tr.append(td);
    return tr;
}

// ---- actions --------------------------------------------------------------

async function forceRelease(l) {
    if (!confirm("Release the hold on " + l.resourceId + ", " + l.date +
                 " at " + l.startTime + "?")) {
        return;
    }
    const r = await admin("POST", "/api/locks/admin/force-release", {
        tenantId: filters().tenantId, resourceId: l.resourceId,
        date: l.date, startTime: l.startTime });
    if (r.success) {
        say("Released the hold on " + l.resourceId + ", " + l.date + " at " +
            l.startTime + ".", "success");
    } else if (r.reason === "lock_not_found") {
        say("That hold had already ended.", "warning");
    } else if (r.status !== 401 && r.status !== 403) {
        say(r.message || "The hold could not be released.", "error");
    }
    refreshAll();
}

async function cancelAppointment(a) {
    if (!confirm("Cancel " + a.customerName + "'s appointment on " + a.date +
                 " at " + a.startTime + "?")) {
        return;
    }
    const r = await admin("DELETE",
                          "/api/appointments/" + encodeURIComponent(a.id));
    if (r.success) {
        say("Cancelled " + a.customerName + "'s appointment at " +
            a.startTime + ".", "success");
    } else if (r.status !== 401 && r.status !== 403) {
        say(r.message || "The appointment could not be cancelled.", "error");
    }
    refreshAll();
}

// ---- drawing --------------------------------------------------------------

function drawCountdowns() {
    const now = Date.now();
    for (const row of lockRows) {
        row.cell.textContent = formatMs(row.endsAt - now);
    }
}

function svg(name, attrs) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [k, v] of Object.entries(attrs)) {
        node.setAttribute(k, v);
    }
    return node;
}

/* Active locks as a line, acquisitions between two samples as bars, over
 * the samples kept (the last CHART_SAMPLES polls). */
function drawChart() {
    const W = 600, H = 140, top = 12, bottom = 16;
    const plotH = H - top - bottom;
    el.chart.textContent = "";
    el.chart.append(svg("line", { x1: 0, y1: H - bottom, x2: W,
                                  y2: H - bottom, class: "axis" }));
    if (samples.length === 0) {
        return;
    }
    const deltas = samples.map((s, i) => (i === 0 ? 0
        : Math.max(0, s.acquired - samples[i - 1].acquired)));
    const peak = Math.max(1, ...samples.map((s) => s.active), ...deltas);
    // At least a minute wide, so the first samples are not a speck at
    // the right edge; up to CHART_SAMPLES wide.
    const step = W / Math.max(CHART_MIN_SAMPLES, samples.length);
    const x0 = W - samples.length * step;
    const y = (v) => top + plotH - (v / peak) * plotH;

    deltas.forEach((d, i) => {
        if (d > 0) {
            el.chart.append(svg("rect", { x: x0 + i * step, y: y(d),
                width: Math.max(1, step - 1), height: top + plotH - y(d),
                class: "acquired" }));
        }
    });
    const points = samples.map((s, i) =>
        (x0 + (i + 0.5) * step).toFixed(1) + "," + y(s.active).toFixed(1));
    if (points.length === 1) {
        points.push((W).toFixed(1) + "," + y(samples[0].active).toFixed(1));
    }
    el.chart.append(svg("polyline", { points: points.join(" "),
                                      class: "active" }));
    const label = svg("text", { x: 4, y: 10 });
    label.textContent = "max " + peak;
    const now = svg("text", { x: W - 4, y: H - 3, "text-anchor": "end" });
    now.textContent = "now";
    el.chart.append(label, now);

    const spanS = Math.round((samples[samples.length - 1].at - samples[0].at)
                             / 1000);
    el.chartSpan.textContent = spanS >= 60
        ? Math.round(spanS / 60) + " min" : spanS + " s";
}

// ---- start ----------------------------------------------------------------

function localToday() {
    const d = new Date();
    const pad = (n) => (n < 10 ? "0" : "") + n;
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" +
        pad(d.getDate());
}

function start() {
    el.date.value = localToday();
    el.chartStep.textContent = POLL_MS / 1000 + " s";
    el.signin.addEventListener("submit", (e) => {
        e.preventDefault();
        const value = el.token.value;
        if (!value) {
            return;
        }
        setToken(value);
        if (!token()) {
            memoryToken = value;
        }
        el.token.value = "";
        say("");
        signIn();
    });
    el.signout.addEventListener("click", () => {
        signOut();
        say("Signed out.");
        el.token.focus();
    });
    el.filters.addEventListener("submit", (e) => {
        e.preventDefault();
        refreshAll();
    });
    for (const input of [el.tenant, el.specialist, el.date]) {
        input.addEventListener("change", refreshAll);
    }
    setInterval(drawCountdowns, DRAW_MS);
    drawChart();
    if (currentToken()) {
        signIn();
    }
}

start();
