/*
 * fuzz_config.c - libFuzzer target for the config file (src/config.c's
 * config_load, what `--config FILE` reads).
 *
 * The input is written as the file (in a directory of its own under
 * /dev/shm, else /tmp) and loaded over the defaults.  Checked: the load
 * either fails (after saying why on stderr, silenced here) or leaves
 * every setting in its range: ports, binds and users within their
 * tables, each user a non-empty name without ':' and a password, the
 * data directory and the addresses non-NULL strings.  A file that loads
 * loads again to the same settings (the loader keeps no state that
 * changes what the next file means).
 *
 * config.c is included as source (not linked from the Makefile's fuzz
 * archive) so that its kept strings can be freed between inputs: they
 * live as long as the process in the broker.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/config.c"

static char path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/dev/shm/warren-fuzz-config-XXXXXX", alt[] = "/tmp/warren-fuzz-config-XXXXXX";
    const char *d = mkdtemp(dir);

    (void)argc, (void)argv;
    if (!d)
        d = mkdtemp(alt);
    assert(d);
    snprintf(path, sizeof path, "%s/warren.conf", d);
    /* config.c's messages go through the stdio stream, the sanitizers' reports straight to fd 2 */
    stderr = fopen("/dev/null", "w");
    return 0;
}

static void release(void)
{
    while (nkept)
        free(kept[--nkept]);
}

static void check(const config *c)
{
    int i;

    assert(c->port >= 1 && c->port <= 65535);
    assert(c->mgmt_port >= 0 && c->mgmt_port <= 65535 && c->prom_port >= 0 && c->prom_port <= 65535);
    assert(c->nbinds >= 0 && c->nbinds <= MAX_BINDS && c->nmgmt_binds >= 0 && c->nmgmt_binds <= MAX_BINDS);
    assert(c->nprom_binds >= 0 && c->nprom_binds <= MAX_BINDS);
    for (i = 0; i < c->nbinds; i++)
        assert(c->binds[i] && strlen(c->binds[i]) < 1024);
    for (i = 0; i < c->nmgmt_binds; i++)
        assert(c->mgmt_binds[i]);
    for (i = 0; i < c->nprom_binds; i++)
        assert(c->prom_binds[i]);
    assert(c->data_dir);
    assert(c->nusers >= 1 && c->nusers <= 16);
    for (i = 0; i < c->nusers; i++) {
        assert(c->users[i][0] && c->users[i][0][0] && !strchr(c->users[i][0], ':'));
        assert(c->users[i][1]);
    }
    assert(c->log_level >= 0);
}

static bool same(const config *a, const config *b)
{
    int i;

    if (a->port != b->port || strcmp(a->data_dir, b->data_dir) || a->log_level != b->log_level ||
        a->channel_max != b->channel_max || a->frame_max != b->frame_max || a->heartbeat != b->heartbeat ||
        a->max_message_size != b->max_message_size || a->disk_free_limit != b->disk_free_limit ||
        a->memory_limit != b->memory_limit || a->paging_threshold != b->paging_threshold ||
        a->nusers != b->nusers || a->guest_remote != b->guest_remote || a->mgmt_port != b->mgmt_port ||
        a->prom_port != b->prom_port || a->nbinds != b->nbinds)
        return false;
    for (i = 0; i < a->nusers; i++)
        if (strcmp(a->users[i][0], b->users[i][0]) || strcmp(a->users[i][1], b->users[i][1]))
            return false;
    for (i = 0; i < a->nbinds; i++)
        if (strcmp(a->binds[i], b->binds[i]))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    config a, b;
    FILE *f;
    int rc;

    if (size > 1 << 16)
        return 0;
    f = fopen(path, "w");
    assert(f);
    assert(fwrite(data, 1, size, f) == size);
    assert(fclose(f) == 0);

    config_defaults(&a);
    rc = config_load(&a, path);
    if (rc == 0) {
        config_finish(&a);
        check(&a);
        config_defaults(&b);
        assert(config_load(&b, path) == 0);
        config_finish(&b);
        assert(same(&a, &b));
    } else {
        assert(rc == -1);
    }
    release();
    return 0;
}
