/*
 * cidr.c: networks as "addr/bits", parsed once and matched against a
 * peer's address per request (trusted proxies).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"

/*
 * "addr" or "addr/bits".  Host bits are cleared, and an IPv4-mapped IPv6
 * network becomes the IPv4 one so that matching needs one form only.
 * 0, or -1 if s is not one.  Any process.
 */
int
cidr_parse(const char *s, struct cidr *c)
{
	static const uint8_t	 mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	char			 addr[INET6_ADDRSTRLEN];
	const char		*slash;
	char			*end;
	unsigned long		 bits;
	size_t			 len;
	int			 max, i;

	memset(c, 0, sizeof(*c));
	slash = strchr(s, '/');
	len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= sizeof(addr))
		return (-1);
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, c->c_addr) == 1) {
		c->c_family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->c_addr) == 1) {
		c->c_family = AF_INET6;
		max = 128;
	} else
		return (-1);
	c->c_bits = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return (-1);
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || errno != 0 || bits > (unsigned long)max)
			return (-1);
		c->c_bits = bits;
	}
	for (i = c->c_bits; i < max; i++)
		c->c_addr[i / 8] &= ~(0x80 >> (i % 8));
	if (c->c_family == AF_INET6 && c->c_bits >= 96 &&
	    memcmp(c->c_addr, mapped, sizeof(mapped)) == 0) {
		memmove(c->c_addr, c->c_addr + 12, 4);
		memset(c->c_addr + 4, 0, 12);
		c->c_family = AF_INET;
		c->c_bits -= 96;
	}
	return (0);
}

/*
 * 1 if sa (AF_INET or AF_INET6, IPv4-mapped IPv6 counting as IPv4) lies
 * in one of the n networks of list, else 0.  Workers, per request.
 */
int
cidr_match(const struct cidr *list, size_t n, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	const uint8_t			*addr;
	size_t				 i;
	int				 family, bits, full, rest;

	if (sa == NULL)
		return (0);
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		addr = (const uint8_t *)&sin->sin_addr;
		family = AF_INET;
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		addr = (const uint8_t *)&sin6->sin6_addr;
		family = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			addr += 12;
			family = AF_INET;
		}
		break;
	default:
		return (0);
	}
	for (i = 0; i < n; i++) {
		if (list[i].c_family != family)
			continue;
		bits = list[i].c_bits;
		full = bits / 8;
		rest = bits % 8;
		if (memcmp(list[i].c_addr, addr, full) != 0)
			continue;
		if (rest != 0 && ((list[i].c_addr[full] ^ addr[full]) &
		    (0xff << (8 - rest)) & 0xff) != 0)
			continue;
		return (1);
	}
	return (0);
}
