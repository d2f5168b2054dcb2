/* User-context object, lease line for pshim6-control, its reply, and the
 * notifier against a real Unix socket (present, absent, silent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "testkeys.h"

static void lease_line(void **state)
{
	uint8_t addr[16] = {0xfd, 0, 0, 0, 0, 0, 0, 1, 0x20, 0, 0, 0, 0, 0, 0, 0x42};
	uint8_t pds[3] = {0xde, 0xad, 0x01}, duid[4] = {0, 3, 0, 1};
	char out[512];

	assert_int_equal(pdh_msg_lease(out, sizeof(out), PDH_EV_ADD, addr, PDH_MODE_CGA, pds, 3,
	                               duid, 4, 4294967295u), PDH_OK);
	assert_string_equal(out, "{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00::1:2000:0:0:42\","
	                         "\"mode\":\"cga\",\"pds\":\"dead01\",\"duid\":\"00030001\",\"iaid\":4294967295}\n");
	assert_int_equal(pdh_msg_lease(out, sizeof(out), PDH_EV_EXPIRE, addr, PDH_MODE_HBA, pds, 3,
	                               duid, 4, 1), PDH_OK);
	assert_non_null(strstr(out, "\"event\":\"expire\""));
	assert_non_null(strstr(out, "\"mode\":\"hba\""));
	assert_int_equal(pdh_msg_lease(out, 40, PDH_EV_ADD, addr, PDH_MODE_CGA, pds, 3, duid, 4, 1),
	                 PDH_ENOSPC);
	assert_int_equal(pdh_msg_lease(out, sizeof(out), (enum pdh_event)9, addr, PDH_MODE_CGA, pds, 3,
	                               duid, 4, 1), PDH_EINVAL);
}

static void replies(void **state)
{
	char err[32];
	const char *bad = "{\"ok\":false,\"error\":\"no such peer\"}";

	assert_int_equal(pdh_msg_reply("{\"ok\":true}", 11, err, sizeof(err)), PDH_OK);
	assert_int_equal(pdh_msg_reply(" { \"ok\" : true }", 16, err, sizeof(err)), PDH_OK);
	assert_int_equal(pdh_msg_reply(bad, strlen(bad), err, sizeof(err)), PDH_EINVAL);
	assert_string_equal(err, "no such peer");
	assert_int_equal(pdh_msg_reply("{\"ok\":tru", 9, err, sizeof(err)), PDH_EINVAL);
	assert_int_equal(pdh_msg_reply("[\"ok\",true]", 11, err, sizeof(err)), PDH_EINVAL);
	assert_int_equal(pdh_msg_reply("", 0, err, sizeof(err)), PDH_EINVAL);
	/* An error text longer than the buffer is cut, still terminated. */
	const char *lng = "{\"ok\":false,\"error\":\"0123456789012345678901234567890123456789\"}";
	assert_int_equal(pdh_msg_reply(lng, strlen(lng), err, 8), PDH_EINVAL);
	assert_string_equal(err, "0123456");
}

static void user_context(void **state)
{
	struct pdh_conf c;
	struct pdh_pds p = {0}, back;
	uint8_t buf[PDH_PDS_MAX];
	char out[4096];
	const char *h, *e;

	test_conf(&c, 1, PDH_MODE_CGA);
	c.key_id[0] = 0xab;
	memcpy(p.modifier, rfc3972_modifier, 16);
	memcpy(p.prefix, c.cmula_prefix, 8);
	p.collision_count = 2;
	p.key = c.key;
	p.key_len = c.key_len;
	assert_int_equal(pdh_ctx_format(out, sizeof(out), &c, &p), PDH_OK);
	assert_non_null(strstr(out, "\"mode\":\"cga\",\"sec\":1,\"modifier\":\"89a8a8b2e858d8b8f2633f44d2d4ce9b\""));
	assert_non_null(strstr(out, "\"prefix\":\"fd00000000000001\",\"collision-count\":2"));
	assert_non_null(strstr(out, "\"key-id\":\"ab00000000000000\""));
	h = strstr(out, "\"pds\":\"");
	assert_non_null(h);
	h += 7;
	e = strchr(h, '"');
	assert_int_equal(pdh_ctx_pds_from_hex(&back, buf, sizeof(buf), h, (size_t)(e - h)), PDH_OK);
	assert_memory_equal(back.modifier, p.modifier, 16);
	assert_int_equal(back.collision_count, 2);
	assert_memory_equal(back.key, c.key, c.key_len);
	assert_int_equal(pdh_ctx_format(out, 100, &c, &p), PDH_ENOSPC);
	assert_int_equal(pdh_ctx_pds_from_hex(&back, buf, sizeof(buf), "zz", 2), PDH_EINVAL);
}

/* A one-connection control daemon stand-in: answers each line with `reply`,
 * or stays silent when reply is NULL. */
struct server { int lfd; const char *reply; int lines; char last[512]; };

static void *serve(void *arg)
{
	struct server *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	char buf[1024];
	size_t got = 0;
	ssize_t r;

	if (fd < 0)
		return NULL;
	while ((r = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
		char *nl;
		got += (size_t)r;
		while ((nl = memchr(buf, '\n', got))) {
			size_t len = (size_t)(nl - buf) + 1;
			snprintf(s->last, sizeof(s->last), "%.*s", (int)len, buf);
			s->lines++;
			if (s->reply && write(fd, s->reply, strlen(s->reply)) < 0)
				break;
			memmove(buf, buf + len, got - len);
			got -= len;
		}
	}
	close(fd);
	return NULL;
}

static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	return fd;
}

static void notifier(void **state)
{
	char path[64];
	struct pdh_notifier n;
	struct server s = {0};
	pthread_t th;

	snprintf(path, sizeof(path), "/tmp/pdh-test-%d.sock", (int)getpid());
	/* No path configured. */
	pdh_notifier_init(&n, "", 100);
	assert_int_equal(pdh_notifier_send(&n, "x\n", 0), PDH_ENOENT);
	pdh_notifier_close(&n);

	/* Socket absent: fails at once, then no retry for 5 s. */
	unlink(path);
	pdh_notifier_init(&n, path, 100);
	assert_int_equal(pdh_notifier_send(&n, "x\n", 10), PDH_ENOENT);
	s.lfd = listen_at(path);
	s.reply = "{\"ok\":true}\n";
	pthread_create(&th, NULL, serve, &s);
	assert_int_equal(pdh_notifier_send(&n, "{\"cmd\":\"lease\"}\n", 14), PDH_ENOENT);
	assert_int_equal(n.skipped, 2);
	/* Present: each line gets its reply, on one connection. */
	assert_int_equal(pdh_notifier_send(&n, "{\"cmd\":\"lease\",\"n\":1}\n", 15), PDH_OK);
	assert_int_equal(pdh_notifier_send(&n, "{\"cmd\":\"lease\",\"n\":2}\n", 15), PDH_OK);
	assert_int_equal(n.sent, 2);
	pdh_notifier_close(&n);
	pthread_join(th, NULL);
	assert_int_equal(s.lines, 2);
	assert_string_equal(s.last, "{\"cmd\":\"lease\",\"n\":2}\n");

	/* Silent daemon: times out, drops the connection, backs off. */
	struct server q = {.lfd = s.lfd, .reply = NULL};
	struct timespec t0, t1;
	pthread_create(&th, NULL, serve, &q);
	pdh_notifier_init(&n, path, 100);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pdh_notifier_send(&n, "{\"cmd\":\"lease\"}\n", 20), PDH_EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
	assert_int_equal(n.fd, -1);
	assert_int_equal(pdh_notifier_send(&n, "{\"cmd\":\"lease\"}\n", 21), PDH_ENOENT);
	assert_int_equal(n.failed, 1);
	pdh_notifier_close(&n);
	pthread_join(th, NULL);
	close(s.lfd);
	unlink(path);
}

/* Output that exactly fills the buffer has no room for its NUL: ENOSPC,
 * one octet more is enough.  An event past the last is refused; and a
 * reply is read only up to its length, never the octets after it. */
static void exact_sizes_and_reply_length(void **state)
{
	uint8_t addr[16] = {0xfd, 0, 0, 0, 0, 0, 0, 1, 0x20, 0, 0, 0, 0, 0, 0, 0x42};
	uint8_t pds[3] = {0xde, 0xad, 0x01}, duid[4] = {0, 3, 0, 1};
	char out[4096];
	size_t n;
	struct pdh_conf c;
	struct pdh_pds p = {0};

	assert_int_equal(pdh_msg_lease(out, sizeof(out), PDH_EV_ADD, addr, PDH_MODE_CGA, pds, 3, duid, 4, 1),
	                 PDH_OK);
	n = strlen(out);
	assert_int_equal(pdh_msg_lease(out, n, PDH_EV_ADD, addr, PDH_MODE_CGA, pds, 3, duid, 4, 1), PDH_ENOSPC);
	assert_int_equal(pdh_msg_lease(out, n + 1, PDH_EV_ADD, addr, PDH_MODE_CGA, pds, 3, duid, 4, 1), PDH_OK);
	assert_int_equal(pdh_msg_lease(out, sizeof(out), (enum pdh_event)(PDH_EV_EXPIRE + 1), addr, PDH_MODE_CGA,
	                               pds, 3, duid, 4, 1), PDH_EINVAL);
	test_conf(&c, 1, PDH_MODE_CGA);
	p.key = c.key;
	p.key_len = c.key_len;
	assert_int_equal(pdh_ctx_format(out, sizeof(out), &c, &p), PDH_OK);
	n = strlen(out);
	assert_int_equal(pdh_ctx_format(out, n, &c, &p), PDH_ENOSPC);
	assert_int_equal(pdh_ctx_format(out, n + 1, &c, &p), PDH_OK);
	assert_int_equal(pdh_msg_reply("{\"ok\":true}", 9, NULL, 0), PDH_EINVAL);   /* {"ok":tru */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lease_line),
		cmocka_unit_test(replies),
		cmocka_unit_test(user_context),
		cmocka_unit_test(exact_sizes_and_reply_length),
		cmocka_unit_test(notifier),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
