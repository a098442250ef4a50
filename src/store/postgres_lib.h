/*
 * postgres_lib.h - libpq, loaded on first use.
 *
 * Why: linked normally, libpq brings libssl, libcrypto, GnuTLS, Kerberos and
 * LDAP into every daemon from the moment it starts (about 3 MB of resident
 * memory here), although most installations use SQLite. The PostgreSQL
 * backend loads libpq with dlopen when it opens (pg__lib_load); the headers
 * still come from libpq-dev at build time, so every pointer has libpq's own
 * prototype. Same pattern as src/ingest/parse/libs.h.
 *
 * The backend's files include postgres_int.h, which maps each PQxxx name to
 * the loaded table, so call sites read as plain libpq.
 */
#ifndef CC_STORE_POSTGRES_LIB_H
#define CC_STORE_POSTGRES_LIB_H

#include <libpq-fe.h>

#define PG_LIB_FUNCS(X)                                                          \
    X(PQclear) X(PQresultStatus) X(PQstatus) X(PQerrorMessage) X(PQreset)         \
    X(PQexec) X(PQresultErrorMessage) X(PQntuples) X(PQfreemem) X(PQexecParams)   \
    X(PQunescapeBytea) X(PQtransactionStatus) X(PQsetNoticeProcessor)            \
    X(PQresultErrorField) X(PQprepare) X(PQgetvalue) X(PQgetisnull) X(PQfinish)   \
    X(PQexecPrepared) X(PQconninfoParse) X(PQconninfoFree) X(PQconnectdb)         \
    X(PQcmdTuples) X(PQputCopyData) X(PQputCopyEnd) X(PQgetResult)                \
    X(PQgetCopyData)

struct pg_lib {
#define PG_LIB_MEMBER(f) __typeof__(&f) f;
    PG_LIB_FUNCS(PG_LIB_MEMBER)
#undef PG_LIB_MEMBER
};

/* Set once pg__lib_load succeeded; read-only afterwards. */
extern const struct pg_lib *pg__lib;

/* Loads libpq once (thread-safe). NULL on success, else why (for the log,
 * with what to install). */
const char *pg__lib_load(void);

#endif
