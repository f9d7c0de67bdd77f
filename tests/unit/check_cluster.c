/*
 * check_cluster.c - the Redis Cluster hash slot of a key (keyslot.c) and
 * the slot map and redirections (cluster.c).
 *
 * The slots are checked against answers Redis itself gave to CLUSTER
 * KEYSLOT, kept in tests/unit/keyslot_cases.txt ("<slot> <key>" per line).
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#include "cluster.h"
#include "keyslot.h"
#include "unit.h"

START_TEST(crc16_is_xmodem)
{
    /* The check value of CRC-16/XMODEM, as in Redis's crc16.c. */
    ck_assert_uint_eq(keyslot_crc16("123456789", 9), 0x31c3);
    ck_assert_uint_eq(keyslot_crc16("", 0), 0);
}
END_TEST

START_TEST(hash_tags_follow_the_cluster_spec)
{
    /* The spec's own examples: the first {...} with something inside. */
    ck_assert_uint_eq(keyslot("{user1000}.following", 20),
                      keyslot("user1000", 8));
    ck_assert_uint_eq(keyslot("foo{}{bar}", 10), keyslot("foo{}{bar}", 10));
    ck_assert_uint_ne(keyslot("foo{}{bar}", 10), keyslot("bar", 3));
    ck_assert_uint_eq(keyslot("foo{{bar}}zap", 13), keyslot("{bar", 4));
    ck_assert_uint_eq(keyslot("foo{bar}{zap}", 13), keyslot("bar", 3));
    /* A lock and its indexes share the {tenant|resource} slot. */
    ck_assert_uint_eq(keyslot("booking_lock:{t|r}:2025-03-10:14:00", 35),
                      keyslot("booking_booked:{t|r}:2025-03-10", 31));
}
END_TEST

START_TEST(slots_match_what_redis_answered)
{
    const char *dir = getenv("SLOTLOCK_SRCDIR");
    char path[4096], line[1024];
    int checked = 0;

    snprintf(path, sizeof(path), "%s/tests/unit/keyslot_cases.txt",
             dir ? dir : ".");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned expected;
        int at;

        line[strcspn(line, "\n")] = '\0';
        ck_assert_msg(sscanf(line, "%u %n", &expected, &at) == 1,
                      "bad line: %s", line);
        const char *key = line + at;
        ck_assert_msg(keyslot(key, strlen(key)) == expected,
                      "%s: %u, Redis said %u", key,
                      keyslot(key, strlen(key)), expected);
        checked++;
    }
    fclose(f);
    ck_assert_int_ge(checked, 200);
}
END_TEST

/* Any slot can be reached by choosing five hex digits of a key. */
START_TEST(ids_can_be_steered_to_any_slot)
{
    static const char base[] =
        "booking_lockid:3b93bb47-8eab-4f8d-927f-c2f151ffae01";
    size_t len = strlen(base), at = len - KEYSLOT_STEER_DIGITS;
    char key[sizeof(base)];

    for (unsigned slot = 0; slot < KEYSLOT_COUNT; slot++) {
        for (unsigned pick = 0; pick < 3; pick++) {
            memcpy(key, base, sizeof(base));
            ck_assert_msg(keyslot_steer(key, len, at, slot, pick * 7919),
                          "no digits for slot %u", slot);
            ck_assert_uint_eq(keyslot(key, len), slot);
            /* Only the five digits changed, and they are lowercase hex. */
            ck_assert_int_eq(memcmp(key, base, at), 0);
            ck_assert_uint_eq(strspn(key + at, "0123456789abcdef"),
                              KEYSLOT_STEER_DIGITS);
        }
    }
    /* A hash tag would be hashed instead of the digits: refused. */
    char tagged[] = "booking_lock:{t|r}:00000";
    ck_assert(!keyslot_steer(tagged, strlen(tagged), strlen(tagged) - 5, 1,
                             0));
    ck_assert_str_eq(tagged, "booking_lock:{t|r}:00000");
    ck_assert(!keyslot_steer(key, len, len - 4, 1, 0));
    ck_assert(!keyslot_steer(key, len, at, KEYSLOT_COUNT, 0));
}
END_TEST

/* Parses one RESP reply, the way hiredis reads it off a socket. */
static redisReply *resp(const char *text)
{
    redisReader *reader = redisReaderCreate();
    void *reply = NULL;

    ck_assert(redisReaderFeed(reader, text, strlen(text)) == REDIS_OK);
    ck_assert(redisReaderGetReply(reader, &reply) == REDIS_OK);
    ck_assert_ptr_nonnull(reply);
    redisReaderFree(reader);
    return reply;
}

static config_t seeds(const char *list)
{
    config_t cfg;

    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.redis_cluster_nodes, sizeof(cfg.redis_cluster_nodes), "%s",
             list);
    return cfg;
}

START_TEST(seeds_are_known_before_any_map)
{
    config_t cfg = seeds("10.0.0.1:7000,10.0.0.2:7001");
    static cluster_t cl;

    cluster_init(&cl, &cfg);
    ck_assert_int_eq(cl.count, 2);
    ck_assert_str_eq(cl.node[1].host, "10.0.0.2");
    ck_assert_int_eq(cl.node[1].port, 7001);
    ck_assert_int_eq(cl.owner[0], -1);
    ck_assert_int_eq(cl.owner[KEYSLOT_COUNT - 1], -1);
}
END_TEST

START_TEST(cluster_slots_fills_the_map)
{
    config_t cfg = seeds("127.0.0.1:7000");
    static cluster_t cl;
    /* Three primaries (7000 is also the seed), one of them with a replica
     * that must not be taken for the owner. */
    redisReply *r = resp(
        "*3\r\n"
        "*3\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n"
        "*4\r\n:5461\r\n:10922\r\n*2\r\n$9\r\n127.0.0.1\r\n:7001\r\n"
        "*2\r\n$9\r\n127.0.0.1\r\n:7004\r\n"
        "*3\r\n:10923\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:7002\r\n");

    cluster_init(&cl, &cfg);
    ck_assert(cluster_load_slots(&cl, r));
    freeReplyObject(r);
    ck_assert_int_eq(cl.count, 3);
    ck_assert_int_eq(cl.node[cl.owner[0]].port, 7000);
    ck_assert_int_eq(cl.node[cl.owner[5461]].port, 7001);
    ck_assert_int_eq(cl.node[cl.owner[10922]].port, 7001);
    ck_assert_int_eq(cl.node[cl.owner[16383]].port, 7002);
    ck_assert_int_eq(cl.node[0].slots, 5461);
    ck_assert_int_eq(cl.node[1].slots, 5462);
    ck_assert_int_eq(cl.node[2].slots, 5461);
}
END_TEST

START_TEST(a_broken_slot_map_is_ignored)
{
    config_t cfg = seeds("127.0.0.1:7000");
    static cluster_t cl;
    static const char *const bad[] = {
        "-ERR This instance has cluster support disabled\r\n",
        "*0\r\n",                                       /* no slot at all */
        "*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\na\r\n:1\r\n", /* past end */
        "*1\r\n*3\r\n:9\r\n:3\r\n*2\r\n$1\r\na\r\n:1\r\n",     /* backwards */
        "*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n$1\r\na\r\n:0\r\n",     /* port 0 */
        "*1\r\n*2\r\n:0\r\n:3\r\n",                     /* no address */
    };

    cluster_init(&cl, &cfg);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        redisReply *r = resp(bad[i]);

        ck_assert_msg(!cluster_load_slots(&cl, r), "accepted case %zu", i);
        freeReplyObject(r);
        ck_assert_int_eq(cl.owner[0], -1);
    }
}
END_TEST

START_TEST(redirections_are_read)
{
    config_t cfg = seeds("127.0.0.1:7000");
    static cluster_t cl;
    unsigned slot = 0;
    int node = -1;

    cluster_init(&cl, &cfg);
    ck_assert_int_eq(cluster_redirect(&cl, "MOVED 3999 127.0.0.1:7001",
                                      &slot, &node), CLUSTER_MOVED);
    ck_assert_uint_eq(slot, 3999);
    ck_assert_str_eq(cl.node[node].host, "127.0.0.1");
    ck_assert_int_eq(cl.node[node].port, 7001);
    /* The map is the caller's to update. */
    ck_assert_int_eq(cl.owner[3999], -1);
    cluster_set_owner(&cl, slot, node);
    ck_assert_int_eq(cl.owner[3999], node);
    ck_assert_int_eq(cl.node[node].slots, 1);

    ck_assert_int_eq(cluster_redirect(&cl, "ASK 12 ::1:7000", &slot, &node),
                     CLUSTER_ASK);
    ck_assert_uint_eq(slot, 12);
    ck_assert_str_eq(cl.node[node].host, "::1");

    /* Known addresses are not added twice. */
    int before = cl.count;
    ck_assert_int_eq(cluster_redirect(&cl, "MOVED 1 127.0.0.1:7001", &slot,
                                      &node), CLUSTER_MOVED);
    ck_assert_int_eq(cl.count, before);
}
END_TEST

START_TEST(other_errors_are_not_redirections)
{
    config_t cfg = seeds("127.0.0.1:7000");
    static cluster_t cl;
    static const char *const errors[] = {
        "TRYAGAIN Multiple keys request during rehashing of slot",
        "CLUSTERDOWN The cluster is down", "MOVED", "MOVED 16384 a:1",
        "MOVED x a:1", "ASK 1 a", "ASK 1 :7000", "ASK 1 a:0", "ASK 1 a:99999",
        "MOVED 1 a:7x", "moved 1 a:1"
    };
    unsigned slot;
    int node;

    cluster_init(&cl, &cfg);
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        ck_assert_msg(cluster_redirect(&cl, errors[i], &slot, &node)
                      == CLUSTER_NO_REDIRECT, "%s", errors[i]);
    }
    ck_assert_int_eq(cl.count, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, crc16_is_xmodem);
    tcase_add_test(tc, hash_tags_follow_the_cluster_spec);
    tcase_add_test(tc, slots_match_what_redis_answered);
    tcase_add_test(tc, ids_can_be_steered_to_any_slot);
    tcase_add_test(tc, seeds_are_known_before_any_map);
    tcase_add_test(tc, cluster_slots_fills_the_map);
    tcase_add_test(tc, a_broken_slot_map_is_ignored);
    tcase_add_test(tc, redirections_are_read);
    tcase_add_test(tc, other_errors_are_not_redirections);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
