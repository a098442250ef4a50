/*
 * libs.h - libxml2 and libzip, loaded on first use.
 *
 * Why: linked normally, libxml2 (with ICU and libstdc++) and libzip (with
 * libcrypto, bzip2 and xz) add about 5 MB to the daemon's resident memory
 * from the moment it starts, whether or not it ever reads an HTML page or
 * a DOCX file. Loading them with dlopen on the first parse keeps the idle
 * daemon small (docs/ARCHITECTURE.md, "Memory at rest").
 *
 * ingest__libs() loads both once (pthread_once) and returns the table of
 * the functions we use, or NULL when a library is missing; the table is
 * immutable afterwards and shared by every thread. The headers still come
 * from libxml2-dev and libzip-dev at build time, so every pointer has the
 * library's own prototype.
 */
#ifndef CC_INGEST_PARSE_LIBS_H
#define CC_INGEST_PARSE_LIBS_H

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <libxml/xmlerror.h>
#include <zip.h>

/* The functions of libxml2 we call. xmlGenericError is a per-thread
 * variable behind an accessor function; xmlFree (Debian's build has no
 * thread-local allocators) is a plain variable, so the table holds its
 * address. */
#define INGEST_XML_FUNCS(X)                                                     \
    X(xmlInitParser) X(xmlFreeDoc) X(xmlDocGetRootElement) X(xmlNodeGetContent) \
    X(xmlNewParserCtxt) X(xmlFreeParserCtxt) X(xmlCtxtReadMemory)               \
    X(xmlCtxtGetLastError) X(htmlNewParserCtxt) X(htmlFreeParserCtxt)          \
    X(htmlCtxtReadMemory) X(xmlSetGenericErrorFunc) X(__xmlGenericError)       \
    X(__xmlGenericErrorContext) X(xmlFree)                                      \
    X(xmlBuildURI) X(htmlEntityLookup) /* the feed parser's links and entities */

#define INGEST_ZIP_FUNCS(X)                                                     \
    X(zip_get_num_entries) X(zip_discard) X(zip_strerror) X(zip_stat_index)    \
    X(zip_source_free) X(zip_source_buffer_create) X(zip_open_from_source)     \
    X(zip_name_locate) X(zip_fread) X(zip_fopen_index) X(zip_file_strerror)    \
    X(zip_fclose) X(zip_error_strerror) X(zip_error_init) X(zip_error_fini)   \
    X(zip_error_code_zip)

struct ingest_libs {
#define INGEST_LIB_MEMBER(f) __typeof__(&f) f;
    INGEST_XML_FUNCS(INGEST_LIB_MEMBER)
    INGEST_ZIP_FUNCS(INGEST_LIB_MEMBER)
#undef INGEST_LIB_MEMBER
};

/* NULL if libxml2 or libzip cannot be loaded (the reason is in
 * ingest__libs_error()). */
const struct ingest_libs *ingest__libs(void);
const char *ingest__libs_error(void);

#endif
