/*
 * dispatch.c - slotlock-events' delivery loop. See dispatch.h.
 *
 * One thread: Redis commands are short and made in turn through the store
 * (so every Redis mode works), while the POSTs wait side by side in one
 * curl multi handle. Nothing is kept on disk: where each endpoint is in
 * each stream is its consumer group's, in Redis.
 */
#include "dispatch.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "keys.h"
#include "log.h"
#include "signature.h"
#include "store.h"

#define ENDPOINT_ID_MAX 64
#define ENDPOINT_URL_MAX 2048
#define ENDPOINT_SECRET_MAX CONFIG_STR_MAX
#define TENANT_MAX 128
#define CONSUMER "slotlock-events"
#define DEPLOYMENT_ID "deployment"
#define RELOAD_MS 2000          /* endpoints re-read this often */
#define SCAN_MS 1000            /* streams looked for this often */
#define POLL_MS 100             /* the longest sleep of the loop */
#define DEADLETTER_MAXLEN "100000"
#define ARGC(argv) ((int) (sizeof(argv) / sizeof((argv)[0])))

typedef struct endpoint_s {
    char id[ENDPOINT_ID_MAX];
    char url[ENDPOINT_URL_MAX];
    char secret[ENDPOINT_SECRET_MAX];
    char tenant[TENANT_MAX];    /* "": every tenant's events */
    char start_id[48];          /* where its groups start */
} endpoint_t;

typedef struct lane_s {
    char endpoint[ENDPOINT_ID_MAX];
    char tenant[TENANT_MAX];    /* the stream's tenant */
    char stream[KEYS_MAX];
    char group[ENDPOINT_ID_MAX + 16];
    bool group_ready;
    bool dirty;                 /* may have an event to read */
    bool gone;                  /* its endpoint was removed */
    bool caught_up;             /* nothing of ours left pending unacked */
    /* The event in hand, if any. */
    char *body;                 /* NULL: none */
    char entry[48];             /* its stream entry id */
    char event_id[128];
    long long entry_ms;         /* when it was written (Redis clock) */
    int attempts;
    long long next_ms;          /* when to try it next */
    char last_error[256];
    CURL *easy;                 /* non-NULL while a POST is in flight */
    struct curl_slist *headers;
    struct lane_s *next;        /* in its bucket of the lane table */
} lane_t;

typedef struct dispatcher_s {
    const config_t *cfg;
    store_t *st;
    CURLM *multi;
    endpoint_t *endpoints;
    int nendpoints;
    lane_t **lanes;
    int nlanes;
    int lanes_cap;
    /* The lanes again, by (endpoint, stream), so that finding one costs
     * the same with ten streams or a hundred thousand. */
    lane_t **buckets;
    size_t nbuckets;            /* a power of two, or 0 */
    long long backlog;          /* undelivered events, last scan */
} dispatcher_t;

static long long now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (long long) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

long dispatch_backoff_ms(int attempt, long max_ms, double r)
{
    long wait_ms = 1000;

    for (int i = 1; i < attempt && wait_ms < max_ms; i++) {
        wait_ms *= 2;
    }
    if (wait_ms > max_ms) {
        wait_ms = max_ms;
    }
    return wait_ms / 2 + (long) ((double) (wait_ms / 2) * r);
}

/* ---- Redis ------------------------------------------------------------ */

/* Runs argv on key's server; the reply (caller frees) or NULL, logged. */
static json_t *redis(dispatcher_t *d, const char *key, int argc,
                     const char *const *argv, bool resend)
{
    json_t *out = NULL;
    store_status_t status = store_command(d->st, key, argc, argv, resend,
                                          &out);

    if (status == STORE_UNAVAILABLE) {
        /* Redis may have restarted or failed over: every lane reads its
         * pending entries again before new ones. */
        for (int i = 0; i < d->nlanes; i++) {
            d->lanes[i]->caught_up = false;
        }
    }
    if (status != STORE_OK) {
        return NULL;
    }
    return out;
}

static bool redis_error_is(dispatcher_t *d, const char *prefix)
{
    return strncmp(store_error(d->st), prefix, strlen(prefix)) == 0;
}

static void count(dispatcher_t *d, const char *field)
{
    const char *argv[] = { "HINCRBY", KEYS_WEBHOOK_STATS, field, "1" };

    json_decref(redis(d, KEYS_WEBHOOK_STATS, ARGC(argv), argv, false));
}

/* ---- endpoints -------------------------------------------------------- */

static bool copy_str(char *out, size_t out_len, const char *s)
{
    if (s == NULL || strlen(s) >= out_len) {
        return false;
    }
    strcpy(out, s);
    return true;
}

/* One registered endpoint's JSON into ep; false when it is not usable. */
static bool endpoint_from_json(const char *text, endpoint_t *ep)
{
    json_t *o = json_loads(text, 0, NULL);
    bool ok = o != NULL;

    if (ok) {
        json_t *tenant = json_object_get(o, "tenantId");
        json_int_t created = json_integer_value(json_object_get(o,
                                                                "createdMs"));

        ok = copy_str(ep->id, sizeof(ep->id),
                      json_string_value(json_object_get(o, "id")))
             && copy_str(ep->url, sizeof(ep->url),
                         json_string_value(json_object_get(o, "url")))
             && copy_str(ep->secret, sizeof(ep->secret),
                         json_string_value(json_object_get(o, "secret")))
             && copy_str(ep->tenant, sizeof(ep->tenant),
                         json_is_string(tenant) ? json_string_value(tenant)
                                                : "");
        /* A group starts where the endpoint was registered: it gets the
         * events written since, not the stream's whole history. */
        snprintf(ep->start_id, sizeof(ep->start_id), "%lld-0",
                 (long long) created);
    }
    json_decref(o);
    return ok;
}

/* Reads the endpoints again; keeps the old list when Redis cannot say. */
static void reload_endpoints(dispatcher_t *d)
{
    const char *argv[] = { "HGETALL", KEYS_WEBHOOKS };
    json_t *r = redis(d, KEYS_WEBHOOKS, ARGC(argv), argv, true);

    if (!json_is_array(r)) {
        json_decref(r);
        return;
    }
    size_t n = json_array_size(r) / 2 + 1;
    endpoint_t *list = calloc(n, sizeof(*list));
    int count_ok = 0;

    if (list == NULL) {
        json_decref(r);
        return;
    }
    /* The deployment's own endpoint gets every tenant's events from the
     * start of each stream. */
    if (d->cfg->webhook_url[0] != '\0') {
        endpoint_t *ep = &list[count_ok++];

        snprintf(ep->id, sizeof(ep->id), "%s", DEPLOYMENT_ID);
        snprintf(ep->url, sizeof(ep->url), "%s", d->cfg->webhook_url);
        snprintf(ep->secret, sizeof(ep->secret), "%s",
                 d->cfg->webhook_secret);
        snprintf(ep->start_id, sizeof(ep->start_id), "0");
    }
    for (size_t i = 1; i < json_array_size(r); i += 2) {
        const char *text = json_string_value(json_array_get(r, i));

        if (text != NULL && endpoint_from_json(text, &list[count_ok])) {
            count_ok++;
        }
    }
    json_decref(r);
    free(d->endpoints);
    d->endpoints = list;
    d->nendpoints = count_ok;
}

static const endpoint_t *find_endpoint(const dispatcher_t *d, const char *id)
{
    for (int i = 0; i < d->nendpoints; i++) {
        if (strcmp(d->endpoints[i].id, id) == 0) {
            return &d->endpoints[i];
        }
    }
    return NULL;
}

/* ---- lanes ------------------------------------------------------------ */

static void lane_drop_event(lane_t *l)
{
    free(l->body);
    l->body = NULL;
    l->attempts = 0;
    l->last_error[0] = '\0';
}

static void lane_free(lane_t *l)
{
    lane_drop_event(l);
    curl_slist_free_all(l->headers);
    free(l);
}

/* FNV-1a of endpoint, a NUL, and stream. */
static size_t lane_hash(const char *endpoint, const char *stream)
{
    size_t h = 1469598103934665603ULL;

    for (const char *p = endpoint; *p; p++) {
        h = (h ^ (unsigned char) *p) * 1099511628211ULL;
    }
    h *= 1099511628211ULL;
    for (const char *p = stream; *p; p++) {
        h = (h ^ (unsigned char) *p) * 1099511628211ULL;
    }
    return h;
}

static lane_t *find_lane(const dispatcher_t *d, const char *endpoint,
                         const char *stream)
{
    if (d->nbuckets == 0) {
        return NULL;
    }
    lane_t *l = d->buckets[lane_hash(endpoint, stream) & (d->nbuckets - 1)];
    for (; l != NULL; l = l->next) {
        if (strcmp(l->endpoint, endpoint) == 0
            && strcmp(l->stream, stream) == 0)
        {
            return l;
        }
    }
    return NULL;
}

/* Takes l out of the lane table (before it is freed). */
static void unlink_lane(dispatcher_t *d, const lane_t *l)
{
    if (d->nbuckets == 0) {
        return;
    }
    lane_t **p = &d->buckets[lane_hash(l->endpoint, l->stream)
                             & (d->nbuckets - 1)];
    for (; *p != NULL; p = &(*p)->next) {
        if (*p == l) {
            *p = l->next;
            return;
        }
    }
}

/* Puts every lane in a new table of at least twice as many buckets;
 * false (the old table kept) when out of memory. */
static bool rebuild_buckets(dispatcher_t *d)
{
    size_t n = 1024;

    while (n < 2 * (size_t) d->nlanes) {
        n *= 2;
    }
    lane_t **table = calloc(n, sizeof(*table));
    if (table == NULL) {
        return false;
    }
    for (int i = 0; i < d->nlanes; i++) {
        lane_t *l = d->lanes[i];
        size_t b = lane_hash(l->endpoint, l->stream) & (n - 1);

        l->next = table[b];
        table[b] = l;
    }
    free(d->buckets);
    d->buckets = table;
    d->nbuckets = n;
    return true;
}

/* The tenant of booking_events:{tenant|resource}; false when not one. */
static bool stream_tenant(const char *key, char *tenant, size_t len)
{
    const char *open = strchr(key, '{');
    const char *bar = open != NULL ? strchr(open, '|') : NULL;

    if (bar == NULL || (size_t) (bar - open - 1) >= len) {
        return false;
    }
    memcpy(tenant, open + 1, (size_t) (bar - open - 1));
    tenant[bar - open - 1] = '\0';
    return true;
}

static void add_lane(dispatcher_t *d, const endpoint_t *ep,
                     const char *stream, const char *tenant)
{
    if (d->nlanes == d->lanes_cap) {
        int cap = d->lanes_cap > 0 ? d->lanes_cap * 2 : 64;
        lane_t **grown = realloc(d->lanes, sizeof(*grown) * (size_t) cap);

        if (grown == NULL) {
            return;
        }
        d->lanes = grown;
        d->lanes_cap = cap;
    }
    lane_t *l = calloc(1, sizeof(*l));

    if (l == NULL) {
        return;
    }
    snprintf(l->endpoint, sizeof(l->endpoint), "%s", ep->id);
    snprintf(l->tenant, sizeof(l->tenant), "%s", tenant);
    snprintf(l->stream, sizeof(l->stream), "%s", stream);
    snprintf(l->group, sizeof(l->group), "webhook:%s", ep->id);
    l->dirty = true;
    d->lanes[d->nlanes++] = l;
    if ((2 * (size_t) d->nlanes <= d->nbuckets || !rebuild_buckets(d))
        && d->nbuckets > 0)
    {
        size_t b = lane_hash(l->endpoint, l->stream) & (d->nbuckets - 1);

        l->next = d->buckets[b];
        d->buckets[b] = l;
    }
}

typedef struct scan_s {
    dispatcher_t *d;
    char **keys;
    int n;
    int cap;
} scan_t;

static bool collect_stream(const char **keys, int count, void *arg)
{
    scan_t *s = arg;

    for (int i = 0; i < count; i++) {
        if (s->n == s->cap) {
            int cap = s->cap > 0 ? s->cap * 2 : 64;
            char **grown = realloc(s->keys, sizeof(*grown) * (size_t) cap);

            if (grown == NULL) {
                return false;
            }
            s->keys = grown;
            s->cap = cap;
        }
        s->keys[s->n] = strdup(keys[i]);
        if (s->keys[s->n] == NULL) {
            return false;
        }
        s->n++;
    }
    return true;
}

/* The value after name in a flat [name, value, ...] array, or NULL. */
static json_t *field(json_t *flat, const char *name)
{
    for (size_t i = 0; i + 1 < json_array_size(flat); i += 2) {
        const char *k = json_string_value(json_array_get(flat, i));

        if (k != NULL && strcmp(k, name) == 0) {
            return json_array_get(flat, i + 1);
        }
    }
    return NULL;
}

/*
 * What one stream's groups say: lanes with something pending or not yet
 * read are marked to be read, and it all adds to the backlog.
 */
static void look_at_groups(dispatcher_t *d, const char *stream)
{
    const char *argv[] = { "XINFO", "GROUPS", stream };
    json_t *r = redis(d, stream, ARGC(argv), argv, true);
    size_t i;
    json_t *g;

    json_array_foreach(r, i, g) {
        const char *name = json_string_value(field(g, "name"));
        json_int_t pending = json_integer_value(field(g, "pending"));
        json_t *lag = field(g, "lag");

        if (name == NULL || strncmp(name, "webhook:", 8) != 0) {
            continue;
        }
        lane_t *l = find_lane(d, name + 8, stream);
        /* A lag Redis cannot tell (after some deletions) counts as some. */
        json_int_t behind = json_is_integer(lag) ? json_integer_value(lag)
                                                 : 1;
        d->backlog += pending + behind;
        if (l != NULL && pending + behind > 0) {
            l->dirty = true;
        }
    }
    json_decref(r);
}

/* Drops the lanes of removed endpoints (and their groups), once idle. */
static void drop_gone_lanes(dispatcher_t *d)
{
    int kept = 0;

    for (int i = 0; i < d->nlanes; i++) {
        lane_t *l = d->lanes[i];

        if (find_endpoint(d, l->endpoint) == NULL) {
            l->gone = true;
        }
        if (l->gone && l->easy == NULL) {
            const char *argv[] = { "XGROUP", "DESTROY", l->stream,
                                   l->group };

            json_decref(redis(d, l->stream, ARGC(argv), argv, true));
            unlink_lane(d, l);
            lane_free(l);
            continue;
        }
        d->lanes[kept++] = l;
    }
    d->nlanes = kept;
}

static void pump(dispatcher_t *d);

/* Finds every stream, makes the lanes each endpoint needs, writes the
 * backlog and the oldest undelivered event's age to the counters. */
static void scan_streams(dispatcher_t *d)
{
    scan_t s = { d, NULL, 0, 0 };

    drop_gone_lanes(d);
    if (store_scan(d->st, KEYS_EVENTS_PATTERN, collect_stream, &s)
        == STORE_OK)
    {
        d->backlog = 0;
        for (int i = 0; i < s.n; i++) {
            char tenant[TENANT_MAX];

            if (!stream_tenant(s.keys[i], tenant, sizeof(tenant))) {
                continue;
            }
            for (int e = 0; e < d->nendpoints; e++) {
                const endpoint_t *ep = &d->endpoints[e];

                if ((ep->tenant[0] == '\0' || strcmp(ep->tenant, tenant) == 0)
                    && find_lane(d, ep->id, s.keys[i]) == NULL)
                {
                    add_lane(d, ep, s.keys[i], tenant);
                }
            }
            look_at_groups(d, s.keys[i]);
            /* With many streams a look takes a while: the POSTs in
             * flight go on meanwhile. */
            if (i % 64 == 63) {
                pump(d);
            }
        }
        long long now = now_ms(), oldest_ms = 0;
        for (int i = 0; i < d->nlanes; i++) {
            if (d->lanes[i]->body != NULL
                && now - d->lanes[i]->entry_ms > oldest_ms)
            {
                oldest_ms = now - d->lanes[i]->entry_ms;
            }
        }
        char backlog[32], oldest[32], at[32];
        snprintf(backlog, sizeof(backlog), "%lld", d->backlog);
        snprintf(oldest, sizeof(oldest), "%lld", oldest_ms);
        snprintf(at, sizeof(at), "%lld", now);
        const char *argv[] = { "HSET", KEYS_WEBHOOK_STATS, "backlog",
                               backlog, "oldest_ms", oldest, "updated_ms",
                               at };
        json_decref(redis(d, KEYS_WEBHOOK_STATS, ARGC(argv), argv, true));
    }
    for (int i = 0; i < s.n; i++) {
        free(s.keys[i]);
    }
    free(s.keys);
}

/* Makes the lane's group, starting where its endpoint starts. */
static bool ensure_group(dispatcher_t *d, lane_t *l)
{
    const endpoint_t *ep = find_endpoint(d, l->endpoint);

    if (l->group_ready) {
        return true;
    }
    if (ep == NULL) {
        return false;
    }
    const char *argv[] = { "XGROUP", "CREATE", l->stream, l->group,
                           ep->start_id };
    json_t *r = redis(d, l->stream, ARGC(argv), argv, true);

    l->group_ready = r != NULL || redis_error_is(d, "BUSYGROUP");
    json_decref(r);
    return l->group_ready;
}

/*
 * Reads the lane's next event: first one already delivered to us but not
 * acknowledged (a POST cut short by a restart), then a new one.
 */
static void fetch(dispatcher_t *d, lane_t *l)
{
    static const char *const from[] = { "0", ">" };

    for (int pass = l->caught_up ? 1 : 0; pass < 2; pass++) {
        const char *argv[] = { "XREADGROUP", "GROUP", l->group, CONSUMER,
                               "COUNT", "1", "STREAMS", l->stream,
                               from[pass] };
        json_t *r = redis(d, l->stream, ARGC(argv), argv, pass == 0);

        if (r == NULL) {
            if (redis_error_is(d, "NOGROUP")) {
                l->group_ready = false;
            }
            l->caught_up = false;
            return;
        }
        /* [[stream, [[entry, [field, value, ...]]]]] or null. */
        json_t *entries = json_array_get(json_array_get(r, 0), 1);
        json_t *entry = json_array_get(entries, 0);
        const char *id = json_string_value(json_array_get(entry, 0));

        if (id == NULL) {
            json_decref(r);
            l->caught_up = true;
            continue;
        }
        const char *text = json_string_value(field(json_array_get(entry, 1),
                                                   "event"));
        snprintf(l->entry, sizeof(l->entry), "%s", id);
        l->entry_ms = strtoll(id, NULL, 10);
        if (text == NULL) {
            /* Trimmed away while pending, or not an event: nothing to
             * send, so it is acknowledged and the lane moves on. */
            const char *ack[] = { "XACK", l->stream, l->group, l->entry };

            log_error("%s: entry %s has no event; skipped", l->stream, id);
            json_decref(redis(d, l->stream, ARGC(ack), ack, true));
            json_decref(r);
            return;
        }
        l->body = strdup(text);
        json_t *event = json_loads(text, 0, NULL);
        const char *event_id = json_string_value(json_object_get(event,
                                                                 "id"));
        snprintf(l->event_id, sizeof(l->event_id), "%s",
                 event_id != NULL ? event_id : id);
        json_decref(event);
        json_decref(r);
        l->attempts = 0;
        l->next_ms = 0;
        return;
    }
    l->dirty = false;
}

/* ---- delivery --------------------------------------------------------- */

static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
    (void) ptr;
    (void) arg;
    return size * nmemb;
}

static void start_post(dispatcher_t *d, lane_t *l)
{
    const endpoint_t *ep = find_endpoint(d, l->endpoint);
    char sig[SIGNATURE_HEADER_MAX + 32], header[256];
    char sig_value[SIGNATURE_HEADER_MAX];

    if (ep == NULL || !signature_header(ep->secret, (long long) time(NULL),
                                        l->body, strlen(l->body), sig_value,
                                        sizeof(sig_value)))
    {
        return;
    }
    CURL *e = curl_easy_init();
    if (e == NULL) {
        return;
    }
    snprintf(sig, sizeof(sig), "Slotlock-Signature: %s", sig_value);
    struct curl_slist *h = curl_slist_append(NULL,
                                             "Content-Type: application/json");
    h = h != NULL ? curl_slist_append(h, sig) : NULL;
    snprintf(header, sizeof(header), "Slotlock-Event-Id: %s", l->event_id);
    h = h != NULL ? curl_slist_append(h, header) : NULL;
    /* No "Expect: 100-continue" round trip. */
    h = h != NULL ? curl_slist_append(h, "Expect:") : NULL;
    if (h == NULL) {
        curl_easy_cleanup(e);
        return;
    }
    curl_slist_free_all(l->headers);
    l->headers = h;
    curl_easy_setopt(e, CURLOPT_URL, ep->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, l->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long) strlen(l->body));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, l->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, d->cfg->webhook_timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "slotlock-events/" PACKAGE_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_PRIVATE, l);
    if (curl_multi_add_handle(d->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        return;
    }
    l->easy = e;
    l->attempts++;
}

/* Moves the lane's event to the dead-letter stream; true when it is
 * there (and may be acknowledged). */
static bool dead_letter(dispatcher_t *d, lane_t *l)
{
    char attempts[16];

    snprintf(attempts, sizeof(attempts), "%d", l->attempts);
    const char *argv[] = { "XADD", KEYS_DEADLETTER, "MAXLEN", "~",
                           DEADLETTER_MAXLEN, "*", "endpointId",
                           l->endpoint, "tenantId", l->tenant, "stream",
                           l->stream, "entry", l->entry, "eventId",
                           l->event_id, "attempts", attempts, "lastError",
                           l->last_error, "event", l->body };
    json_t *r = redis(d, KEYS_DEADLETTER, ARGC(argv), argv, false);

    json_decref(r);
    return r != NULL;
}

static void acknowledge(dispatcher_t *d, lane_t *l)
{
    const char *argv[] = { "XACK", l->stream, l->group, l->entry };
    json_t *r = redis(d, l->stream, ARGC(argv), argv, true);

    /* When the XACK is lost the event stays pending and is sent again:
     * at least once. */
    if (r == NULL) {
        l->caught_up = false;
    }
    json_decref(r);
    lane_drop_event(l);
    l->dirty = true;
}

static void post_done(dispatcher_t *d, lane_t *l, CURLcode result)
{
    long status = 0;

    curl_easy_getinfo(l->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(d->multi, l->easy);
    curl_easy_cleanup(l->easy);
    l->easy = NULL;
    if (l->gone) {
        return;
    }
    if (result == CURLE_OK && status >= 200 && status < 300) {
        count(d, "delivered");
        acknowledge(d, l);
        return;
    }
    if (result != CURLE_OK) {
        snprintf(l->last_error, sizeof(l->last_error), "%s",
                 curl_easy_strerror(result));
    } else {
        snprintf(l->last_error, sizeof(l->last_error), "HTTP %ld", status);
    }
    count(d, "failed_attempts");
    long long now = now_ms();
    long long deadline = l->entry_ms + d->cfg->webhook_retry_for_s * 1000;
    if (now >= deadline) {
        log_error("webhook %s: event %s dead-lettered after %d attempts "
                  "(%s)", l->endpoint, l->event_id, l->attempts,
                  l->last_error);
        if (dead_letter(d, l)) {
            count(d, "dead_lettered");
            acknowledge(d, l);
        } else {
            l->next_ms = now + 1000;
        }
        return;
    }
    long wait_ms = dispatch_backoff_ms(l->attempts,
                                       d->cfg->webhook_retry_max_s * 1000,
                                       (double) rand() / ((double) RAND_MAX
                                                          + 1.0));
    l->next_ms = now + wait_ms < deadline ? now + wait_ms : deadline;
    log_error("webhook %s: event %s attempt %d failed (%s); next in %lld ms",
              l->endpoint, l->event_id, l->attempts, l->last_error,
              l->next_ms - now);
}

static void collect_done(dispatcher_t *d)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
        lane_t *l = NULL;

        if (m->msg != CURLMSG_DONE) {
            continue;
        }
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &l);
        if (l != NULL) {
            post_done(d, l, m->data.result);
        }
    }
}

/* Lets libcurl move the POSTs in flight on, and handles the finished. */
static void pump(dispatcher_t *d)
{
    int running = 0;

    curl_multi_perform(d->multi, &running);
    collect_done(d);
}

/* Gives every idle lane its next step; the wait until one is due. */
static long step_lanes(dispatcher_t *d)
{
    long long now = now_ms();
    long wait_ms = POLL_MS;

    for (int i = 0; i < d->nlanes; i++) {
        lane_t *l = d->lanes[i];

        if (l->gone || l->easy != NULL || !ensure_group(d, l)) {
            continue;
        }
        if (l->body == NULL && l->dirty) {
            fetch(d, l);
        }
        if (l->body != NULL) {
            if (l->next_ms <= now) {
                start_post(d, l);
            } else if (l->next_ms - now < wait_ms) {
                wait_ms = (long) (l->next_ms - now);
            }
        }
    }
    return wait_ms;
}

bool dispatch_run(const config_t *cfg, volatile sig_atomic_t *stop)
{
    dispatcher_t d = { .cfg = cfg };
    long long next_reload = 0, next_scan = 0;

    srand((unsigned) now_ms());
    d.st = store_open(cfg, 0);
    d.multi = curl_multi_init();
    if (d.st == NULL || d.multi == NULL) {
        store_close(d.st);
        if (d.multi != NULL) {
            curl_multi_cleanup(d.multi);
        }
        return false;
    }
    while (!*stop) {
        long long now = now_ms();

        if (now >= next_reload) {
            reload_endpoints(&d);
            next_reload = now + RELOAD_MS;
        }
        if (now >= next_scan) {
            scan_streams(&d);
            next_scan = now + SCAN_MS;
        }
        long wait_ms = step_lanes(&d);
        pump(&d);
        curl_multi_poll(d.multi, NULL, 0, (int) (wait_ms > 0 ? wait_ms : 1),
                        NULL);
        pump(&d);
    }
    for (int i = 0; i < d.nlanes; i++) {
        if (d.lanes[i]->easy != NULL) {
            curl_multi_remove_handle(d.multi, d.lanes[i]->easy);
            curl_easy_cleanup(d.lanes[i]->easy);
        }
        lane_free(d.lanes[i]);
    }
    free(d.lanes);
    free(d.buckets);
    free(d.endpoints);
    curl_multi_cleanup(d.multi);
    store_close(d.st);
    return true;
}
