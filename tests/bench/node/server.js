// The Node baseline script/bench measures slotlock against: the stack a
// booking guide builds instead (Express, ioredis, node:cluster with one
// worker per core), with the guide's naive hold: SET key value NX PX ttl on
// one key per slot. It answers POST /api/locks/acquire with the JSON shape
// slotlock answers (200 locked, 409 slot_locked), and GET /health.
//
// Settings: PORT (TCP port on 127.0.0.1; required), REDIS_HOST (127.0.0.1),
// REDIS_PORT (6379), NODE_WORKERS (default: one per core), KEY_PREFIX
// (bench_node; script/bench --cluster makes it a hash tag, so that every
// key is on the one node the baseline talks to), LOCK_TTL (120000).
// Not part of slotlock: script/bench installs it (npm ci) and runs it.
'use strict';

const cluster = require('node:cluster');
const crypto = require('node:crypto');
const os = require('node:os');

const port = Number(process.env.PORT);
const workers = Number(process.env.NODE_WORKERS) || os.availableParallelism();

if (cluster.isPrimary) {
  if (!port) {
    console.error('node baseline: PORT is not set');
    process.exit(2);
  }
  for (let i = 0; i < workers; i++) {
    cluster.fork();
  }
  cluster.on('exit', (worker, code, signal) => {
    console.error(`node baseline: worker ${worker.process.pid} ended ` +
                  `(${signal || code})`);
  });
  const stop = () => {
    for (const id in cluster.workers) {
      cluster.workers[id].kill();
    }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const express = require('express');
  const Redis = require('ioredis');

  const host = process.env.REDIS_HOST || '127.0.0.1';
  const redis = new Redis(host.startsWith('/') ? { path: host } : {
    host,
    port: Number(process.env.REDIS_PORT) || 6379,
  });
  const prefix = process.env.KEY_PREFIX || 'bench_node';
  const defaultTtl = Number(process.env.LOCK_TTL) || 120000;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.json({ limit: '16kb' }));

  app.get('/health', (req, res) => {
    res.json({ success: true });
  });

  app.post('/api/locks/acquire', async (req, res) => {
    const b = req.body || {};
    for (const f of ['tenantId', 'resourceId', 'date', 'startTime']) {
      if (typeof b[f] !== 'string' || b[f] === '') {
        return res.status(400).json({ success: false,
                                      reason: 'validation_error',
                                      field: f });
      }
    }
    const ttl = Number.isInteger(b.ttl) && b.ttl > 0 ? b.ttl : defaultTtl;
    const key = `${prefix}:lock:${b.tenantId}:${b.resourceId}:${b.date}:` +
                b.startTime;
    const lockId = crypto.randomUUID();
    try {
      const ok = await redis.set(key, lockId, 'PX', ttl, 'NX');
      const now = Date.now();
      if (ok !== 'OK') {
        return res.status(409).json({ success: false, locked: false,
                                      reason: 'slot_locked' });
      }
      res.json({ success: true, locked: true, lockId, expiresIn: ttl,
                 expiresAt: now + ttl, serverTime: now,
                 refreshInterval: 30000 });
    } catch (e) {
      res.status(503).json({ success: false,
                             reason: 'service_unavailable' });
    }
  });

  app.listen(port, '127.0.0.1');
}
