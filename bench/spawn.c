/*
 * spawn: runs CGI executables directly, as a maintainer or a web server
 * would (a fresh process per request, the CGI variables in a clean
 * environment, the body on standard input), and prints the wall time and
 * the peak RSS of every run.  The variants of a plan are interleaved, one run
 * of each per round (in a new random order each round), so that noise
 * on a shared machine falls on all of them alike.
 *
 * usage: spawn [-w WARMUP] [-e STDERR_LOG] PLAN ROUNDS
 *
 * PLAN, one directive a line:
 *   variant NAME          starts a variant
 *   exe PATH              the executable
 *   arg0 TEXT             its argv[0] (default PATH)
 *   env NAME=VALUE        one variable of its environment (nothing else is passed)
 *   bodies FILE           each run sends the next line of FILE (wrapping) as the
 *                         body, with CONTENT_LENGTH set to its length
 *   expect TEXT           flag the runs whose output (its first 64 KiB) contains TEXT
 *   repeat N              a run is N spawns in a row (each with the next body): its wall and CPU
 *                         time, faults and output bytes are their sums, its RSS the largest, its
 *                         status the first that was not 200 (exit: not 0), EXPECT_FOUND all of them
 *   end
 *
 * Output, one line per measured run, tab-separated:
 *   NAME ROUND WALL_NS MAXRSS_KB HTTP_STATUS EXIT EXPECT_FOUND OUTPUT_BYTES CPU_US MINFLT
 * (CPU_US: the child's user + system CPU time; MINFLT: its minor page faults)
 * then "# self_hwm_kb N": the spawner's own peak RSS (VmHWM).  A child's peak
 * RSS as reported by wait4 starts from the RSS of the memory it was spawned
 * from (posix_spawn shares the spawner's until exec), so that is the floor of
 * every MAXRSS_KB figure.  (The spawner's own ru_maxrss would not do: it
 * carries its parent's RSS over the exec in the same way.)
 */
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENV 64

struct variant {
	char *name, *exe, *arg0, *expect;
	char *env[MAX_ENV + 2]; /* + CONTENT_LENGTH + NULL */
	int nenv;
	FILE *bodies;           /* read a line per run, so the spawner stays small */
	char *body;
	size_t body_cap;
	int repeat;             /* spawns a run (1 unless the plan says) */
};

/* What one spawn, or a run of several, measured. */
struct measure {
	long long wall_ns, cpu_us;
	long maxrss, minflt;
	int http, exit, found;
	size_t got;
};

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		die("strdup");
	return p;
}

/* The next body of v (wrapping at the end of its file); its length in *len. */
static const char *
next_body(struct variant *v, size_t *len)
{
	ssize_t n;

	for (int tries = 0; tries < 2; tries++) {
		if ((n = getline(&v->body, &v->body_cap, v->bodies)) > 0) {
			if (v->body[n - 1] == '\n')
				v->body[--n] = '\0';
			*len = (size_t)n;
			return v->body;
		}
		rewind(v->bodies);
	}
	fprintf(stderr, "spawn: the bodies of %s are empty\n", v->name);
	exit(1);
}

static struct variant *
load_plan(const char *path, int *count)
{
	FILE *f = fopen(path, "r");
	struct variant *vs = NULL, *v = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int nv = 0;

	if (f == NULL)
		die(path);
	while ((n = getline(&line, &cap, f)) > 0) {
		char *arg;
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		arg = strchr(line, ' ');
		arg = arg ? arg + 1 : line + n;
		if (strncmp(line, "variant ", 8) == 0) {
			if ((vs = realloc(vs, (size_t)(nv + 1) * sizeof(*vs))) == NULL)
				die("realloc");
			v = &vs[nv++];
			memset(v, 0, sizeof(*v));
			v->name = xstrdup(arg);
			v->repeat = 1;
		} else if (v == NULL) {
			fprintf(stderr, "spawn: %s: directive before the first variant\n", path);
			exit(2);
		} else if (strncmp(line, "exe ", 4) == 0)
			v->exe = xstrdup(arg);
		else if (strncmp(line, "arg0 ", 5) == 0)
			v->arg0 = xstrdup(arg);
		else if (strncmp(line, "env ", 4) == 0) {
			if (v->nenv == MAX_ENV) {
				fprintf(stderr, "spawn: too many env lines in %s\n", v->name);
				exit(2);
			}
			v->env[v->nenv++] = xstrdup(arg);
		} else if (strncmp(line, "bodies ", 7) == 0) {
			if ((v->bodies = fopen(arg, "r")) == NULL)
				die(arg);
		} else if (strncmp(line, "expect ", 7) == 0)
			v->expect = xstrdup(arg);
		else if (strncmp(line, "repeat ", 7) == 0) {
			if ((v->repeat = atoi(arg)) < 1) {
				fprintf(stderr, "spawn: %s: repeat must be at least 1\n", v->name);
				exit(2);
			}
		}
		else if (strcmp(line, "end") == 0)
			v = NULL;
		else {
			fprintf(stderr, "spawn: %s: unknown directive: %s\n", path, line);
			exit(2);
		}
	}
	free(line);
	fclose(f);
	for (int i = 0; i < nv; i++)
		if (vs[i].exe == NULL) {
			fprintf(stderr, "spawn: variant %s has no exe\n", vs[i].name);
			exit(2);
		}
	*count = nv;
	return vs;
}

static int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The first OUT_KEEP bytes of a run's output are kept (status line, headers, a small body). */
#define OUT_KEEP 65536
static char out[OUT_KEEP + 1];

/* One spawn of v, measured into *m. */
static void
spawn_one(struct variant *v, int devnull, int errfd, struct measure *m)
{
	int opipe[2], ipipe[2] = { -1, -1 }, status;
	posix_spawn_file_actions_t fa;
	char *argv[2] = { v->arg0 ? v->arg0 : v->exe, NULL };
	char clen[40];
	const char *body = NULL;
	size_t got = 0, kept = 0, blen = 0;
	char sink[65536];
	struct rusage ru;
	pid_t pid;
	int64_t t0, t1;
	int http = 0, found = 0, nenv = v->nenv;

	if (v->bodies != NULL) {
		body = next_body(v, &blen);
		snprintf(clen, sizeof(clen), "CONTENT_LENGTH=%zu", blen);
		v->env[nenv++] = clen;
	}
	v->env[nenv] = NULL;
	if (pipe2(opipe, O_CLOEXEC) != 0)
		die("pipe");
	if (body != NULL) {
		/* Bodies are small: the pipe holds the whole of one before the child runs. */
		if (pipe2(ipipe, O_CLOEXEC) != 0)
			die("pipe");
		if (write(ipipe[1], body, blen) != (ssize_t)blen)
			die("write body");
		close(ipipe[1]);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, body != NULL ? ipipe[0] : devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, opipe[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errfd, 2);

	t0 = now_ns();
	if ((errno = posix_spawn(&pid, v->exe, &fa, NULL, argv, v->env)) != 0)
		die(v->exe);
	close(opipe[1]);
	for (;;) {
		char *to = kept < OUT_KEEP ? out + kept : sink;
		size_t room = kept < OUT_KEEP ? OUT_KEEP - kept : sizeof(sink);
		ssize_t n = read(opipe[0], to, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (to == out + kept)
			kept += (size_t)n;
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4");
	t1 = now_ns();

	posix_spawn_file_actions_destroy(&fa);
	close(opipe[0]);
	if (ipipe[0] >= 0)
		close(ipipe[0]);
	out[kept] = '\0';
	if (strncmp(out, "Status: ", 8) == 0)
		http = atoi(out + 8);
	if (v->expect != NULL)
		found = memmem(out, kept, v->expect, strlen(v->expect)) != NULL;
	m->wall_ns = (long long)(t1 - t0);
	m->maxrss = ru.ru_maxrss;
	m->http = http;
	m->exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	m->found = found;
	m->got = got;
	m->cpu_us = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	    ru.ru_stime.tv_usec;
	m->minflt = ru.ru_minflt;
}

/* xorshift64: the rounds' orders, the same from run to run. */
static uint64_t
next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* One run of v (repeat spawns); prints its line when round >= 0. */
static void
run_once(struct variant *v, int round, int devnull, int errfd)
{
	struct measure t, m;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < v->repeat; i++) {
		spawn_one(v, devnull, errfd, &m);
		t.wall_ns += m.wall_ns;
		t.cpu_us += m.cpu_us;
		t.minflt += m.minflt;
		t.got += m.got;
		t.maxrss = m.maxrss > t.maxrss ? m.maxrss : t.maxrss;
		if (i == 0 || (t.http == 200 && m.http != 200))
			t.http = m.http;
		if (i == 0 || (t.exit == 0 && m.exit != 0))
			t.exit = m.exit;
		t.found = i == 0 ? m.found : t.found && m.found;
	}
	if (round >= 0)
		printf("%s\t%d\t%lld\t%ld\t%d\t%d\t%d\t%zu\t%lld\t%ld\n", v->name, round, t.wall_ns, t.maxrss, t.http,
		    t.exit, t.found, t.got, t.cpu_us, t.minflt);
}

int
main(int argc, char **argv)
{
	int opt, warmup = 0, nv, rounds, devnull, errfd, *order;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	const char *errlog = "/dev/null";
	struct variant *vs;
	char status_line[256];
	long hwm = -1;
	FILE *st;

	while ((opt = getopt(argc, argv, "w:e:")) != -1) {
		switch (opt) {
		case 'w': warmup = atoi(optarg); break;
		case 'e': errlog = optarg; break;
		default: goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	vs = load_plan(argv[optind], &nv);
	rounds = atoi(argv[optind + 1]);
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
	    (errfd = open(errlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		die("open");
	for (int w = 0; w < warmup; w++)
		for (int i = 0; i < nv; i++)
			run_once(&vs[i], -1, devnull, errfd);
	if ((order = calloc((size_t)nv, sizeof(*order))) == NULL)
		die("calloc");
	for (int i = 0; i < nv; i++)
		order[i] = i;
	for (int r = 0; r < rounds; r++) {
		/*
		 * A new order each round (Fisher-Yates, a fixed seed): a run of the
		 * same executable just before is faster (its pages and the CPU's
		 * caches are warm), so no variant may keep one neighbour; a
		 * rotation would keep them all.
		 */
		for (int i = nv - 1; i > 0; i--) {
			int j = (int)(next_random(&seed) % (uint64_t)(i + 1)), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (int k = 0; k < nv; k++)
			run_once(&vs[order[k]], r, devnull, errfd);
	}
	free(order);
	if ((st = fopen("/proc/self/status", "r")) != NULL) {
		while (fgets(status_line, sizeof(status_line), st) != NULL)
			if (strncmp(status_line, "VmHWM:", 6) == 0)
				hwm = atol(status_line + 6);
		fclose(st);
	}
	printf("# self_hwm_kb %ld\n", hwm);
	return fflush(stdout) == 0 ? 0 : 1;
usage:
	fputs("usage: spawn [-w WARMUP] [-e STDERR_LOG] PLAN ROUNDS\n", stderr);
	return 2;
}
