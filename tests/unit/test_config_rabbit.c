/*
 * test_config_rabbit.c - rabbitmq.conf's keys in a warren config file
 * (config_rabbit.c): each key lands in the setting it means, RabbitMQ's
 * units and special values are read as RabbitMQ reads them, keys warren
 * has no use for are reported and ignored, and keys warren cannot honour
 * stop the start.  Files are written to a temporary directory and read
 * with config_load, as main.c does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"

static char path[64];

/* write text to a fresh file and load it over the defaults */
static int load(config *cfg, const char *text)
{
    int fd;
    strcpy(path, "/tmp/warren-rabbit-conf-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    config_defaults(cfg);
    int rc = config_load(cfg, path);
    unlink(path);
    return rc;
}

static uint64_t ram(void)
{
    return (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGE_SIZE);
}

static void test_keys_land_in_their_settings(void **state)
{
    config cfg;
    (void)state;
    assert_int_equal(load(&cfg,
                          "# an operator's rabbitmq.conf\n"
                          "listeners.tcp.default = 127.0.0.1:5673\n"
                          "heartbeat = 30\n"
                          "frame_max = 65536\n"
                          "channel_max = 100\n"
                          "vm_memory_high_watermark.absolute = 2GB\n"
                          "disk_free_limit.absolute = 500MiB\n"
                          "default_user = admin\n"
                          "default_pass = se:cret\n"
                          "loopback_users.guest = false\n"
                          "management.tcp.port = 15673\n"
                          "management.tcp.ip = 0.0.0.0\n"
                          "prometheus.tcp.port = 0\n"
                          "log.console.level = warning\n"
                          "log.console.formatter = json\n"
                          "max_message_size=1048576\n"),
                     0);
    assert_int_equal(cfg.port, 5673);
    assert_int_equal(cfg.nbinds, 1);
    assert_string_equal(cfg.binds[0], "127.0.0.1");
    assert_int_equal(cfg.heartbeat, 30);
    assert_int_equal(cfg.frame_max, 65536);
    assert_int_equal(cfg.channel_max, 100);
    assert_true(cfg.memory_limit == 2000000000ull); /* GB: powers of 1000 */
    assert_true(cfg.disk_free_limit == 500ull << 20); /* MiB: of 1024 */
    assert_int_equal(cfg.nusers, 1);
    assert_string_equal(cfg.users[0][0], "admin");
    assert_string_equal(cfg.users[0][1], "se:cret");
    assert_true(cfg.guest_remote);
    assert_int_equal(cfg.mgmt_port, 15673);
    assert_int_equal(cfg.nmgmt_binds, 1);
    assert_string_equal(cfg.mgmt_binds[0], "0.0.0.0");
    assert_int_equal(cfg.prom_port, 0);
    assert_int_equal(cfg.log_level, LOG_WARN);
    assert_int_equal(cfg.log_format, LOG_FORMAT_JSON);
    assert_true(cfg.max_message_size == 1048576);
}

/* cowboy's timeouts of the management listener (doc/limits.md) */
static void test_management_timeouts(void **state)
{
    config cfg;
    (void)state;
    assert_int_equal(load(&cfg, "management.tcp.request_timeout = 2500\nmanagement.tcp.idle_timeout = 90000\n"), 0);
    assert_int_equal(cfg.http_request_timeout, 2500);
    assert_int_equal(cfg.http_idle_timeout, 90000);
    assert_int_equal(load(&cfg, "management.ssl.request_timeout = 7000\n"), 0);
    assert_int_equal(cfg.http_request_timeout, 7000);
    assert_int_equal(cfg.http_idle_timeout, 60000);
    assert_int_equal(cfg.http_max_connections, 1024);
    assert_int_equal(cfg.http_max_per_address, 64);
    assert_int_equal(load(&cfg, "management.tcp.request_timeout = 5\n"), -1);
}

static void test_rabbitmq_special_values(void **state)
{
    config cfg;
    (void)state;
    /* a bare port listens everywhere, as RabbitMQ's does; 0 is "no limit" */
    assert_int_equal(load(&cfg,
                          "listeners.tcp.default = 5680\n"
                          "channel_max = 0\n"
                          "frame_max = 0\n"
                          "vm_memory_high_watermark.relative = 0.5\n"
                          "disk_free_limit.relative = 1.0\n"
                          "loopback_users = none\n"
                          "log.file.level = critical\n"),
                     0);
    assert_int_equal(cfg.port, 5680);
    assert_int_equal(cfg.nbinds, 2);
    assert_string_equal(cfg.binds[0], "0.0.0.0");
    assert_string_equal(cfg.binds[1], "::");
    assert_int_equal(cfg.channel_max, 65535);
    assert_int_equal(cfg.frame_max, 16u << 20);
    assert_true(cfg.memory_limit == ram() / 2);
    assert_true(cfg.disk_free_limit == ram());
    assert_true(cfg.guest_remote);
    assert_int_equal(cfg.log_level, LOG_ERROR);
}

static void test_ipv6_listeners_and_default_pass_alone(void **state)
{
    config cfg;
    (void)state;
    assert_int_equal(load(&cfg,
                          "listeners.tcp.local = 127.0.0.1:5690\n"
                          "listeners.tcp.local_v6 = ::1:5690\n"
                          "listeners.tcp.other = [fe80::1]:5690\n"
                          "default_pass = only-the-password\n"),
                     0);
    assert_int_equal(cfg.nbinds, 3);
    assert_string_equal(cfg.binds[1], "::1");
    assert_string_equal(cfg.binds[2], "fe80::1");
    /* RabbitMQ's default user, guest, with the password given */
    assert_int_equal(cfg.nusers, 1);
    assert_string_equal(cfg.users[0][0], "guest");
    assert_string_equal(cfg.users[0][1], "only-the-password");
    assert_false(cfg.guest_remote);
}

static void test_unknown_keys_are_ignored_and_warren_names_taken(void **state)
{
    config cfg;
    (void)state;
    assert_int_equal(load(&cfg,
                          "cluster_formation.peer_discovery_backend = classic_config\n"
                          "collect_statistics_interval = 10000\n"
                          "port = 5699\n"
                          "guest-remote = true\n"),
                     0);
    assert_int_equal(cfg.port, 5699);
    assert_true(cfg.guest_remote);
}

static void test_what_warren_cannot_honour_is_refused(void **state)
{
    static const char *refused[] = {
        "loopback_users.bob = true\n",              /* only guest can be restricted */
        "loopback_users = bob\n",
        "listeners.tcp.a = 5672\nlisteners.tcp.b = 5673\n", /* one port */
        "listeners.tcp = none\n",
        "listeners.tcp.default = localhost:notaport\n",
        "heartbeat = often\n",
        "channel_max = 70000\n",
        "disk_free_limit.absolute = 5 parsecs\n",
        "vm_memory_high_watermark.relative = 0\n",  /* RabbitMQ: block every publisher */
        "ssl_options.verify = verify_sometimes\n",
        "ssl_options.fail_if_no_peer_cert = true\n", /* without verify_peer */
        "default_user = a:b\n",
        "log.console.level = chatty\n",
    };
    config cfg;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (load(&cfg, refused[i]) != -1)
            fail_msg("accepted: %s", refused[i]);
    }
}

static void test_tls_keys_need_the_tls_options(void **state)
{
    config cfg;
    const struct option *o;
    bool have_tls = false;
    (void)state;
    for (o = config_options; o->name; o++)
        if (!strcmp(o->name, "tls-cert"))
            have_tls = true;
    /* without TLS in the build, a file asking for it does not start a
     * broker that silently lacks it */
    if (!have_tls)
        assert_int_equal(load(&cfg, "ssl_options.certfile = /etc/warren/cert.pem\n"), -1);
    else
        assert_int_equal(load(&cfg, "ssl_options.certfile = /etc/warren/cert.pem\n"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_land_in_their_settings),
        cmocka_unit_test(test_rabbitmq_special_values),
        cmocka_unit_test(test_management_timeouts),
        cmocka_unit_test(test_ipv6_listeners_and_default_pass_alone),
        cmocka_unit_test(test_unknown_keys_are_ignored_and_warren_names_taken),
        cmocka_unit_test(test_what_warren_cannot_honour_is_refused),
        cmocka_unit_test(test_tls_keys_need_the_tls_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
