/*
 * file.c - reading a whole local file for the offline tools.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"

int cli__read_file(const char *path, size_t limit, struct cc_buf *out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        cli__error("check the path and its permissions", "cannot open %s: %s", path,
                   strerror(errno));
        return CLI_FAIL;
    }
    char chunk[65536];
    size_t n;
    cc_err err = CC_OK;
    while (!err && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        err = cc_buf_add(out, chunk, n);
    int rc = CLI_OK;
    if (err) {
        cli__error("the file must be smaller", "%s is larger than %zu bytes", path, limit);
        rc = CLI_FAIL;
    } else if (ferror(fp)) {
        cli__error("check that it is a readable regular file", "cannot read %s: %s", path,
                   strerror(errno));
        rc = CLI_FAIL;
    }
    fclose(fp);
    return rc;
}
