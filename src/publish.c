/*
 * publish.c - the grid publisher. See publish.h.
 *
 * One thread with its own store and one libcurl handle (kept alive to
 * nginx). Each round it reads every known stream's new entries through
 * the group "grid" (non-blocking XREADGROUP, a few at a time), POSTs each
 * to nginx and acknowledges it; it looks for new streams (SCAN on every
 * primary) once a second. An entry whose POST failed stays pending and
 * its stream is read again from its pending entries after a wait, so
 * every channel gets its changes in order, at least once. A message is a
 * state ("held", "free", "booked"), so one sent twice changes nothing a
 * page shows.
 */
#include "publish.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "keys.h"
#include "log.h"
#include "store.h"

#define CONSUMER "slotlock-events"
#define SCAN_MS 1000            /* new streams looked for this often */
#define ROUND_MS 50             /* the wait between two idle rounds */
#define RETRY_MS 1000           /* a failed POST is tried again after */
/* A stream with nothing new for IDLE_AFTER_MS is read every IDLE_POLL_MS
 * instead of every round: a quiet resource costs Redis a few commands a
 * second, and its next change still reaches the pages well within 1 s. */
#define IDLE_AFTER_MS 10000LL
#define IDLE_POLL_MS 400LL
#define BATCH "20"              /* entries read per stream and round */
#define POST_TIMEOUT_MS 2000L
/* A stream first seen gets a group that starts this far back, so that
 * the first events of a new resource (written before the scan found its
 * stream) are sent, and a restart after a long stop does not replay the
 * whole history. */
#define START_BACK_MS 60000LL

typedef struct stream_s {
    char key[KEYS_MAX];
    bool group_ready;
    bool pending;               /* read the unacknowledged entries first */
    long long retry_ms;         /* nothing before this */
    long long last_data_ms;     /* when it last had something */
} stream_t;

struct publisher_s {
    const config_t *cfg;
    volatile sig_atomic_t *stop;
    pthread_t thread;
    store_t *st;
    CURL *curl;
    struct curl_slist *headers;
    stream_t *streams;
    int nstreams;
    int cap;
    long long logged_ms;        /* the last failure logged */
    unsigned long failures;     /* failed POSTs since then */
};

static long long now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (long long) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- the message ------------------------------------------------------ */

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" as epoch ms; false when it is not one. */
static bool iso_ms(const char *s, long long *out)
{
    int y, mo, d, h, mi, sec, ms;
    char z;

    if (s == NULL || strlen(s) != 24
        || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi,
                  &sec, &ms, &z) != 8 || z != 'Z' || mo < 1 || mo > 12
        || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    {
        return false;
    }
    *out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL
           + sec * 1000LL + ms;
    return true;
}

/* An event's expiresAt (epoch ms, or an ISO time) as epoch ms. */
static bool expires_ms_of(json_t *v, long long *out)
{
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = (long long) json_integer_value(v);
        return true;
    }
    if (json_is_real(v) && json_real_value(v) > 0
        && json_real_value(v) < 1e15)
    {
        *out = (long long) json_real_value(v);
        return true;
    }
    return iso_ms(json_string_value(v), out);
}

/* What the grid shows after a change of this type; NULL: not shown. */
static const char *status_after(const char *type)
{
    static const struct {
        const char *type;
        const char *status;
    } map[] = {
        { "hold.acquired", "held" },
        { "hold.refreshed", "held" },
        { "hold.checkout", "held" },
        { "hold.released", "free" },
        { "hold.force_released", "free" },
        { "hold.expired", "free" },
        { "booking.created", "booked" },
        { "booking.cancelled", "free" },
    };

    for (size_t i = 0; type != NULL && i < sizeof(map) / sizeof(map[0]);
         i++) {
        if (strcmp(map[i].type, type) == 0) {
            return map[i].status;
        }
    }
    return NULL;
}

static bool safe_part(const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (*s == '/' || (unsigned char) *s < 0x21
            || (unsigned char) *s > 0x7e)
        {
            return false;
        }
    }
    return true;
}

char *publish_message(const char *event_json, char *channel,
                      size_t channel_len)
{
    json_t *ev = json_loads(event_json, 0, NULL);
    char *text = NULL;

    if (!json_is_object(ev)) {
        json_decref(ev);
        return NULL;
    }
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *tenant = json_string_value(json_object_get(ev, "tenantId"));
    const char *resource = json_string_value(json_object_get(ev,
                                                             "resourceId"));
    const char *date = json_string_value(json_object_get(ev, "date"));
    const char *start = json_string_value(json_object_get(ev, "startTime"));
    json_t *duration = json_object_get(ev, "duration");
    const char *created = json_string_value(json_object_get(ev,
                                                            "createdAt"));
    json_t *expires = json_object_get(ev, "expiresAt");
    const char *status = status_after(type);
    int n = -1;

    if (status != NULL && safe_part(tenant) && safe_part(resource)
        && safe_part(date) && start != NULL && json_is_integer(duration))
    {
        n = snprintf(channel, channel_len, "%s/%s/%s", tenant, resource,
                     date);
    }
    if (n > 0 && (size_t) n < channel_len) {
        json_t *msg = json_pack("{s:s, s:s, s:s, s:s, s:O}", "type", type,
                                "status", status, "date", date,
                                "startTime", start, "duration", duration);
        long long created_ms, expires_ms;

        if (msg != NULL && created != NULL) {
            json_object_set_new(msg, "at", json_string(created));
        }
        /* A hold's end, as status gives it: ms left when the change was
         * made, and the end in epoch ms (the event's own form; an ISO
         * time is read too). */
        if (msg != NULL && strcmp(status, "held") == 0
            && expires_ms_of(expires, &expires_ms)
            && iso_ms(created, &created_ms))
        {
            json_object_set_new(msg, "expiresIn",
                                json_integer(expires_ms > created_ms
                                             ? expires_ms - created_ms : 0));
            json_object_set_new(msg, "expiresAt", json_integer(expires_ms));
        }
        text = msg != NULL ? json_dumps(msg, JSON_COMPACT) : NULL;
        json_decref(msg);
    }
    json_decref(ev);
    return text;
}

/* ---- Redis ------------------------------------------------------------ */

static json_t *redis(publisher_t *p, const char *key, int argc,
                     const char *const *argv, bool resend)
{
    json_t *out = NULL;

    if (store_command(p->st, key, argc, argv, resend, &out) != STORE_OK) {
        return NULL;
    }
    return out;
}

static bool error_is(publisher_t *p, const char *prefix)
{
    return strncmp(store_error(p->st), prefix, strlen(prefix)) == 0;
}

static bool known(const publisher_t *p, const char *key)
{
    for (int i = 0; i < p->nstreams; i++) {
        if (strcmp(p->streams[i].key, key) == 0) {
            return true;
        }
    }
    return false;
}

static bool add_streams(const char **keys, int count, void *arg)
{
    publisher_t *p = arg;

    for (int i = 0; i < count; i++) {
        if (strlen(keys[i]) >= KEYS_MAX || known(p, keys[i])) {
            continue;
        }
        if (p->nstreams == p->cap) {
            int cap = p->cap > 0 ? p->cap * 2 : 64;
            stream_t *grown = realloc(p->streams,
                                      sizeof(*grown) * (size_t) cap);

            if (grown == NULL) {
                return false;
            }
            p->streams = grown;
            p->cap = cap;
        }
        stream_t *s = &p->streams[p->nstreams++];

        memset(s, 0, sizeof(*s));
        strcpy(s->key, keys[i]);
        s->pending = true;
        s->last_data_ms = now_ms();
    }
    return true;
}

static bool ensure_group(publisher_t *p, stream_t *s)
{
    char start[32];

    if (s->group_ready) {
        return true;
    }
    snprintf(start, sizeof(start), "%lld-0", now_ms() - START_BACK_MS);
    const char *argv[] = { "XGROUP", "CREATE", s->key, PUBLISH_GROUP,
                           start };
    json_t *r = redis(p, s->key, 5, argv, true);

    s->group_ready = r != NULL || error_is(p, "BUSYGROUP");
    json_decref(r);
    return s->group_ready;
}

/* ---- nginx ------------------------------------------------------------ */

static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
    (void) ptr;
    (void) arg;
    return size * nmemb;
}

/* POSTs one message to its channel; true when nchan took it (2xx). */
static bool post(publisher_t *p, const char *channel, const char *body)
{
    char header[PUBLISH_CHANNEL_MAX + 32];
    long status = 0;

    snprintf(header, sizeof(header), "X-Slotlock-Channel: %s", channel);
    struct curl_slist *h = curl_slist_append(NULL,
                                             "Content-Type: application/json");
    h = h != NULL ? curl_slist_append(h, header) : NULL;
    h = h != NULL ? curl_slist_append(h, "Expect:") : NULL;
    if (h == NULL) {
        curl_slist_free_all(h);
        return false;
    }
    curl_slist_free_all(p->headers);
    p->headers = h;
    curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
    CURLcode rc = curl_easy_perform(p->curl);
    curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status < 200 || status >= 300) {
        long long now = now_ms();

        /* While nginx is away every stream fails in turn: one line a
         * second says so. */
        p->failures++;
        if (now - p->logged_ms >= 1000) {
            log_error("grid: publishing to %s failed (%s; %lu failures)",
                      p->cfg->grid_publish_url,
                      rc != CURLE_OK ? curl_easy_strerror(rc) : "not 2xx",
                      p->failures);
            p->logged_ms = now;
            p->failures = 0;
        }
        return false;
    }
    return true;
}

/* ---- the loop --------------------------------------------------------- */

static void ack(publisher_t *p, stream_t *s, const char *entry)
{
    const char *argv[] = { "XACK", s->key, PUBLISH_GROUP, entry };

    /* A lost XACK leaves the entry pending: it is sent again. */
    json_decref(redis(p, s->key, 4, argv, true));
}

/* Sends what one stream has; true when it read something. */
static bool pump(publisher_t *p, stream_t *s, long long now)
{
    if (s->retry_ms > now) {
        return false;
    }
    if (!ensure_group(p, s)) {
        /* Redis is away, or the stream is gone (trimmed to nothing and
         * removed): try again later, not every round. */
        s->retry_ms = now + RETRY_MS;
        return false;
    }
    const char *argv[] = { "XREADGROUP", "GROUP", PUBLISH_GROUP, CONSUMER,
                           "COUNT", BATCH, "STREAMS", s->key,
                           s->pending ? "0" : ">" };
    json_t *r = redis(p, s->key, 9, argv, s->pending);

    if (r == NULL) {
        if (error_is(p, "NOGROUP")) {
            s->group_ready = false;
        }
        s->retry_ms = now + RETRY_MS;
        return false;
    }
    /* [[stream, [[entry, [field, value, ...]], ...]]] or null. */
    json_t *entries = json_array_get(json_array_get(r, 0), 1);
    size_t n = json_array_size(entries);
    bool failed = false;

    for (size_t i = 0; i < n && !failed && !*p->stop; i++) {
        json_t *entry = json_array_get(entries, i);
        const char *id = json_string_value(json_array_get(entry, 0));
        json_t *fields = json_array_get(entry, 1);
        const char *text = NULL;
        char channel[PUBLISH_CHANNEL_MAX];

        for (size_t f = 0; f + 1 < json_array_size(fields); f += 2) {
            const char *name = json_string_value(json_array_get(fields, f));

            if (name != NULL && strcmp(name, "event") == 0) {
                text = json_string_value(json_array_get(fields, f + 1));
            }
        }
        if (id == NULL) {
            continue;
        }
        char *msg = text != NULL ? publish_message(text, channel,
                                                   sizeof(channel))
                                 : NULL;
        /* Not an event the grid shows (or trimmed away while pending):
         * acknowledged, nothing to send. */
        if (msg == NULL || post(p, channel, msg)) {
            ack(p, s, id);
        } else {
            failed = true;
        }
        free(msg);
    }
    json_decref(r);
    if (failed) {
        s->pending = true;
        s->retry_ms = now + RETRY_MS;
        return false;
    }
    if (n > 0) {
        s->last_data_ms = now;
    } else if (now - s->last_data_ms > IDLE_AFTER_MS) {
        s->retry_ms = now + IDLE_POLL_MS;
    }
    if (s->pending && n == 0) {
        s->pending = false;     /* nothing left over: new entries next */
    }
    return n > 0;
}

static void *run(void *arg)
{
    publisher_t *p = arg;
    long long next_scan = 0;

    while (!*p->stop) {
        long long now = now_ms();
        bool busy = false;

        if (now >= next_scan) {
            store_scan(p->st, KEYS_EVENTS_PATTERN, add_streams, p);
            next_scan = now + SCAN_MS;
        }
        for (int i = 0; i < p->nstreams && !*p->stop; i++) {
            busy |= pump(p, &p->streams[i], now);
        }
        if (!busy) {
            struct timespec ts = { 0, ROUND_MS * 1000000L };

            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static void publisher_free(publisher_t *p)
{
    if (p == NULL) {
        return;
    }
    if (p->curl != NULL) {
        curl_easy_cleanup(p->curl);
    }
    curl_slist_free_all(p->headers);
    store_close(p->st);
    free(p->streams);
    free(p);
}

publisher_t *publish_start(const config_t *cfg, volatile sig_atomic_t *stop)
{
    if (cfg->grid_publish_url[0] == '\0') {
        return NULL;
    }
    publisher_t *p = calloc(1, sizeof(*p));

    if (p == NULL) {
        return NULL;
    }
    p->cfg = cfg;
    p->stop = stop;
    p->st = store_open(cfg, 1);
    p->curl = curl_easy_init();
    if (p->st == NULL || p->curl == NULL) {
        log_error("grid: cannot start the publisher (out of memory)");
        publisher_free(p);
        return NULL;
    }
    /* unix:/path: nginx's publisher server on a Unix socket. */
    if (strncmp(cfg->grid_publish_url, "unix:", 5) == 0) {
        curl_easy_setopt(p->curl, CURLOPT_UNIX_SOCKET_PATH,
                         cfg->grid_publish_url + 5);
        curl_easy_setopt(p->curl, CURLOPT_URL,
                         "http://localhost" PUBLISH_PATH);
    } else {
        curl_easy_setopt(p->curl, CURLOPT_URL, cfg->grid_publish_url);
    }
    curl_easy_setopt(p->curl, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(p->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, POST_TIMEOUT_MS);
    curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(p->curl, CURLOPT_USERAGENT,
                     "slotlock-events/" PACKAGE_VERSION);
    curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, discard);
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        log_error("grid: cannot start the publisher's thread");
        publisher_free(p);
        return NULL;
    }
    log_info("grid: publishing every change to %s", cfg->grid_publish_url);
    return p;
}

void publish_join(publisher_t *p)
{
    if (p == NULL) {
        return;
    }
    pthread_join(p->thread, NULL);
    publisher_free(p);
}
