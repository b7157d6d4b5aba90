/*-------------------------------------------------------------------------
 *
 * forwarded.c
 *		Client addresses: PostgreSQL's inet parser, the trusted-proxy list
 *		(ecommerce_api.trusted_proxies) and X-Forwarded-For.
 *
 * Pure functions of their arguments, for ratelimit.c, which decides who a
 * request's client is; no libmicrohttpd, no GUC machinery, no ERROR on bad
 * input.  That is what lets fuzz/ compile this file into a fuzz target.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "utils/builtins.h"
#include "utils/inet.h"

#include "forwarded.h"

/* Longest X-Forwarded-For entry we parse: an IPv6 address with IPv4 tail. */
#define MAX_FORWARDED_ENTRY		64

/*
 * Parse an IPv4 or IPv6 address, followed by "/bits" when bits is not NULL,
 * with the parser behind PostgreSQL's inet type.  An IPv4-mapped IPv6 address
 * becomes the IPv4 address it carries.  Returns false on anything else
 * (a name, a port, a zone, stray characters).
 */
bool
eapi_parse_inet(const char *text, ClientAddr *addr, int *bits)
{
	bool		v6 = strchr(text, ':') != NULL;
	int			nbits;
	static const uint8 v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(addr, 0, sizeof(*addr));
	if (bits == NULL && strchr(text, '/') != NULL)
		return false;
	/* size -1: inet input, where a prefix length is optional */
	nbits = pg_inet_net_pton(v6 ? PGSQL_AF_INET6 : PGSQL_AF_INET, text,
							 addr->bytes, (size_t) -1);
	if (nbits < 0 || nbits > (v6 ? 128 : 32))
		return false;
	addr->family = v6 ? AF_INET6 : AF_INET;
	if (v6 && memcmp(addr->bytes, v4mapped, sizeof(v4mapped)) == 0 &&
		(bits == NULL || nbits >= 96))
	{
		memmove(addr->bytes, addr->bytes + 12, 4);
		memset(addr->bytes + 4, 0, 12);
		addr->family = AF_INET;
		nbits -= 96;
	}
	if (bits)
	{
		/* keep only the network part, so matching compares whole bytes */
		for (int i = 0; i < 16; i++)
		{
			int			keep = Min(Max(nbits - i * 8, 0), 8);

			addr->bytes[i] &= (uint8) (0xff00 >> keep);
		}
		*bits = nbits;
	}
	return true;
}

/* Is this address in the list (NULL: an empty one)? */
bool
eapi_proxies_contain(const TrustedProxies *list, const ClientAddr *addr)
{
	if (list == NULL)
		return false;
	for (int i = 0; i < list->count; i++)
	{
		const ProxyBlock *block = &list->blocks[i];
		int			whole = block->bits / 8;
		int			rest = block->bits % 8;

		if (block->addr.family != addr->family ||
			memcmp(block->addr.bytes, addr->bytes, whole) != 0)
			continue;
		if (rest == 0 ||
			(addr->bytes[whole] & (uint8) (0xff00 >> rest)) == block->addr.bytes[whole])
			return true;
	}
	return false;
}

/*
 * Parse a trusted-proxy list: comma-separated addresses and CIDR blocks.
 * Returns it malloc'd (ratelimit.c hands it on to guc.c), or NULL: then
 * *bad_entry is the first entry that is not an address or block (palloc'd),
 * or NULL when out of memory.
 */
TrustedProxies *
eapi_parse_trusted_proxies(const char *text, char **bad_entry)
{
	char	   *copy = pstrdup(text);
	int			max_blocks = 1;
	TrustedProxies *list;
	char	   *p;

	*bad_entry = NULL;
	for (p = copy; *p; p++)
		if (*p == ',')
			max_blocks++;
	list = malloc(offsetof(TrustedProxies, blocks) + max_blocks * sizeof(ProxyBlock));
	if (list == NULL)
	{
		pfree(copy);
		return NULL;
	}
	list->count = 0;

	for (p = copy; *p;)
	{
		char	   *entry;
		char	   *end;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		entry = p;
		while (*p && *p != ',')
			p++;
		end = p;
		if (*p)
			p++;
		while (end > entry && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';

		if (!eapi_parse_inet(entry, &list->blocks[list->count].addr,
							 &list->blocks[list->count].bits))
		{
			*bad_entry = pstrdup(entry);
			free(list);
			pfree(copy);
			return NULL;
		}
		list->count++;
	}
	pfree(copy);
	return list;
}

/*
 * The client behind a trusted proxy.  Each proxy appends the address it got
 * the request from, so X-Forwarded-For is read from the right: past the
 * entries that are trusted proxies themselves, the first one that is not is
 * the client (anything left of it may be forged).  When every entry is a
 * trusted proxy, the leftmost is as far as we can see.  Several header lines
 * read as one list: values is the ring of the last MAX_FORWARDED_HEADERS
 * lines, line i at values[i % MAX_FORWARDED_HEADERS], count the lines seen.
 * Returns false when there is none or an entry is not a plain IP address.
 */
bool
eapi_forwarded_client(const char *const *values, int count,
					  const TrustedProxies *list, ClientAddr *client)
{
	ClientAddr	hop = {0};

	if (count == 0)
		return false;

	for (int h = count - 1; h >= Max(count - MAX_FORWARDED_HEADERS, 0); h--)
	{
		const char *value = values[h % MAX_FORWARDED_HEADERS];
		const char *end = value + strlen(value);

		for (;;)
		{
			const char *start = end;
			const char *first;
			const char *last = end;
			char		entry[MAX_FORWARDED_ENTRY];

			while (start > value && start[-1] != ',')
				start--;
			first = start;
			while (first < last && (*first == ' ' || *first == '\t'))
				first++;
			while (last > first && (last[-1] == ' ' || last[-1] == '\t'))
				last--;
			if (last == first || last - first >= MAX_FORWARDED_ENTRY)
				return false;
			memcpy(entry, first, last - first);
			entry[last - first] = '\0';
			if (!eapi_parse_inet(entry, &hop, NULL))
				return false;
			if (!eapi_proxies_contain(list, &hop))
			{
				*client = hop;
				return true;
			}
			if (start == value)
				break;
			end = start - 1;	/* before the comma */
		}
	}
	*client = hop;
	return true;
}
