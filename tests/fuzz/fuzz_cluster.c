/*
 * fuzz_cluster.c - what a Redis Cluster node sends, through cluster.c.
 *
 * Input: a first byte that picks the step, then the bytes a node would
 * send. Even: a RESP reply, read by hiredis's own reader as it comes off
 * the socket, handed to cluster_load_slots as a CLUSTER SLOTS answer. Odd:
 * an error reply's text, handed to cluster_redirect. The map that results
 * must stay consistent: owners in range, per-node counts that add up, and
 * redirect targets that are real entries of the node table.
 */
#include <hiredis/hiredis.h>

#include "cluster.h"
#include "fuzz.h"

/* The map's promises to store.c. */
static void check_map(const cluster_t *cl)
{
    int counted[CLUSTER_NODES_MAX] = { 0 };

    FUZZ_CHECK(cl->count >= 1 && cl->count <= CLUSTER_NODES_MAX);
    for (int s = 0; s < KEYSLOT_COUNT; s++) {
        FUZZ_CHECK(cl->owner[s] >= -1 && cl->owner[s] < cl->count);
        if (cl->owner[s] >= 0) {
            counted[cl->owner[s]]++;
        }
    }
    for (int i = 0; i < cl->count; i++) {
        FUZZ_CHECK(counted[i] == cl->node[i].slots);
        FUZZ_CHECK(strlen(cl->node[i].host) < CLUSTER_HOST_MAX);
        FUZZ_CHECK(cl->node[i].port >= 1 && cl->node[i].port <= 65535);
        FUZZ_CHECK(cl->node[i].ctx == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cluster_t cl;
    config_t cfg;

    if (size == 0) {
        return 0;
    }
    memset(&cfg, 0, sizeof(cfg));
    strcpy(cfg.redis_cluster_nodes, "127.0.0.1:7000");
    cluster_init(&cl, &cfg);

    const char *bytes = (const char *) data + 1;
    size_t len = size - 1;
    if ((data[0] & 1) == 0) {
        redisReader *reader = redisReaderCreate();
        void *reply = NULL;

        FUZZ_CHECK(reader != NULL);
        if (redisReaderFeed(reader, bytes, len) == REDIS_OK
            && redisReaderGetReply(reader, &reply) == REDIS_OK
            && reply != NULL)
        {
            short before[KEYSLOT_COUNT];

            memcpy(before, cl.owner, sizeof(before));
            bool loaded = cluster_load_slots(&cl, reply);
            /* Refused: the map is as it was. Taken: some slot is served. */
            if (!loaded) {
                FUZZ_CHECK(memcmp(before, cl.owner, sizeof(before)) == 0);
            } else {
                int served = 0;
                for (int s = 0; s < KEYSLOT_COUNT; s++) {
                    served += cl.owner[s] >= 0;
                }
                FUZZ_CHECK(served > 0);
            }
            freeReplyObject(reply);
        }
        redisReaderFree(reader);
    } else {
        /* An error reply's text is a C string. */
        char *text = strndup(bytes, len);
        unsigned slot;
        int node;

        FUZZ_CHECK(text != NULL);
        cluster_redirect_t kind = cluster_redirect(&cl, text, &slot, &node);
        if (kind != CLUSTER_NO_REDIRECT) {
            FUZZ_CHECK(slot < KEYSLOT_COUNT);
            FUZZ_CHECK(node >= 0 && node < cl.count);
            cluster_set_owner(&cl, slot, node);
            FUZZ_CHECK(cl.owner[slot] == node);
        }
        free(text);
    }
    check_map(&cl);
    return 0;
}
