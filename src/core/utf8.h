/*
 * utf8.h - strict UTF-8 validation for bytes that came from outside.
 *
 * Valid means RFC 3629: shortest forms only, no surrogates (U+D800-DFFF),
 * nothing above U+10FFFF. Everything that echoes client bytes back in JSON
 * (paths, query values) checks them here first, so a handler never has to
 * decide what to do with bytes JSON cannot carry.
 */
#ifndef CC_CORE_UTF8_H
#define CC_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* true when s[0..len) is valid UTF-8 (NUL bytes are valid code points). */
bool cc_utf8_valid(const char *s, size_t len);

#endif
