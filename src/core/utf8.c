/*
 * utf8.c - strict UTF-8 validation (RFC 3629, table 3-7 of Unicode).
 */
#include "core/utf8.h"

bool cc_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF;   /* the second byte's range */
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0)
                lo = 0xA0;                    /* no overlong 3-byte forms */
            else if (c == 0xED)
                hi = 0x9F;                    /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0)
                lo = 0x90;                    /* no overlong 4-byte forms */
            else if (c == 0xF4)
                hi = 0x8F;                    /* nothing above U+10FFFF */
        } else {
            return false;                     /* continuation, C0, C1, F5-FF */
        }
        if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        i += n;
    }
    return true;
}
