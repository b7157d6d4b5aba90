/*-------------------------------------------------------------------------
 *
 * forwarded.h
 *		Client addresses: parsing, the trusted-proxy list, X-Forwarded-For
 *		(forwarded.c).
 *
 * Kept apart from ecommerce_api.h, like wire.h, because fuzz/ compiles
 * forwarded.c on its own: nothing here needs libmicrohttpd or shared memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef EAPI_FORWARDED_H
#define EAPI_FORWARDED_H

/* More X-Forwarded-For lines than this in one request are not believed. */
#define MAX_FORWARDED_HEADERS	16

/*
 * An IPv4 or IPv6 address.  IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are
 * stored as the IPv4 address they carry, so a client has one form.  It is
 * the shared table's hash key: unused bytes are always zero.
 */
typedef struct ClientAddr
{
	uint8		family;			/* AF_INET or AF_INET6 */
	uint8		pad[3];
	uint8		bytes[16];		/* network order; IPv4 uses the first 4 */
} ClientAddr;

/* One entry of ecommerce_api.trusted_proxies: an address and a prefix length. */
typedef struct ProxyBlock
{
	ClientAddr	addr;			/* host bits are zero */
	int			bits;
} ProxyBlock;

/* The parsed list; GUC "extra" data, so malloc'd and owned by guc.c. */
typedef struct TrustedProxies
{
	int			count;
	ProxyBlock	blocks[FLEXIBLE_ARRAY_MEMBER];
} TrustedProxies;

extern bool eapi_parse_inet(const char *text, ClientAddr *addr, int *bits);
extern TrustedProxies *eapi_parse_trusted_proxies(const char *text, char **bad_entry);
extern bool eapi_proxies_contain(const TrustedProxies *list, const ClientAddr *addr);
extern bool eapi_forwarded_client(const char *const *values, int count,
								  const TrustedProxies *list, ClientAddr *client);

#endif							/* EAPI_FORWARDED_H */
