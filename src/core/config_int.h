/*
 * config_int.h - what the files of the config module share: config_keys.c
 * (the key table), config.c (values, environment, output) and config_yaml.c
 * (the YAML front end). Not for other modules.
 *
 * The table cc__cfg_keys is the single declaration of every key; a key's
 * value text is parsed only by cc__cfg_set_text, whatever its source.
 */
#ifndef CC_CORE_CONFIG_INT_H
#define CC_CORE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define CC_CFG_MAX_FILE   (1024 * 1024)  /* a config file is a few KiB */
#define CC_CFG_MAX_PATH   128            /* longest dotted key we look up */
#define CC_CFG_WHY_MAX    320            /* room for "what is expected" */

/* Units of the key table's limits, also used to format them. */
#define KIB        1024LL
#define MIB        (1024LL * 1024)
#define GIB        (1024LL * 1024 * 1024)
#define SEC        1000LL
#define HOUR       (3600LL * 1000)

enum cc_cfg_type {
    CC_CFG_STRING, CC_CFG_BOOL, CC_CFG_UINT, CC_CFG_DOUBLE,
    CC_CFG_DURATION, CC_CFG_SIZE, CC_CFG_ENUM,
};

#define CC_CFG_SECRET 1u  /* may come from "<key>_file"; redacted in dumps */

struct cc_cfg_key {
    const char *path;             /* dotted: "http.listen" */
    enum cc_cfg_type type;
    size_t offset;                /* into struct cc_config */
    const char *def;              /* parsed like any YAML value */
    int64_t min, max;             /* UINT, DURATION (ms), SIZE (bytes) */
    double dmin, dmax;            /* DOUBLE */
    const char *const *values;    /* ENUM, NULL-terminated */
    unsigned flags;
    /* Extra syntax check on the text; writes what is wrong to `why`. */
    bool (*check)(const char *s, char *why, size_t whysz);
    const char *help;
};

extern const struct cc_cfg_key *const cc__cfg_keys;
extern const size_t cc__cfg_nkeys;

/* Lookups by dotted path; NULL/false when there is no such key. */
const struct cc_cfg_key *cc__cfg_find(const char *path);
bool cc__cfg_is_section(const char *path);                 /* "http" */
const struct cc_cfg_key *cc__cfg_find_secret_file(const char *path); /* "x_file" */

/* Parses `s` for `k` and stores it in c; false with `why` (what is
 * expected, e.g. "expected an integer between 0 and 256") on bad input. */
bool cc__cfg_set_text(struct cc_config *c, const struct cc_cfg_key *k, const char *s,
                      char *why, size_t whysz);
/* Deep copy (a load works on one); replace releases c and moves next in. */
void cc__cfg_copy(struct cc_config *dst, const struct cc_config *src);
void cc__cfg_replace(struct cc_config *c, struct cc_config *next);

/* Reads a secret file; *out is a heap string on success. */
bool cc__cfg_read_secret(const char *path, char **out, char *why, size_t whysz);
void cc__cfg_errno_why(char *why, size_t whysz, const char *path, int err);
/* "a boolean (true/false)", "one of: debug, info, ..." */
void cc__cfg_expected_noun(const struct cc_cfg_key *k, char *out, size_t outsz);
/* A printable excerpt of at most 40 characters of user input. */
void cc__cfg_excerpt(const char *s, char *out, size_t outsz);

#endif
