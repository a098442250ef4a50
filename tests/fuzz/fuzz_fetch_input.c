/*
 * fuzz_fetch_input.c - the fetcher's parsers of outside input, chosen by
 * the first byte: 'c' fetch.allow_networks (cc_cidr_list_parse), 'r' a
 * Retry-After header value, anything else a source's auth JSON. Besides
 * crashes it checks what a user would notice: a parsed network contains
 * its own address and nothing outside its prefix; a Retry-After wait is
 * never negative nor beyond a year; accepted auth always names a secret
 * (inline or file) and never one with a line break.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cidr.h"
#include "core/diag.h"
#include "ingest/fetch.h"
#include "ingest/fetch_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_networks(const char *s)
{
    struct cc_cidr nets[8];
    size_t n;
    char why[256];
    if (cc_cidr_list_parse(s, nets, 8, &n, why, sizeof(why)) != CC_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        if (nets[i].prefix > 128 || !cc_cidr_contains(&nets[i], nets[i].addr))
            abort();
        if (nets[i].prefix < 128) { /* flip the first bit past the prefix: still inside */
            unsigned char a[16];
            memcpy(a, nets[i].addr, 16);
            a[nets[i].prefix / 8] ^= (unsigned char)(0x80u >> (nets[i].prefix % 8));
            if (!cc_cidr_contains(&nets[i], a))
                abort();
        }
        if (nets[i].prefix > 0) { /* flip the last bit of the prefix: outside */
            unsigned char a[16];
            unsigned bit = nets[i].prefix - 1;
            memcpy(a, nets[i].addr, 16);
            a[bit / 8] ^= (unsigned char)(0x80u >> (bit % 8));
            if (cc_cidr_contains(&nets[i], a))
                abort();
        }
    }
}

static void check_retry_after(const char *s)
{
    int64_t ms = -1;
    if (ingest__retry_after_parse(s, 1800000000000LL, &ms) &&
        (ms < 0 || ms > 366LL * 24 * 3600 * 1000))
        abort();
}

static void check_auth(const char *s)
{
    struct ingest_fetch_auth a;
    struct cc_diag d = {0};
    if (ingest_fetch_auth_parse(s, &a, &d) != CC_OK || a.type == INGEST_AUTH_NONE)
        return;
    if (!a.secret[0] == !a.secret_file[0])
        abort(); /* exactly one of them */
    if (!ingest__header_value_ok(a.secret) || !ingest__header_value_ok(a.name))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (data[0] == 'c')
        check_networks(s);
    else if (data[0] == 'r')
        check_retry_after(s);
    else
        check_auth(s);
    free(s);
    return 0;
}
