/*
 * cmd_ingest.c - `commandcenter ingest FILE|DIR`: uploads files as documents
 * (one job each) and follows the jobs to the end, with a progress bar on a
 * terminal.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/base64.h"
#include "core/buf.h"
#include "ingest/skips.h"

#define FILE_LIMIT (64u << 20)
#define MAX_FILES 100000
#define MAX_DEPTH 32

static const char usage_text[] =
    "usage: commandcenter ingest FILE|DIR... [--source S] [--tag T]... [--version V]\n"
    "                            [--no-wait] [--server URL] [--json]\n"
    "\n"
    "Uploads Markdown, text, reStructuredText, AsciiDoc, HTML, PDF and DOCX files\n"
    "(folders recursively) to a manual source as documents, then waits for their\n"
    "ingestion jobs. A file's id is its path relative to the argument, so ingesting\n"
    "again updates documents in place and unchanged files are no-ops. What a folder\n"
    "holds besides (other types, files over 64 MiB, symlinks) is skipped and counted\n"
    "in the summary; hidden files and folders are left out. Needs an admin token.\n"
    "\n"
    "  --source S   the manual source to add to (default: manual)\n"
    "  --tag T      tag every document (repeatable)\n"
    "  --version V  documentation version of every document\n"
    "  --no-wait    print the job ids and return without waiting\n";

static const struct {
    const char *ext;
    const char *type;
    bool binary;
} types[] = {
    {".md", "text/markdown", false},   {".markdown", "text/markdown", false},
    {".txt", "text/plain", false},     {".text", "text/plain", false},
    {".html", "text/html", false},     {".htm", "text/html", false},
    {".pdf", "application/pdf", true},
    {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", true},
    {".rst", "text/x-rst", false},     {".rest", "text/x-rst", false},
    {".adoc", "text/asciidoc", false}, {".asciidoc", "text/asciidoc", false},
    {".asc", "text/asciidoc", false},
};

#define SUPPORTED_HINT "supported: .md .markdown .txt .text .rst .rest .adoc .asciidoc .asc " \
                       ".html .htm .pdf .docx"

struct file {
    char *path;
    char *rel;
    int type;
    long long job;
    const char *outcome;   /* NULL while unknown */
    char *error;
};

struct ingest {
    struct cli_client *client;
    const char *source;
    const char *version;
    json_t *tags;
    struct file *files;
    size_t n, cap;
    bool tty;
    struct ingest_skips skips;   /* what folders held besides */
};

static int type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot, types[i].ext) == 0)
            return (int)i;
    return -1;
}

static int add_file(struct ingest *in, const char *path, const char *rel, off_t size)
{
    int t = type_of(path);
    if (t < 0) {
        ingest_skips_unsupported(&in->skips, rel);
        return 0;
    }
    if ((uint64_t)size > FILE_LIMIT) {
        in->skips.too_big++;
        return 0;
    }
    if (in->n >= MAX_FILES) {
        cli__error("ingest fewer files at once", "more than %d files", MAX_FILES);
        return -1;
    }
    if (in->n == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 64;
        in->files = cc_xrealloc(in->files, in->cap * sizeof(*in->files));
    }
    in->files[in->n++] = (struct file){.path = cc_xstrdup(path), .rel = cc_xstrdup(rel),
                                       .type = t};
    return 0;
}

static int walk(struct ingest *in, const char *dir, size_t root_len, int depth)
{
    if (depth > MAX_DEPTH)
        return 0;
    DIR *d = opendir(dir);
    if (!d) {
        cli__error(NULL, "cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
            continue;
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            rc = walk(in, path, root_len, depth + 1);
        else if (S_ISREG(st.st_mode))
            rc = add_file(in, path, path + root_len + 1, st.st_size);
        else
            in->skips.not_regular++;
    }
    closedir(d);
    return rc;
}

static int collect(struct ingest *in, const char *arg)
{
    if (strstr(arg, "://")) {
        cli__error("download the page or file and ingest it from disk; feed and "
                   "documentation-site sources arrive with the sources work",
                   "ingesting URLs is not supported yet: %s", arg);
        return CLI_USAGE;
    }
    struct stat st;
    if (stat(arg, &st) != 0) {
        cli__error(NULL, "cannot read %s: %s", arg, strerror(errno));
        return CLI_USAGE;
    }
    if (S_ISDIR(st.st_mode)) {
        size_t len = strlen(arg);
        while (len > 1 && arg[len - 1] == '/')
            len--;
        char root[4096];
        snprintf(root, sizeof(root), "%.*s", (int)len, arg);
        return walk(in, root, len, 0) ? CLI_FAIL : CLI_OK;
    }
    if (type_of(arg) < 0) {
        cli__error(SUPPORTED_HINT, "%s: unsupported file type", arg);
        return CLI_USAGE;
    }
    if ((uint64_t)st.st_size > FILE_LIMIT) {
        cli__error(NULL, "%s: over the %u MiB a file may have", arg, FILE_LIMIT >> 20);
        return CLI_USAGE;
    }
    const char *base = strrchr(arg, '/');
    return add_file(in, arg, base ? base + 1 : arg, st.st_size) ? CLI_FAIL : CLI_OK;
}

static json_t *read_document(struct ingest *in, const struct file *f)
{
    FILE *fp = fopen(f->path, "rb");
    if (!fp)
        return NULL;
    struct cc_buf b;
    cc_buf_init(&b, FILE_LIMIT);
    char chunk[65536];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        ok = cc_buf_add(&b, chunk, n) == CC_OK;
    ok = ok && !ferror(fp);
    fclose(fp);
    json_t *doc = NULL;
    if (ok) {
        doc = json_pack("{s:s, s:s, s:s}", "source", in->source, "external_id", f->rel,
                        "content_type", types[f->type].type);
        /* Text that is not valid UTF-8 travels as base64 too; the server
         * replaces the bad bytes when it extracts. */
        json_t *text = types[f->type].binary ? NULL : json_stringn(cc_buf_str(&b), b.len);
        if (text) {
            json_object_set_new(doc, "content", text);
        } else {
            char *enc = cc_xmalloc(cc_base64_encoded_size(b.len));
            cc_base64_encode((const uint8_t *)cc_buf_str(&b), b.len, enc);
            json_object_set_new(doc, "content_base64", json_string(enc));
            free(enc);
        }
        if (in->tags)
            json_object_set(doc, "tags", in->tags);
        if (in->version)
            json_object_set_new(doc, "version", json_string(in->version));
    }
    cc_buf_release(&b);
    return doc;
}

static void progress(const struct ingest *in, const char *what, size_t done)
{
    if (!in->tty)
        return;
    int width = 30, filled = in->n ? (int)(done * (size_t)width / in->n) : width;
    fprintf(stderr, "\r%-9s [%.*s%*s] %zu/%zu", what, filled,
            "==============================", width - filled, "", done, in->n);
    if (done == in->n)
        fputc('\n', stderr);
}

/* Uploads every file; a full queue (429) is waited out and retried. */
static int upload(struct ingest *in)
{
    int failures = 0;
    for (size_t i = 0; i < in->n; i++) {
        struct file *f = &in->files[i];
        json_t *doc = read_document(in, f);
        if (!doc) {
            f->outcome = "unreadable";
            failures++;
            continue;
        }
        json_t *ans = NULL;
        int rc;
        for (int tries = 0;; tries++) {
            in->client->quiet_status = 429;
            rc = cli__request(in->client, "POST", "/api/v1/knowledge/documents", doc, &ans);
            in->client->quiet_status = 0;
            if (rc == CLI_OK || in->client->last_status != 429 || tries > 60)
                break;
            sleep(2);   /* the server's queue is full: let it drain */
        }
        json_decref(doc);
        if (rc != CLI_OK) {
            f->outcome = "refused";
            failures++;
            if (in->client->last_status == 0)
                return -1;   /* the daemon is gone: stop here */
            continue;
        }
        f->job = (long long)json_integer_value(json_object_get(ans, "job_id"));
        json_decref(ans);
        progress(in, "uploaded", i + 1);
    }
    return failures;
}

/* Follows the jobs in order (workers take them roughly in that order).
 * Polls back off from 100 ms to 1 s while a job stays unfinished, and the
 * daemon's rate limit (429) is waited out, never counted as a failure:
 * the answer about a job is what the daemon did with it. */
static void wait_jobs(struct ingest *in)
{
    size_t done = 0;
    for (size_t i = 0; i < in->n; i++) {
        struct file *f = &in->files[i];
        long wait_ms = 100;
        int limited = 0;
        while (f->job && !f->outcome) {
            char path[64];
            snprintf(path, sizeof(path), "/api/v1/jobs/%lld", f->job);
            json_t *j = NULL;
            in->client->quiet_status = 429;
            int rc = cli__request(in->client, "GET", path, NULL, &j);
            in->client->quiet_status = 0;
            if (rc != CLI_OK && in->client->last_status == 429 && limited++ < 300) {
                sleep(1);
                continue;
            }
            if (rc != CLI_OK) {
                f->outcome = "unknown";
                break;
            }
            const char *state = json_string_value(json_object_get(j, "state"));
            if (state && !strcmp(state, "succeeded")) {
                f->outcome = "ingested";
            } else if (state && !strcmp(state, "dead")) {
                f->outcome = "failed";
                const char *e = json_string_value(json_object_get(j, "last_error"));
                f->error = e ? cc_xstrdup(e) : NULL;
            }
            json_decref(j);
            if (!f->outcome) {
                struct timespec ts = {.tv_sec = wait_ms / 1000,
                                      .tv_nsec = (wait_ms % 1000) * 1000000};
                nanosleep(&ts, NULL);
                wait_ms = wait_ms * 2 > 1000 ? 1000 : wait_ms * 2;
            }
        }
        progress(in, "ingested", ++done);
    }
}

static int report_json(struct ingest *in)
{
    json_t *files = json_array();
    size_t ok = 0;
    for (size_t i = 0; i < in->n; i++) {
        const struct file *f = &in->files[i];
        bool good = f->outcome && !strcmp(f->outcome, "ingested");
        ok += good;
        json_array_append_new(files, json_pack("{s:s, s:s, s:o, s:s, s:s?}", "path", f->path,
                                               "external_id", f->rel, "job_id",
                                               f->job ? json_integer(f->job) : json_null(),
                                               "outcome", f->outcome ? f->outcome : "unknown",
                                               "error", f->error));
    }
    const struct ingest_skips *k = &in->skips;
    json_t *exts = json_object();
    for (size_t i = 0; i < INGEST_SKIP_EXTS && k->ext[i][0]; i++)
        json_object_set_new(exts, k->ext[i], json_integer(k->ext_n[i]));
    json_t *j = json_pack("{s:o, s:I, s:I, s:{s:I, s:I, s:I, s:o}}", "files", files,
                          "ingested", (json_int_t)ok, "failed", (json_int_t)(in->n - ok),
                          "skipped", "too_big", (json_int_t)k->too_big, "unsupported",
                          (json_int_t)k->unsupported, "not_regular",
                          (json_int_t)k->not_regular, "unsupported_types", exts);
    cli__print_json(j);
    json_decref(j);
    return ok == in->n ? CLI_OK : CLI_FAIL;
}

static int report(struct ingest *in)
{
    if (in->client->json)
        return report_json(in);
    size_t ok = 0, bad = 0;
    for (size_t i = 0; i < in->n; i++) {
        const struct file *f = &in->files[i];
        if (f->outcome && !strcmp(f->outcome, "ingested")) {
            ok++;
            continue;
        }
        bad++;
        fprintf(stderr, "commandcenter: %s: %s%s%s\n", f->path, f->outcome ? f->outcome : "?",
                f->error ? ": " : "", f->error ? f->error : "");
    }
    char why[512];
    int64_t skipped = ingest_skips_format(&in->skips, why, sizeof(why));
    printf("%zu file%s: %zu ingested, %zu failed", in->n, in->n == 1 ? "" : "s", ok, bad);
    if (skipped)
        printf("; skipped %lld: %s", (long long)skipped, why);
    printf("\n");
    return bad ? CLI_FAIL : CLI_OK;
}

static void release(struct ingest *in)
{
    for (size_t i = 0; i < in->n; i++) {
        free(in->files[i].path);
        free(in->files[i].rel);
        free(in->files[i].error);
    }
    free(in->files);
    json_decref(in->tags);
}

int cmd_ingest(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"source", required_argument, NULL, 'S'}, {"tag", required_argument, NULL, 't'},
        {"version", required_argument, NULL, 'v'}, {"no-wait", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    struct ingest in = {.source = "manual", .tty = isatty(STDERR_FILENO) == 1};
    const char *server = NULL;
    bool json = false, no_wait = false;
    int ch, rc = CLI_USAGE;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': server = optarg; break;
        case 'j': json = true; break;
        case 'S': in.source = optarg; break;
        case 't':
            if (!in.tags)
                in.tags = json_array();
            json_array_append_new(in.tags, json_string(optarg));
            break;
        case 'v': in.version = optarg; break;
        case 'n': no_wait = true; break;
        case 'h': fputs(usage_text, stdout); rc = CLI_OK; goto out;
        default: fputs(usage_text, stderr); goto out;
        }
    }
    if (optind == argc) {
        cli__error("see 'commandcenter ingest --help'", "nothing to ingest: give files or folders");
        goto out;
    }
    for (int i = optind; i < argc; i++)
        if ((rc = collect(&in, argv[i])) != CLI_OK)
            goto out;
    if (in.n == 0) {
        char why[512];
        int64_t skipped = ingest_skips_format(&in.skips, why, sizeof(why));
        cli__error(SUPPORTED_HINT, "no supported files found%s%s", skipped ? "; skipped: " : "",
                   skipped ? why : "");
        rc = CLI_FAIL;
        goto out;
    }
    struct cli_client c;
    if ((rc = cli__client_init(&c, server, json)) != CLI_OK)
        goto out;
    in.client = &c;
    int failed = upload(&in);
    if (failed >= 0 && !no_wait)
        wait_jobs(&in);
    if (no_wait && failed >= 0) {
        for (size_t i = 0; i < in.n; i++)
            if (in.files[i].job)
                printf("%lld %s\n", in.files[i].job, in.files[i].path);
        char why[512];
        if (ingest_skips_format(&in.skips, why, sizeof(why)))
            fprintf(stderr, "commandcenter: skipped: %s\n", why);
        rc = failed ? CLI_FAIL : CLI_OK;
    } else {
        rc = failed < 0 ? CLI_FAIL : report(&in);
    }
    cli__client_release(&c);
out:
    release(&in);
    return rc;
}
