/*-------------------------------------------------------------------------
 *
 * connections.c
 *		The open HTTP connections: their count, and the deadline for a
 *		request head (slowloris).
 *
 * libmicrohttpd's timeout counts inactivity only, so a client sending a
 * byte now and then (slowloris) would keep its connection, and a slot of
 * ecommerce_api.max_connections_per_worker, for ever.  So a connection is
 * watched while it waits for a request head: since it opened, or since its
 * last answer.  One that has not delivered a whole request head
 * ecommerce_api.idle_timeout after that is closed
 * (eapi_connections_close_stalled, from every pass of the worker's loop).
 * Waiting connections are listed in the order they started waiting, so only
 * the head of the list is ever looked at.
 *
 * http.c tells this file when a connection opens and closes, when a request
 * head is in and when an answer is done; everything here runs inside
 * libmicrohttpd's callbacks and so raises no ERROR.
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

/* What we keep about one connection, as libmicrohttpd's socket context. */
typedef struct ConnectionState
{
	dlist_node	node;			/* in waiting_connections, when waiting */
	struct MHD_Connection *conn;
	instr_time	waiting_since;
	bool		waiting;
} ConnectionState;

static dlist_head waiting_connections = DLIST_STATIC_INIT(waiting_connections);

/* Holds the ConnectionStates. */
static MemoryContext connection_state_context = NULL;

void
eapi_connections_init(void)
{
	if (connection_state_context == NULL)
		connection_state_context = AllocSetContextCreate(TopMemoryContext,
														 "ecommerce_api connection states",
														 ALLOCSET_SMALL_SIZES);
}

/* The state libmicrohttpd keeps for us with this connection, or NULL. */
static ConnectionState *
connection_state(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? (ConnectionState *) info->socket_context : NULL;
}

/* The connection starts waiting for a request head. */
static void
start_waiting(ConnectionState *state)
{
	if (state == NULL || state->waiting)
		return;
	INSTR_TIME_SET_CURRENT(state->waiting_since);
	state->waiting = true;
	dlist_push_tail(&waiting_connections, &state->node);
}

static void
stop_waiting(ConnectionState *state)
{
	if (state == NULL || !state->waiting)
		return;
	state->waiting = false;
	dlist_delete(&state->node);
}

/*
 * A connection opened: apply the current idle timeout to it (SIGHUP-able),
 * count it, and start its wait for a request head.  Returns its state, to
 * keep as libmicrohttpd's socket context: NULL when out of memory, and then
 * only libmicrohttpd's own timeout watches it.
 */
void *
eapi_connection_opened(struct MHD_Connection *conn)
{
	ConnectionState *state =
		MemoryContextAllocExtended(connection_state_context, sizeof(ConnectionState),
								   MCXT_ALLOC_NO_OOM | MCXT_ALLOC_ZERO);

	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
							  (unsigned int) eapi_idle_timeout);
	eapi_shmem_count_connection(1);
	if (state)
	{
		state->conn = conn;
		start_waiting(state);
	}
	return state;
}

/* A connection closed; state is what eapi_connection_opened returned. */
void
eapi_connection_closed(void *state)
{
	eapi_shmem_count_connection(-1);
	if (state)
	{
		stop_waiting(state);
		pfree(state);
	}
}

/* A request head is in: the connection no longer waits for one. */
void
eapi_connection_head_in(struct MHD_Connection *conn)
{
	stop_waiting(connection_state(conn));
}

/* A request was answered: the wait for the next head starts now. */
void
eapi_connection_answered(struct MHD_Connection *conn)
{
	start_waiting(connection_state(conn));
}

/*
 * Milliseconds until the longest-waiting connection's time is up: 0 when
 * it is, -1 when no connection waits or idle_timeout is 0 (never).
 */
long
eapi_connections_timeout_ms(void)
{
	ConnectionState *oldest;
	instr_time	waited;
	double		left;

	if (eapi_idle_timeout <= 0 || dlist_is_empty(&waiting_connections))
		return -1;
	oldest = dlist_head_element(ConnectionState, node, &waiting_connections);
	INSTR_TIME_SET_CURRENT(waited);
	INSTR_TIME_SUBTRACT(waited, oldest->waiting_since);
	left = eapi_idle_timeout * 1000.0 - INSTR_TIME_GET_MILLISEC(waited);
	return left <= 0 ? 0 : (long) left + 1;
}

/*
 * Close the connections whose request head is overdue.  Shutting the socket
 * down makes libmicrohttpd see the end of the stream at its next look and
 * close the connection the usual way (its close notification frees the
 * state).
 */
void
eapi_connections_close_stalled(void)
{
	while (eapi_connections_timeout_ms() == 0)
	{
		ConnectionState *oldest = dlist_head_element(ConnectionState, node,
													 &waiting_connections);
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(oldest->conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		stop_waiting(oldest);
		if (info)
			(void) shutdown(info->connect_fd, SHUT_RDWR);
	}
}
