/*-------------------------------------------------------------------------
 *
 * openloop.c
 *		A small, bounded, open-loop HTTP/1.1 load generator for bench/run.sh.
 *
 * Why it exists: wrk is closed-loop (a connection sends its next request only
 * when the previous answer came back), so a server stall also stalls the
 * load and the stall never shows in the percentiles ("coordinated
 * omission").  wrk2 fixes that but is not packaged in Debian 12, and a
 * Python generator at 5k req/s on this 2-core machine would eat a core and
 * add its own scheduling jitter to the figures it measures.
 *
 * How it works: request i is due at t0 + i / rate, whatever happened before.
 * A due request goes out on an idle keep-alive connection (FIFO, so every
 * connection is used in turn); when none is idle it waits in a backlog.  Its
 * latency is measured from the time it was DUE, not from the time it was
 * sent, so a stall or a too-small connection pool shows in full.
 *
 * One thread, epoll, non-blocking sockets.  Every run is bounded: it sends
 * for --duration seconds, then waits at most --grace seconds for answers;
 * what is still unanswered is counted as timed out, what was never sent as
 * unsent.  --hold makes it a connection-holding test: all --connections are
 * opened first, and any connection the server closes is an error.
 *
 * Prints one JSON object on stdout.
 *
 *	cc -O2 -o openloop openloop.c
 *	openloop --port 18431 --rate 5000 --duration 15 --connections 400 --mix reference
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAX			4096	/* response header bytes kept per connection */
#define REQ_MAX			768		/* one request, head and body */
#define CONNECT_WAVE	1000	/* connects in flight at once */
#define MAX_EVENTS		1024

enum conn_state
{
	C_CLOSED, C_CONNECTING, C_IDLE, C_BUSY
};

typedef struct Conn
{
	int			fd;
	enum conn_state state;
	uint64_t	due;			/* when the request in flight was due (ns) */
	char		req[REQ_MAX];
	int			reqlen;
	int			reqoff;
	char		hdr[HDR_MAX];
	int			hdrlen;
	int			in_body;		/* headers parsed, counting body bytes */
	long		body_left;
	int			status;
	int			close_after;	/* server said Connection: close */
	int			uses;
	int			ever_connected;
} Conn;

/* options */
static const char *opt_host = "127.0.0.1";
static int	opt_port = 0;
static double opt_rate = 1000;
static double opt_duration = 10;
static int	opt_connections = 100;
static const char *opt_mix = "point";
static int	opt_products = 100;
static int	opt_clients = 50;
static int	opt_categories = 1;
static int	opt_hold = 0;
static double opt_timeout = 10;
static double opt_grace = 5;
static double opt_connect_timeout = 60;

/* state */
static Conn *conns;
static int	epfd;
static struct sockaddr_in addr;
static int *idle_q;				/* FIFO of idle connection indexes */
static int	idle_head, idle_count;
static uint64_t *backlog;		/* due times of requests waiting for a connection */
static long backlog_cap, backlog_head, backlog_count, backlog_max;
static uint32_t *lat_us;		/* latency of each answered request */
static long lat_n, lat_cap;
static long codes[600];
static long n_due, n_sent, n_done;
static long e_connect, e_closed, e_timeout, e_parse, e_write, e_unsent, e_lost;
static long n_reconnects;
static int	n_open;
static int	n_open_at_start;
static uint64_t rng_state;
static unsigned long long email_seq;
static unsigned run_id;
static volatile sig_atomic_t interrupted;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t
rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* uniform integer in [lo, hi] */
static int
rnd_between(int lo, int hi)
{
	return lo + (int) (rnd() % (uint64_t) (hi - lo + 1));
}

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

/* ---- requests ---- */

static int
format_get(char *buf, const char *path)
{
	return snprintf(buf, REQ_MAX,
					"GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, opt_host, opt_port);
}

static int
format_post(char *buf, const char *path, const char *body)
{
	return snprintf(buf, REQ_MAX,
					"POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
					"Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
					path, opt_host, opt_port, strlen(body), body);
}

/*
 * The reference's Locust task mix, with its weights and its draws: products
 * 1-100, clients 1-50, skip 0-100, limit 10-50 (bench/locustfile.py).
 */
static int
build_reference(char *buf)
{
	static const int weights[] = {15, 10, 10, 8, 8, 6, 5, 3, 2};
	char		path[128];
	char		body[384];
	int			total = 0, pick, task = 0;

	for (int i = 0; i < 9; i++)
		total += weights[i];
	pick = rnd_between(0, total - 1);
	while (pick >= weights[task])
		pick -= weights[task++];

	switch (task)
	{
		case 0:
			return format_get(buf, "/health_check/");
		case 1:
			snprintf(path, sizeof(path), "/products/?skip=%d&limit=%d",
					 rnd_between(0, 100), rnd_between(10, 50));
			return format_get(buf, path);
		case 2:
			snprintf(path, sizeof(path), "/clients/?skip=%d&limit=%d",
					 rnd_between(0, 100), rnd_between(10, 50));
			return format_get(buf, path);
		case 3:
			snprintf(path, sizeof(path), "/products/id/%d", rnd_between(1, opt_products));
			return format_get(buf, path);
		case 4:
			return format_get(buf, "/categories/");
		case 5:
			snprintf(path, sizeof(path), "/clients/%d", rnd_between(1, opt_clients));
			return format_get(buf, path);
		case 6:
			return format_get(buf, "/orders/");
		case 7:
			snprintf(body, sizeof(body),
					 "{\"name\":\"Load\",\"lastname\":\"Test\","
					 "\"email\":\"ol-%x-%llu@bench.example\",\"telephone\":\"+1555%07d\"}",
					 run_id, ++email_seq, rnd_between(0, 9999999));
			return format_post(buf, "/clients/", body);
		default:
			snprintf(body, sizeof(body),
					 "{\"name\":\"Bench product %llu\",\"description\":\"created by the load test\","
					 "\"price\":%d.%02d,\"stock\":%d,\"category_id\":%d}",
					 ++email_seq, rnd_between(1, 999), rnd_between(0, 99),
					 rnd_between(1, 1000), rnd_between(1, opt_categories));
			return format_post(buf, "/products/", body);
	}
}

static int
build_request(char *buf)
{
	char		path[64];

	if (strcmp(opt_mix, "reference") == 0)
		return build_reference(buf);
	if (strcmp(opt_mix, "health") == 0)
		return format_get(buf, "/health_check/");
	snprintf(path, sizeof(path), "/products/id/%d", rnd_between(1, opt_products));
	return format_get(buf, path);
}

/* ---- connections ---- */

static void
idle_push(int i)
{
	idle_q[(idle_head + idle_count) % opt_connections] = i;
	idle_count++;
}

static int
idle_pop(void)
{
	int			i;

	while (idle_count > 0)
	{
		i = idle_q[idle_head];
		idle_head = (idle_head + 1) % opt_connections;
		idle_count--;
		if (conns[i].state == C_IDLE)
			return i;
	}
	return -1;
}

static void
conn_close(Conn *c)
{
	if (c->fd >= 0)
	{
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		if (c->state != C_CONNECTING)
			n_open--;
	}
	c->fd = -1;
	c->state = C_CLOSED;
}

static void
conn_open(Conn *c)
{
	struct epoll_event ev = {0};
	int			one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
	{
		e_connect++;
		c->state = C_CLOSED;
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = C_CONNECTING;
	c->hdrlen = c->in_body = 0;
	if (connect(c->fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 && errno != EINPROGRESS)
	{
		e_connect++;
		close(c->fd);
		c->fd = -1;
		c->state = C_CLOSED;
		return;
	}
	ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
	ev.data.u32 = (uint32_t) (c - conns);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void
conn_want_write(Conn *c, int want)
{
	struct epoll_event ev = {0};

	ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0);
	ev.data.u32 = (uint32_t) (c - conns);
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* the in-flight request of c failed: count it and drop the connection */
static void
conn_fail(Conn *c, long *counter)
{
	if (c->state == C_BUSY)
		(*counter)++;
	if (opt_hold && c->ever_connected)
		e_lost++;
	conn_close(c);
	if (!opt_hold)
	{
		n_reconnects++;
		conn_open(c);
	}
}

static void
conn_flush(Conn *c)
{
	while (c->reqoff < c->reqlen)
	{
		ssize_t		n = write(c->fd, c->req + c->reqoff, c->reqlen - c->reqoff);

		if (n < 0)
		{
			if (errno == EAGAIN)
			{
				conn_want_write(c, 1);
				return;
			}
			conn_fail(c, &e_write);
			return;
		}
		c->reqoff += n;
	}
}

static void
conn_send(Conn *c, uint64_t due)
{
	c->state = C_BUSY;
	c->due = due;
	c->reqlen = build_request(c->req);
	c->reqoff = 0;
	c->hdrlen = c->in_body = 0;
	c->status = 0;
	c->close_after = 0;
	n_sent++;
	conn_flush(c);
}

/* hand waiting requests to idle connections */
static void
dispatch(void)
{
	while (backlog_count > 0)
	{
		int			i = idle_pop();

		if (i < 0)
			return;
		conn_send(&conns[i], backlog[backlog_head]);
		backlog_head = (backlog_head + 1) % backlog_cap;
		backlog_count--;
	}
}

static void
response_done(Conn *c)
{
	uint64_t	t = now_ns();
	uint64_t	us = (t - c->due) / 1000;

	if (lat_n < lat_cap)
		lat_us[lat_n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t) us;
	if (c->status >= 100 && c->status < 600)
		codes[c->status]++;
	n_done++;
	c->uses++;
	c->state = C_IDLE;
	c->hdrlen = c->in_body = 0;
	if (c->close_after)
	{
		e_closed++;
		conn_close(c);
		if (!opt_hold)
		{
			n_reconnects++;
			conn_open(c);
		}
		else
			e_lost++;
		return;
	}
	idle_push((int) (c - conns));
}

/* parse the header block in c->hdr (complete, ending in CRLFCRLF) */
static int
parse_headers(Conn *c)
{
	char	   *p = c->hdr;
	char	   *end = c->hdr + c->hdrlen;
	int			have_length = 0;

	if (c->hdrlen < 12 || strncmp(p, "HTTP/1.", 7) != 0)
		return -1;
	c->status = atoi(p + 9);
	c->body_left = 0;
	while ((p = memchr(p, '\n', end - p)) != NULL && ++p < end)
	{
		if (strncasecmp(p, "Content-Length:", 15) == 0)
		{
			c->body_left = strtol(p + 15, NULL, 10);
			have_length = 1;
		}
		else if (strncasecmp(p, "Transfer-Encoding:", 18) == 0)
			return -1;			/* libmicrohttpd sends buffers with a length */
		else if (strncasecmp(p, "Connection:", 11) == 0)
		{
			char	   *eol = memchr(p, '\n', end - p);
			char	   *cl = strcasestr(p, "close");

			if (cl && eol && cl < eol)
				c->close_after = 1;
		}
	}
	if (!have_length && c->status != 204 && c->status != 304)
		return -1;
	return 0;
}

static void
conn_read(Conn *c)
{
	static char buf[256 * 1024];

	for (;;)
	{
		ssize_t		n = read(c->fd, buf, sizeof(buf));
		char	   *p = buf;

		if (n == 0)
		{
			/* closed by the server */
			if (c->state == C_BUSY)
				conn_fail(c, &e_closed);
			else
			{
				if (opt_hold)
					e_lost++;
				else
					e_closed++;
				conn_close(c);
				if (!opt_hold)
				{
					n_reconnects++;
					conn_open(c);
				}
			}
			return;
		}
		if (n < 0)
		{
			if (errno == EAGAIN)
				return;
			conn_fail(c, &e_closed);
			return;
		}
		if (c->state != C_BUSY)
		{
			/* bytes nobody asked for */
			conn_fail(c, &e_parse);
			return;
		}
		while (n > 0)
		{
			if (!c->in_body)
			{
				int			take = n;
				char	   *eoh;
				int			from = c->hdrlen > 3 ? c->hdrlen - 3 : 0;

				if (c->hdrlen + take > HDR_MAX - 1)
					take = HDR_MAX - 1 - c->hdrlen;
				memcpy(c->hdr + c->hdrlen, p, take);
				c->hdrlen += take;
				c->hdr[c->hdrlen] = '\0';
				eoh = memmem(c->hdr + from, c->hdrlen - from, "\r\n\r\n", 4);
				if (eoh == NULL)
				{
					if (c->hdrlen >= HDR_MAX - 1)
					{
						conn_fail(c, &e_parse);
						return;
					}
					n -= take;
					p += take;
					continue;
				}
				{
					int			used = (int) (eoh + 4 - c->hdr) - (c->hdrlen - take);

					c->hdrlen = (int) (eoh + 4 - c->hdr);
					if (parse_headers(c) < 0)
					{
						conn_fail(c, &e_parse);
						return;
					}
					c->in_body = 1;
					p += used;
					n -= used;
				}
			}
			if (c->in_body)
			{
				long		take = n < c->body_left ? n : c->body_left;

				c->body_left -= take;
				p += take;
				n -= take;
				if (c->body_left == 0)
				{
					if (n > 0)
					{
						conn_fail(c, &e_parse);
						return;
					}
					response_done(c);
					return;
				}
			}
		}
	}
}

static void
handle_event(struct epoll_event *ev)
{
	Conn	   *c = &conns[ev->data.u32];

	if (c->fd < 0)
		return;
	if (c->state == C_CONNECTING)
	{
		int			err = 0;
		socklen_t	len = sizeof(err);

		if (ev->events & (EPOLLERR | EPOLLHUP) ||
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)
		{
			e_connect++;
			conn_close(c);
			return;
		}
		if (!(ev->events & EPOLLOUT))
			return;
		c->state = C_IDLE;
		c->ever_connected = 1;
		n_open++;
		conn_want_write(c, 0);
		idle_push((int) (c - conns));
		return;
	}
	if (ev->events & EPOLLIN)
		conn_read(c);
	if (c->fd < 0)
		return;
	if (ev->events & (EPOLLERR | EPOLLHUP))
	{
		conn_fail(c, &e_closed);
		return;
	}
	if ((ev->events & EPOLLOUT) && c->state == C_BUSY)
	{
		conn_flush(c);
		if (c->fd >= 0 && c->reqoff == c->reqlen)
			conn_want_write(c, 0);
	}
}

/* busy connections whose request has waited longer than --timeout */
static void
expire(uint64_t now)
{
	uint64_t	limit = (uint64_t) (opt_timeout * 1e9);

	for (int i = 0; i < opt_connections; i++)
		if (conns[i].state == C_BUSY && now - conns[i].due > limit)
			conn_fail(&conns[i], &e_timeout);
}

static void
wait_events(uint64_t until)
{
	struct epoll_event events[MAX_EVENTS];
	uint64_t	now = now_ns();
	struct timespec ts = {0, 0};
	int			n;

	if (until > now)
	{
		uint64_t	d = until - now;

		if (d > 50000000ull)
			d = 50000000ull;	/* wake at least every 50 ms */
		ts.tv_sec = d / 1000000000ull;
		ts.tv_nsec = d % 1000000000ull;
	}
	n = epoll_pwait2(epfd, events, MAX_EVENTS, &ts, NULL);
	if (n < 0 && errno != EINTR)
		die("epoll_pwait2");
	for (int i = 0; i < n; i++)
		handle_event(&events[i]);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *) a, y = *(const uint32_t *) b;

	return x < y ? -1 : x > y;
}

static double
pct_ms(double p)
{
	long		i;

	if (lat_n == 0)
		return 0;
	i = (long) (p / 100.0 * lat_n + 0.5) - 1;
	if (i < 0)
		i = 0;
	if (i >= lat_n)
		i = lat_n - 1;
	return lat_us[i] / 1000.0;
}

static void
on_signal(int sig)
{
	interrupted = 1;
}

static void
usage(void)
{
	fprintf(stderr,
			"usage: openloop --port N [--host A] [--rate R] [--duration S] [--connections C]\n"
			"                [--mix point|reference|health] [--products N] [--clients N]\n"
			"                [--categories N] [--hold] [--timeout S] [--grace S]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct option longopts[] = {
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"rate", required_argument, NULL, 'r'},
		{"duration", required_argument, NULL, 'd'},
		{"connections", required_argument, NULL, 'c'},
		{"mix", required_argument, NULL, 'm'},
		{"products", required_argument, NULL, 'P'},
		{"clients", required_argument, NULL, 'C'},
		{"categories", required_argument, NULL, 'G'},
		{"hold", no_argument, NULL, 'H'},
		{"timeout", required_argument, NULL, 't'},
		{"grace", required_argument, NULL, 'g'},
		{NULL, 0, NULL, 0}
	};
	int			ch;
	uint64_t	t_connect, t0, t_end, t_stop, next_expire;
	double		interval_ns, connect_ms, elapsed_s;
	long		total;
	int			next_to_connect = 0;
	int			min_uses = -1, unused = 0;
	struct rlimit rl;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (ch)
		{
			case 'h': opt_host = optarg; break;
			case 'p': opt_port = atoi(optarg); break;
			case 'r': opt_rate = atof(optarg); break;
			case 'd': opt_duration = atof(optarg); break;
			case 'c': opt_connections = atoi(optarg); break;
			case 'm': opt_mix = optarg; break;
			case 'P': opt_products = atoi(optarg); break;
			case 'C': opt_clients = atoi(optarg); break;
			case 'G': opt_categories = atoi(optarg); break;
			case 'H': opt_hold = 1; break;
			case 't': opt_timeout = atof(optarg); break;
			case 'g': opt_grace = atof(optarg); break;
			default: usage();
		}
	}
	/* bounded by construction */
	if (opt_port <= 0 || opt_port > 65535 || opt_rate <= 0 || opt_rate > 200000 ||
		opt_duration <= 0 || opt_duration > 600 || opt_connections < 1 ||
		opt_connections > 60000 || opt_timeout <= 0 || opt_grace < 0 || opt_grace > 60 ||
		opt_products < 1 || opt_clients < 1 || opt_categories < 1)
		usage();
	if (strcmp(opt_mix, "point") != 0 && strcmp(opt_mix, "reference") != 0 &&
		strcmp(opt_mix, "health") != 0)
		usage();

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(opt_port);
	if (inet_pton(AF_INET, opt_host, &addr.sin_addr) != 1 ||
		(ntohl(addr.sin_addr.s_addr) >> 24) != 127)
	{
		fprintf(stderr, "openloop: only loopback (127.0.0.0/8) addresses are allowed\n");
		return 2;
	}

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
	{
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	rng_state = (uint64_t) now_ns() ^ ((uint64_t) getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	run_id = (unsigned) (rnd() & 0xffffffff);

	total = (long) (opt_rate * opt_duration);
	lat_cap = total + 16;
	backlog_cap = total + 16;
	conns = calloc(opt_connections, sizeof(Conn));
	idle_q = calloc(opt_connections, sizeof(int));
	lat_us = malloc(lat_cap * sizeof(uint32_t));
	backlog = malloc(backlog_cap * sizeof(uint64_t));
	if (!conns || !idle_q || !lat_us || !backlog)
		die("malloc");
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	for (int i = 0; i < opt_connections; i++)
		conns[i].fd = -1;

	/* phase 1: open every connection, CONNECT_WAVE at a time */
	t_connect = now_ns();
	while (!interrupted)
	{
		int			in_flight = 0;

		for (int i = 0; i < next_to_connect; i++)
			in_flight += conns[i].state == C_CONNECTING;
		while (next_to_connect < opt_connections && in_flight < CONNECT_WAVE)
		{
			conn_open(&conns[next_to_connect++]);
			in_flight++;
		}
		if (next_to_connect == opt_connections && in_flight == 0)
			break;
		if (now_ns() - t_connect > (uint64_t) (opt_connect_timeout * 1e9))
			break;
		wait_events(now_ns() + 10000000ull);
	}
	connect_ms = (now_ns() - t_connect) / 1e6;
	for (int i = 0; i < opt_connections; i++)
		if (conns[i].state == C_CONNECTING)
		{
			e_connect++;
			conn_close(&conns[i]);
		}
	n_open_at_start = n_open;
	if (opt_hold && n_open < opt_connections)
		fprintf(stderr, "openloop: only %d of %d connections opened\n", n_open, opt_connections);
	if (!opt_hold)
	{
		/* a failed connect is retried during the run */
		for (int i = 0; i < opt_connections; i++)
			if (conns[i].state == C_CLOSED)
				conn_open(&conns[i]);
	}

	/* phase 2: requests due at t0 + i / rate, whatever the server does */
	interval_ns = 1e9 / opt_rate;
	t0 = now_ns();
	t_end = t0 + (uint64_t) (opt_duration * 1e9);
	next_expire = t0 + 100000000ull;
	while (!interrupted)
	{
		uint64_t	now = now_ns();
		uint64_t	next_due;

		while (n_due < total && t0 + (uint64_t) (n_due * interval_ns) <= now)
		{
			if (backlog_count >= backlog_cap)
				break;
			backlog[(backlog_head + backlog_count) % backlog_cap] =
				t0 + (uint64_t) (n_due * interval_ns);
			backlog_count++;
			n_due++;
		}
		if (backlog_count > backlog_max)
			backlog_max = backlog_count;
		dispatch();
		if (now >= next_expire)
		{
			expire(now);
			next_expire = now + 100000000ull;
		}
		if (n_due >= total || now >= t_end)
			break;
		next_due = t0 + (uint64_t) (n_due * interval_ns);
		wait_events(next_due);
	}

	/* phase 3: wait (boundedly) for the answers still due */
	t_stop = now_ns() + (uint64_t) (opt_grace * 1e9);
	while (!interrupted && now_ns() < t_stop)
	{
		int			busy = 0;

		dispatch();
		for (int i = 0; i < opt_connections; i++)
			busy += conns[i].state == C_BUSY;
		if (busy == 0 && backlog_count == 0)
			break;
		wait_events(now_ns() + 10000000ull);
		expire(now_ns());
	}
	elapsed_s = (now_ns() - t0) / 1e9;
	e_unsent = backlog_count + (total - n_due);
	for (int i = 0; i < opt_connections; i++)
	{
		if (conns[i].state == C_BUSY)
			e_timeout++;
		if (conns[i].ever_connected)
		{
			if (min_uses < 0 || conns[i].uses < min_uses)
				min_uses = conns[i].uses;
			unused += conns[i].uses == 0;
		}
	}

	qsort(lat_us, lat_n, sizeof(uint32_t), cmp_u32);
	{
		long		c2 = 0, c3 = 0, c4 = 0, c5 = 0;
		int			first = 1;

		for (int s = 200; s < 300; s++) c2 += codes[s];
		for (int s = 300; s < 400; s++) c3 += codes[s];
		for (int s = 400; s < 500; s++) c4 += codes[s];
		for (int s = 500; s < 600; s++) c5 += codes[s];
		printf("{\"tool\":\"openloop\",\"mix\":\"%s\",\"rate\":%.0f,\"duration\":%.1f,"
			   "\"connections\":%d,\"hold\":%s,\"connected\":%d,\"open_at_end\":%d,\"connect_ms\":%.0f,"
			   "\"due\":%ld,\"sent\":%ld,\"completed\":%ld,\"achieved_rps\":%.1f,"
			   "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
			   "\"s2xx\":%ld,\"s3xx\":%ld,\"s4xx\":%ld,\"s5xx\":%ld,\"codes\":{",
			   opt_mix, opt_rate, opt_duration, opt_connections,
			   opt_hold ? "true" : "false", n_open_at_start, n_open,
			   connect_ms, n_due, n_sent, n_done, n_done / elapsed_s,
			   pct_ms(50), pct_ms(90), pct_ms(99), pct_ms(99.9),
			   lat_n ? lat_us[lat_n - 1] / 1000.0 : 0.0, c2, c3, c4, c5);
		for (int s = 100; s < 600; s++)
			if (codes[s])
			{
				printf("%s\"%d\":%ld", first ? "" : ",", s, codes[s]);
				first = 0;
			}
		printf("},\"err_connect\":%ld,\"err_closed\":%ld,\"err_timeout\":%ld,"
			   "\"err_parse\":%ld,\"err_write\":%ld,\"unsent\":%ld,\"conns_lost\":%ld,"
			   "\"reconnects\":%ld,\"backlog_max\":%ld,\"min_uses_per_conn\":%d,"
			   "\"unused_conns\":%d,\"interrupted\":%s}\n",
			   e_connect, e_closed, e_timeout, e_parse, e_write, e_unsent, e_lost,
			   n_reconnects, backlog_max, min_uses < 0 ? 0 : min_uses, unused,
			   interrupted ? "true" : "false");
	}
	return 0;
}
