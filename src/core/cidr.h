/*
 * cidr.h - IP networks in CIDR notation ("10.0.0.0/8", "fd00::/8",
 * "127.0.0.1" = /32) and matching addresses against them.
 *
 * Every address is held as 16 bytes: an IPv4 address as its IPv4-mapped
 * IPv6 form (::ffff:a.b.c.d) and an IPv4 prefix as prefix + 96, so one
 * comparison serves both families and "127.0.0.1/32" matches a connection
 * to ::ffff:127.0.0.1 (the same host). Pure functions, no allocation.
 */
#ifndef CC_CORE_CIDR_H
#define CC_CORE_CIDR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct cc_cidr {
    unsigned char addr[16];   /* host bits below the prefix are zero */
    unsigned prefix;          /* 0-128, over the 16-byte form */
};

/* Parses "addr" or "addr/len" (IPv4 dotted quad or IPv6; len 0-32 or
 * 0-128). Host bits set below the prefix ("10.1.2.3/8") are refused as a
 * likely mistake. CC_EINVAL with why (if given) on anything else. */
cc_err cc_cidr_parse(const char *s, struct cc_cidr *out, char *why, size_t whysz);

/* Parses a list separated by commas and/or blanks ("" = empty list) into
 * out[0..max); *n the count. CC_EINVAL naming the bad entry, CC_ELIMIT
 * past max entries. */
cc_err cc_cidr_list_parse(const char *s, struct cc_cidr *out, size_t max, size_t *n,
                          char *why, size_t whysz);

/* Whether a (16-byte form) lies in c. */
bool cc_cidr_contains(const struct cc_cidr *c, const unsigned char a[16]);

/* The 16-byte form of an IPv4 address given as 4 bytes in network order. */
void cc_ip4_to16(const unsigned char v4[4], unsigned char out[16]);

/* Whether a is IPv4-mapped (::ffff:0:0/96), i.e. an IPv4 address. */
bool cc_ip_is_v4(const unsigned char a[16]);

/* Text of a 16-byte address: dotted quad for IPv4-mapped, else RFC 5952
 * IPv6. out must hold 46 bytes (INET6_ADDRSTRLEN). */
void cc_ip_format(const unsigned char a[16], char *out, size_t outsz);

#endif
