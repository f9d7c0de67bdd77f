// useLockManager.js: the React hook of the Quick Start guide, built on
// slotlock-client.js. React comes from the application that imports it.
//
//     const { acquireLock, releaseLock, refreshLock, lockData, isLocked,
//             formatRemainingTime, remainingPercent, error } =
//         useLockManager();
//
// acquireLock(slot) resolves to the server's answer ({success, lockId, ...}
// or {success: false, reason, message}); a refused hold also sets `error`.
// The lock is released when the component unmounts and when the page goes
// away (sendBeacon on pagehide).

import { useCallback, useEffect, useRef, useState } from "react";
import { LockClient } from "./slotlock-client.js";

const TICK_MS = 1000;

export function useLockManager(options = {}) {
    const clientRef = useRef(null);
    if (clientRef.current === null) {
        clientRef.current = new LockClient(options);
    }
    const client = clientRef.current;

    const [lockData, setLockData] = useState(client.lockData);
    const [error, setError] = useState(null);
    const [isExpired, setExpired] = useState(false);
    const [lostReason, setLostReason] = useState(null);
    const [maxHoldReached, setMaxHoldReached] = useState(false);
    const [, setTick] = useState(0);

    useEffect(() => {
        // attach() again: under StrictMode React unmounts and mounts once
        // more, and the cleanup below detached the client.
        client.attach();
        const onChange = () => setLockData(client.lockData);
        const onExpired = () => setExpired(true);
        const onLost = (e) => setLostReason(e.detail.reason);
        const onMaxHold = () => setMaxHoldReached(true);
        client.addEventListener("change", onChange);
        client.addEventListener("expired", onExpired);
        client.addEventListener("lost", onLost);
        client.addEventListener("maxhold", onMaxHold);
        return () => {
            client.removeEventListener("change", onChange);
            client.removeEventListener("expired", onExpired);
            client.removeEventListener("lost", onLost);
            client.removeEventListener("maxhold", onMaxHold);
            if (client.lockData) {
                client.release();
            }
            client.detach();
        };
    }, [client]);

    // Re-render once a second while a lock is held, for the countdown.
    useEffect(() => {
        if (!lockData) {
            return undefined;
        }
        const timer = setInterval(() => setTick((n) => n + 1), TICK_MS);
        return () => clearInterval(timer);
    }, [lockData]);

    const acquireLock = useCallback(async (slot) => {
        setError(null);
        setExpired(false);
        setLostReason(null);
        setMaxHoldReached(false);
        const result = await client.acquire(slot);
        if (!result.success) {
            setError(result);
        }
        return result;
    }, [client]);

    const releaseLock = useCallback(async () => {
        const result = await client.release();
        setLockData(null);
        return result;
    }, [client]);

    const refreshLock = useCallback(async () => {
        const result = await client.refresh();
        if (!result.success) {
            setError(result);
        }
        return result;
    }, [client]);

    // The lock was consumed by a booking: forget it without releasing.
    const clearLock = useCallback(() => client.consume(), [client]);

    return {
        lockData,
        lockId: lockData ? lockData.lockId : null,
        isLocked: lockData !== null && client.remainingMs() > 0,
        isExpired,
        lostReason,
        maxHoldReached,
        error,
        remainingTime: client.remainingMs(),
        remainingPercent: client.remainingPercent(),
        formatRemainingTime: () => client.formatRemainingTime(),
        acquireLock,
        releaseLock,
        refreshLock,
        clearLock,
        client,
    };
}

export default useLockManager;
