/* The role-change hook (peer_notify.h). */
#include "peer_notify.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

extern char **environ;

static int real_spawn(void *arg, char *const argv[], pid_t *pid)
{
	(void)arg;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int rc;
	if ((rc = posix_spawn_file_actions_init(&fa)))
		return rc;
	if ((rc = posix_spawnattr_init(&at))) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	/* the daemon blocks the signals it reads from a signalfd and ignores
	 * SIGPIPE: both would be inherited across exec */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGCHLD);
	if (!(rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) &&
	    !(rc = posix_spawnattr_setsigmask(&at, &none)) && !(rc = posix_spawnattr_setsigdefault(&at, &dfl)) &&
	    !(rc = posix_spawnattr_setpgroup(&at, 0)) &&
	    !(rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						     POSIX_SPAWN_SETPGROUP)))
		rc = posix_spawn(pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

static int real_reap(void *arg, pid_t pid, int *status)
{
	(void)arg;
	pid_t r = waitpid(pid, status, WNOHANG);
	return r == pid ? 1 : r == 0 ? 0 : -1;
}

static void real_kill(void *arg, pid_t pid)
{
	(void)arg;
	/* its own process group: whatever it started goes too */
	if (kill(-pid, SIGKILL))
		kill(pid, SIGKILL);
}

static uint64_t real_clock(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void real_pause(void *arg, uint64_t ns)
{
	(void)arg;
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

const struct peer_notify_ops peer_notify_ops_real = { NULL, real_spawn, real_reap, real_kill, real_clock,
						      real_pause };

void peer_notify_init(struct peer_notify *n, const struct peer_notify_ops *ops, const char *role,
		      const char *state)
{
	memset(n, 0, sizeof *n);
	n->ops = *ops;
	n->role = role;
	n->label = "peer";
	n->told = "none";
	n->want = state;
	n->timeout_ns = PEER_NOTIFY_TIMEOUT_NS;
}

void peer_notify_set_timeout(struct peer_notify *n, uint64_t ns)
{
	if (ns)
		n->timeout_ns = ns;
}

static void run(struct peer_notify *n, uint64_t now)
{
	if (!n->path[0] || n->pid || !strcmp(n->want, n->told))
		return;
	if (n->stopping && now >= n->stop_by) {
		/* the stop's wait is over: starting a run now would only kill it */
		n->st.failed++;
		log_err("%s: notify %s %s %s %s: not run, the daemon stops now", n->label, n->path, n->want, n->told,
			n->role);
		n->told = n->want;
		return;
	}
	char *argv[] = { n->path, (char *)n->want, (char *)n->told, (char *)n->role, NULL };
	pid_t pid = 0;
	n->st.runs++;
	int rc = n->ops.spawn(n->ops.arg, argv, &pid);
	/* told even when it could not run: a broken script is not retried in
	 * a loop, the next change tries again */
	const char *from = n->told;
	n->told = n->want;
	n->held = 0;
	if (rc || pid <= 0) {
		n->st.failed++;
		log_err("%s: notify %s %s %s %s: cannot run: %s", n->label, n->path, n->want, from, n->role,
			strerror(rc ? rc : EINVAL));
		return;
	}
	n->pid = pid;
	n->started_ns = now;
	n->next_check_ns = now + PEER_NOTIFY_POLL_NS;
	n->killed = false;
	log_info("%s: notify %s %s %s %s: pid %ld", n->label, n->path, n->want, from, n->role, (long)pid);
}

void peer_notify_set_path(struct peer_notify *n, const char *path, uint64_t now)
{
	if (!path)
		path = "";
	if (!strcmp(path, n->path))
		return;
	snprintf(n->path, sizeof n->path, "%s", path);
	n->told = "none";
	run(n, now);
}

void peer_notify_change(struct peer_notify *n, const char *to, uint64_t now)
{
	n->want = to;
	if (!n->path[0])
		return;
	if (n->pid) {
		n->held++;
		return;
	}
	run(n, now);
}

void peer_notify_tick(struct peer_notify *n, uint64_t now)
{
	if (!n->pid)
		return;
	int status = 0;
	int r = n->ops.reap(n->ops.arg, n->pid, &status);
	if (r == 0) {
		n->next_check_ns = now + PEER_NOTIFY_POLL_NS;
		if (!n->killed && (now >= n->started_ns + n->timeout_ns || (n->stopping && now >= n->stop_by))) {
			n->ops.kill(n->ops.arg, n->pid);
			n->killed = true;
			n->st.timeouts++;
			log_err("%s: notify %s (pid %ld) still running after %llu ms%s: killed", n->label, n->path, (long)n->pid,
				(unsigned long long)((now - n->started_ns) / 1000000u),
				n->stopping ? " (the daemon is stopping)" : "");
		}
		return;
	}
	if (r < 0) {
		n->st.failed++;
		log_err("%s: notify %s (pid %ld): lost track of it", n->label, n->path, (long)n->pid);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !n->killed) {
		n->st.ok++;
	} else {
		n->st.failed++;
		if (WIFEXITED(status))
			log_err("%s: notify %s (pid %ld) failed: exit %d", n->label, n->path, (long)n->pid, WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			log_err("%s: notify %s (pid %ld) failed: signal %d", n->label, n->path, (long)n->pid, WTERMSIG(status));
	}
	n->pid = 0;
	/* what changed meanwhile: one run tells the state as it is now */
	uint32_t held = n->held;
	bool differs = strcmp(n->want, n->told) != 0;
	n->st.skipped += differs ? held - (held ? 1 : 0) : held;
	n->held = 0;
	run(n, now);
}

uint64_t peer_notify_deadline(const struct peer_notify *n)
{
	return n->pid ? n->next_check_ns : UINT64_MAX;
}

int peer_notify_stop(struct peer_notify *n)
{
	if (!n->path[0])
		return 0;
	uint64_t now = n->ops.clock(n->ops.arg);
	n->stopping = true;
	n->stop_by = now + n->timeout_ns;
	peer_notify_change(n, PEER_NOTIFY_STOPPED, now);
	/* the run in flight, then the stopped one; peer_notify_tick kills
	 * whatever still runs at stop_by */
	while (n->pid && now < n->stop_by + PEER_NOTIFY_REAP_NS) {
		uint64_t t = n->next_check_ns > now ? n->next_check_ns - now : 0;
		if (t)
			n->ops.pause(n->ops.arg, t);
		now = n->ops.clock(n->ops.arg);
		peer_notify_tick(n, now);
	}
	if (n->pid) {
		log_err("%s: notify %s (pid %ld) killed but not reaped; not waiting longer", n->label, n->path, (long)n->pid);
		return -1;
	}
	return 0;
}
