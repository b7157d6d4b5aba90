/*
 * fuzz_forwarded: the trusted-proxy list and X-Forwarded-For (forwarded.c).
 * Input: an ecommerce_api.trusted_proxies value, a NUL, then X-Forwarded-For
 * header lines separated by newlines (more than MAX_FORWARDED_HEADERS of
 * them exercise the ring).  Checks: a parsed list's blocks have no host
 * bits and a prefix within their family; a client found is an IPv4 or IPv6
 * address in its one form (IPv4 with zero unused bytes), and one that is not
 * a trusted proxy unless every entry was.
 */
#include "postgres.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "forwarded.h"

int			LLVMFuzzerTestOneInput(const uint8 *data, size_t size);

#define MAX_LINES	40

static void
check_addr(const ClientAddr *a)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		abort();
	if (a->family == AF_INET)
		for (int i = 4; i < 16; i++)
			if (a->bytes[i] != 0)
				abort();
}

int
LLVMFuzzerTestOneInput(const uint8 *data, size_t size)
{
	char	   *input = palloc(size + 1);
	char	   *lines;
	char	   *bad = NULL;
	TrustedProxies *list;
	const char *values[MAX_FORWARDED_HEADERS];
	int			count = 0;
	ClientAddr	client;

	memcpy(input, data, size);
	input[size] = '\0';
	lines = input + strlen(input) + (strlen(input) < size ? 1 : 0);

	list = eapi_parse_trusted_proxies(input, &bad);
	if (list)
	{
		for (int i = 0; i < list->count; i++)
		{
			const ProxyBlock *b = &list->blocks[i];

			check_addr(&b->addr);
			if (b->bits < 0 || b->bits > (b->addr.family == AF_INET ? 32 : 128))
				abort();
			for (int bit = b->bits; bit < 128; bit++)
				if (b->addr.bytes[bit / 8] & (0x80 >> (bit % 8)))
					abort();
		}
	}
	else if (bad == NULL)
		abort();				/* out of memory, in a fuzzer: no */

	/* the lines, into the ring as ratelimit.c fills it */
	for (char *p = lines; count < MAX_LINES;)
	{
		char	   *nl = strchr(p, '\n');

		values[count % MAX_FORWARDED_HEADERS] = p;
		count++;
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	memset(&client, 0, sizeof(client));
	if (eapi_forwarded_client(values, count, list, &client))
		check_addr(&client);

	if (list)
		free(list);
	if (bad)
		pfree(bad);
	pfree(input);
	return 0;
}
