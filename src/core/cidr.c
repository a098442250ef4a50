/*
 * cidr.c - CIDR networks (see cidr.h).
 */
#include "core/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CIDR_TEXT_MAX 64   /* the longest IPv6 text plus "/128" fits */

static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void cc_ip4_to16(const unsigned char v4[4], unsigned char out[16])
{
    memcpy(out, v4_mapped_prefix, 12);
    memcpy(out + 12, v4, 4);
}

bool cc_ip_is_v4(const unsigned char a[16])
{
    return memcmp(a, v4_mapped_prefix, 12) == 0;
}

void cc_ip_format(const unsigned char a[16], char *out, size_t outsz)
{
    if (cc_ip_is_v4(a)) {
        snprintf(out, outsz, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
        return;
    }
    if (!inet_ntop(AF_INET6, a, out, (socklen_t)outsz) && outsz)
        out[0] = '\0';
}

bool cc_cidr_contains(const struct cc_cidr *c, const unsigned char a[16])
{
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, a, full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (a[full] & mask) == c->addr[full];
}

/* Whether the prefix length text is 1-3 digits up to max. */
static bool parse_len(const char *s, unsigned max, unsigned *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 3 || strspn(s, "0123456789") != n || (n > 1 && s[0] == '0'))
        return false;
    unsigned long v = strtoul(s, NULL, 10);
    if (v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

static bool host_bits_zero(const unsigned char a[16], unsigned prefix)
{
    for (unsigned bit = prefix; bit < 128; bit++)
        if (a[bit / 8] & (0x80u >> (bit % 8)))
            return false;
    return true;
}

cc_err cc_cidr_parse(const char *s, struct cc_cidr *out, char *why, size_t whysz)
{
    char text[CIDR_TEXT_MAX];
    char dummy[1];
    if (!why) {
        why = dummy;
        whysz = sizeof(dummy);
    }
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(text)) {
        snprintf(why, whysz, "'%.64s' is not an IP address or network", s);
        return CC_EINVAL;
    }
    memcpy(text, s, n + 1);
    char *slash = strchr(text, '/');
    if (slash)
        *slash = '\0';
    struct cc_cidr c = {0};
    unsigned char v4[4];
    unsigned max;
    if (inet_pton(AF_INET, text, v4) == 1) {
        cc_ip4_to16(v4, c.addr);
        max = 32;
    } else if (inet_pton(AF_INET6, text, c.addr) == 1) {
        max = 128;
    } else {
        snprintf(why, whysz, "'%s' is not an IP address or network (e.g. 10.0.0.0/8, fd00::/8)",
                 s);
        return CC_EINVAL;
    }
    unsigned len = max;
    if (slash && !parse_len(slash + 1, max, &len)) {
        snprintf(why, whysz, "'%s': the prefix length must be a number from 0 to %u", s, max);
        return CC_EINVAL;
    }
    c.prefix = len + (128 - max);
    if (!host_bits_zero(c.addr, c.prefix)) {
        snprintf(why, whysz, "'%s' has bits set past its /%u prefix; did you mean the network "
                             "address?", s, len);
        return CC_EINVAL;
    }
    *out = c;
    return CC_OK;
}

cc_err cc_cidr_list_parse(const char *s, struct cc_cidr *out, size_t max, size_t *n,
                          char *why, size_t whysz)
{
    static const char seps[] = ", \t\r\n";
    size_t count = 0;
    const char *p = s;
    for (;;) {
        p += strspn(p, seps);
        if (!*p)
            break;
        size_t len = strcspn(p, seps);
        char item[CIDR_TEXT_MAX];
        if (len >= sizeof(item)) {
            if (why)
                snprintf(why, whysz, "'%.*s...' is not an IP address or network", 40, p);
            return CC_EINVAL;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (count == max) {
            if (why)
                snprintf(why, whysz, "more than %zu networks", max);
            return CC_ELIMIT;
        }
        cc_err e = cc_cidr_parse(item, &out[count], why, whysz);
        if (e)
            return e;
        count++;
        p += len;
    }
    *n = count;
    return CC_OK;
}
