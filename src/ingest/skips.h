/*
 * skips.h - what a folder ingest or scan left out, counted by reason, and
 * the one sentence that reports it ("2 over the size cap, 1 unsupported
 * type (.xyz)"). Shared by the file source's runs (ingest/sources/file.c)
 * and `commandcenter ingest DIR` (cli/cmd_ingest.c), so both say it the
 * same way. Pure: no I/O, no allocation.
 */
#ifndef CC_INGEST_SKIPS_H
#define CC_INGEST_SKIPS_H

#include <stddef.h>
#include <stdint.h>

#define INGEST_SKIP_EXTS 8

struct ingest_skips {
    int64_t too_big;           /* over the size cap */
    int64_t unsupported;       /* no parser for the type */
    int64_t not_regular;       /* symlinks, devices, sockets: never followed */
    int64_t excluded;          /* options.exclude */
    char ext[INGEST_SKIP_EXTS][16];   /* unsupported extensions seen first, "" = none */
    int64_t ext_n[INGEST_SKIP_EXTS];
};

/* Counts an unsupported file by its name's extension ("no extension" without
 * one; past INGEST_SKIP_EXTS distinct ones only the total grows). */
void ingest_skips_unsupported(struct ingest_skips *k, const char *name);

/* Writes "2 over the size cap, 1 unsupported type (.xyz)" ("" when
 * nothing was skipped), cut to outsz; returns the total skipped. */
int64_t ingest_skips_format(const struct ingest_skips *k, char *out, size_t outsz);

#endif
