/*-------------------------------------------------------------------------
 *
 * connections.c
 *		The open HTTP connections: their count, the deadlines of a request
 *		(its head, then its body), the per-client limit, and room for new
 *		clients when the worker is nearly full.
 *
 * libmicrohttpd's timeout counts inactivity only, so a client sending a
 * byte now and then (slowloris) would keep its connection, and a slot of
 * ecommerce_api.max_connections_per_worker, for ever.  So a connection is
 * watched while a request is on its way:
 *
 * - its head is due ecommerce_api.idle_timeout after the connection opened
 *   or after its previous answer; an overdue one is closed silently (it may
 *   be an idle keep-alive connection that owes us nothing);
 * - once the head is in, its body is due request_timeout later, and must
 *   arrive at min_body_rate bytes per second at least (after a grace of
 *   BODY_RATE_GRACE_MS): an overdue one gets 408 and is closed.
 *
 * Connections waiting for a head are listed in the order they started
 * waiting, and so are those receiving a body: with one timeout per list,
 * only its first entry is ever looked at.  The body rate is checked by a
 * walk of the body list at most every RATE_CHECK_MS.
 *
 * When a worker is near ecommerce_api.max_connections_per_worker, each new
 * connection closes the connection that has waited longest for a request
 * head: an idle keep-alive connection, or a client that never sent one.
 * That keeps room for new clients: libmicrohttpd stops accepting at the
 * limit, and the queue of the listening socket would hold new clients behind
 * whoever filled it.  A client address may also hold only
 * max_connections_per_client connections, counted across workers
 * (ratelimit.c keeps that count, with the rest of what is known of clients).
 *
 * The answers given here (408, 503 at the per-client limit) are written
 * straight to the socket, since libmicrohttpd only sends an answer that its
 * access handler queues, and that handler runs only when bytes arrive.  They
 * are written only where nothing of an answer can have been sent: before a
 * request, or while its body arrives.  Then the socket is shut down, so that
 * libmicrohttpd sees the end of the stream at its next look and closes the
 * connection the usual way (its close notification frees the state).
 *
 * http.c tells this file when a connection opens and closes, when a request
 * head is in, as its body arrives, when the request is complete and when an
 * answer is done; everything here runs inside libmicrohttpd's callbacks and
 * so raises no ERROR.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>

#include <microhttpd.h>

#include "lib/ilist.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"

#include "ecommerce_api.h"

/* A body's first bytes may take this long before its rate is judged. */
#define BODY_RATE_GRACE_MS		2000

/* How often the bodies' rates are checked. */
#define RATE_CHECK_MS			250

typedef enum ConnectionPhase
{
	PHASE_HEAD,					/* waiting for a request head */
	PHASE_BODY,					/* head in, receiving the body */
	PHASE_BUSY,					/* request complete, being answered */
	PHASE_CLOSING				/* shut down by us, libmicrohttpd to close it */
} ConnectionPhase;

/* What we keep about one connection, as libmicrohttpd's socket context. */
typedef struct ConnectionState
{
	dlist_node	node;			/* in waiting_heads or waiting_bodies */
	struct MHD_Connection *conn;
	ConnectionPhase phase;
	instr_time	since;			/* waiting for a head since, or head in at */
	uint64		body_received;	/* bytes of body so far */
	void	   *client;			/* its count of the per-client limit */
} ConnectionState;

static dlist_head waiting_heads = DLIST_STATIC_INIT(waiting_heads);
static dlist_head waiting_bodies = DLIST_STATIC_INIT(waiting_bodies);

/* This worker's open connections. */
static int	open_connections = 0;

/*
 * A connection closed while the worker was at max_connections_per_worker.
 * libmicrohttpd then stops watching the listening socket, and watches it
 * again only at the start of its next pass: that pass must come at once, not
 * when some other event wakes the worker, or new clients would wait in the
 * listen queue for it (as long as idle_timeout).
 */
static bool room_made = false;

/* When the bodies' rates were last checked (zero: not since the list emptied). */
static instr_time last_rate_check;

/* Holds the ConnectionStates. */
static MemoryContext connection_state_context = NULL;

/* The raw answers, built once. */
static char *timeout_answer;
static size_t timeout_answer_len;
static char *too_many_answer;
static size_t too_many_answer_len;

/* A whole HTTP answer that closes its connection, in TopMemoryContext. */
static char *
raw_answer(const char *status_line, const char *extra_headers,
		   const char *detail, size_t *len)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	StringInfoData body;
	StringInfoData answer;

	initStringInfo(&body);
	eapi_error_body(&body, detail, false, 0);
	initStringInfo(&answer);
	appendStringInfo(&answer,
					 "HTTP/1.1 %s\r\nConnection: close\r\n%s"
					 "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
					 status_line, extra_headers, body.len, body.data);
	pfree(body.data);
	MemoryContextSwitchTo(oldcxt);
	*len = answer.len;
	return answer.data;
}

void
eapi_connections_init(void)
{
	if (connection_state_context != NULL)
		return;
	connection_state_context = AllocSetContextCreate(TopMemoryContext,
													 "ecommerce_api connection states",
													 ALLOCSET_SMALL_SIZES);
	timeout_answer = raw_answer("408 Request Timeout", "",
								"Request Timeout: the request did not arrive in time",
								&timeout_answer_len);
	too_many_answer = raw_answer("503 Service Unavailable", "Retry-After: 1\r\n",
								 "Too many connections from this client address",
								 &too_many_answer_len);
	INSTR_TIME_SET_ZERO(last_rate_check);
}

/* The state libmicrohttpd keeps for us with this connection, or NULL. */
static ConnectionState *
connection_state(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? (ConnectionState *) info->socket_context : NULL;
}

/* Leave whichever list the connection is in. */
static void
unlist(ConnectionState *state)
{
	if (state->phase == PHASE_HEAD || state->phase == PHASE_BODY)
		dlist_delete(&state->node);
}

/* The connection starts waiting for a request head. */
static void
start_waiting(ConnectionState *state)
{
	if (state == NULL || state->phase == PHASE_HEAD || state->phase == PHASE_CLOSING)
		return;
	unlist(state);
	INSTR_TIME_SET_CURRENT(state->since);
	state->phase = PHASE_HEAD;
	dlist_push_tail(&waiting_heads, &state->node);
}

/*
 * Close a connection: send it an answer first when one is given (it is
 * small, and the socket's buffer is empty at these points, so a
 * non-blocking send takes all of it or fails, and then the client gets the
 * close alone).
 */
static void
close_connection(ConnectionState *state, const char *answer, size_t len)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(state->conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	unlist(state);
	state->phase = PHASE_CLOSING;
	if (info == NULL)
		return;
	if (answer)
		(void) send(info->connect_fd, answer, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void) shutdown(info->connect_fd, SHUT_RDWR);
}

/*
 * Near the per-worker limit: close the connection that has waited longest
 * for a request head, unless that is the new one itself.
 */
static void
make_room(ConnectionState *newest)
{
	int			limit = eapi_max_connections_per_worker;
	int			reserve = Max(1, limit / 50);
	ConnectionState *oldest;

	if (open_connections <= limit - reserve || dlist_is_empty(&waiting_heads))
		return;
	oldest = dlist_head_element(ConnectionState, node, &waiting_heads);
	if (oldest == newest)
		return;
	close_connection(oldest, NULL, 0);
}

/*
 * A connection opened: apply the current idle timeout to it (SIGHUP-able),
 * count it, against its client's limit too, and start its wait for a
 * request head.  Returns its state, to keep as libmicrohttpd's socket
 * context: NULL when out of memory, and then only libmicrohttpd's own
 * timeout watches it.
 */
void *
eapi_connection_opened(struct MHD_Connection *conn)
{
	ConnectionState *state =
		MemoryContextAllocExtended(connection_state_context, sizeof(ConnectionState),
								   MCXT_ALLOC_NO_OOM | MCXT_ALLOC_ZERO);
	bool		refused = false;

	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
							  (unsigned int) eapi_idle_timeout);
	eapi_shmem_count_connection(1);
	open_connections++;
	if (state == NULL)
		return NULL;

	state->conn = conn;
	state->phase = PHASE_BUSY;
	state->client = eapi_client_connection_acquire(conn, &refused);
	if (refused)
	{
		close_connection(state, too_many_answer, too_many_answer_len);
		eapi_shmem_count_answer(-1, 503, 0);
		return state;
	}
	start_waiting(state);
	make_room(state);
	return state;
}

/* A connection closed; state is what eapi_connection_opened returned. */
void
eapi_connection_closed(void *state_ptr)
{
	ConnectionState *state = state_ptr;

	eapi_shmem_count_connection(-1);
	if (open_connections >= eapi_max_connections_per_worker)
		room_made = true;
	open_connections--;
	if (state)
	{
		unlist(state);
		if (state->client)
			eapi_client_connection_release(state->client);
		pfree(state);
	}
}

/* A request head is in: its body is due now. */
void
eapi_connection_head_in(struct MHD_Connection *conn)
{
	ConnectionState *state = connection_state(conn);

	if (state == NULL || state->phase == PHASE_CLOSING)
		return;
	unlist(state);
	INSTR_TIME_SET_CURRENT(state->since);
	state->body_received = 0;
	state->phase = PHASE_BODY;
	dlist_push_tail(&waiting_bodies, &state->node);
}

/* Bytes of the body arrived. */
void
eapi_connection_body_progress(struct MHD_Connection *conn, size_t bytes)
{
	ConnectionState *state = connection_state(conn);

	if (state)
		state->body_received += bytes;
}

/* The request is complete (or answered early): nothing more is due. */
void
eapi_connection_request_in(struct MHD_Connection *conn)
{
	ConnectionState *state = connection_state(conn);

	if (state == NULL || state->phase == PHASE_CLOSING)
		return;
	unlist(state);
	state->phase = PHASE_BUSY;
}

/* A request was answered: the wait for the next head starts now. */
void
eapi_connection_answered(struct MHD_Connection *conn)
{
	start_waiting(connection_state(conn));
}

/* Milliseconds from now to since + timeout_ms, 0 when past. */
static long
ms_left(instr_time since, double timeout_ms, instr_time now)
{
	double		left;

	INSTR_TIME_SUBTRACT(now, since);
	left = timeout_ms - INSTR_TIME_GET_MILLISEC(now);
	return left <= 0 ? 0 : (long) left + 1;
}

static long
earliest(long a, long b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return Min(a, b);
}

/*
 * Milliseconds until the next deadline: 0 when one is past, -1 when nothing
 * is due.
 */
long
eapi_connections_timeout_ms(void)
{
	instr_time	now;
	long		timeout = -1;

	if (room_made)
		return 0;
	if (dlist_is_empty(&waiting_heads) && dlist_is_empty(&waiting_bodies))
		return -1;
	INSTR_TIME_SET_CURRENT(now);
	if (eapi_idle_timeout > 0 && !dlist_is_empty(&waiting_heads))
		timeout = ms_left(dlist_head_element(ConnectionState, node, &waiting_heads)->since,
						  eapi_idle_timeout * 1000.0, now);
	if (eapi_request_timeout > 0 && !dlist_is_empty(&waiting_bodies))
		timeout = earliest(timeout,
						   ms_left(dlist_head_element(ConnectionState, node, &waiting_bodies)->since,
								   eapi_request_timeout * 1000.0, now));
	if (eapi_min_body_rate > 0 && !dlist_is_empty(&waiting_bodies))
		timeout = earliest(timeout,
						   INSTR_TIME_IS_ZERO(last_rate_check) ? RATE_CHECK_MS :
						   ms_left(last_rate_check, RATE_CHECK_MS, now));
	return timeout;
}

/* Close the bodies arriving slower than min_body_rate; see the top. */
static void
close_slow_bodies(instr_time now)
{
	dlist_mutable_iter iter;

	if (eapi_min_body_rate <= 0 || dlist_is_empty(&waiting_bodies))
	{
		INSTR_TIME_SET_ZERO(last_rate_check);
		return;
	}
	if (INSTR_TIME_IS_ZERO(last_rate_check))
	{
		/* the first body in: its check is due RATE_CHECK_MS from now */
		last_rate_check = now;
		return;
	}
	if (ms_left(last_rate_check, RATE_CHECK_MS, now) > 0)
		return;

	dlist_foreach_modify(iter, &waiting_bodies)
	{
		ConnectionState *state = dlist_container(ConnectionState, node, iter.cur);
		instr_time	elapsed = now;
		double		ms;

		INSTR_TIME_SUBTRACT(elapsed, state->since);
		ms = INSTR_TIME_GET_MILLISEC(elapsed);
		/* the list is in arrival order: the rest are younger still */
		if (ms <= BODY_RATE_GRACE_MS)
			break;
		if ((double) state->body_received <
			(double) eapi_min_body_rate * (ms - BODY_RATE_GRACE_MS) / 1000.0)
		{
			close_connection(state, timeout_answer, timeout_answer_len);
			eapi_shmem_count_answer(-1, 408, ms);
		}
	}
	last_rate_check = now;
}

/*
 * Close the connections whose request head or body is overdue; called before
 * each pass of libmicrohttpd (which answers room_made).
 */
void
eapi_connections_close_stalled(void)
{
	instr_time	now;

	room_made = false;			/* this pass of libmicrohttpd's is the one */
	if (dlist_is_empty(&waiting_heads) && dlist_is_empty(&waiting_bodies))
		return;
	INSTR_TIME_SET_CURRENT(now);
	while (eapi_idle_timeout > 0 && !dlist_is_empty(&waiting_heads))
	{
		ConnectionState *oldest = dlist_head_element(ConnectionState, node,
													 &waiting_heads);

		if (ms_left(oldest->since, eapi_idle_timeout * 1000.0, now) > 0)
			break;
		close_connection(oldest, NULL, 0);
	}
	while (eapi_request_timeout > 0 && !dlist_is_empty(&waiting_bodies))
	{
		ConnectionState *oldest = dlist_head_element(ConnectionState, node,
													 &waiting_bodies);

		if (ms_left(oldest->since, eapi_request_timeout * 1000.0, now) > 0)
			break;
		close_connection(oldest, timeout_answer, timeout_answer_len);
		eapi_shmem_count_answer(-1, 408, eapi_request_timeout * 1000.0);
	}
	close_slow_bodies(now);
}
