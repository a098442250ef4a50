/*
 * fuzz_backup.c - what restore parses of a backup file before and while it
 * loads it: the head (magic line and JSON manifest,
 * store_backup_parse_head) and, after it, the PostgreSQL payload's section
 * heads (store__backup_pg_section), skipping each section's bytes. The
 * seed corpus holds real SQLite and PostgreSQL backups' heads and broken
 * variants.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/backup.h"
#include "store/backup_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store_backup_manifest m;
    size_t head = 0;
    char why[512];
    if (store_backup_parse_head((const char *)data, size, &m, &head, why, sizeof(why)) != CC_OK)
        return 0;
    if (head > size || head == size)
        return 0;
    FILE *f = fmemopen((void *)(data + head), size - head, "rb");
    if (!f)
        return 0;
    uint64_t left = m.payload_bytes < size - head ? m.payload_bytes : size - head;
    while (left > 0) {
        char name[64];
        uint64_t bytes = 0;
        if (store__backup_pg_section(f, &left, name, &bytes, why, sizeof(why)) != CC_OK)
            break;
        if (bytes > left || fseek(f, (long)bytes, SEEK_CUR) != 0)
            break;
        left -= bytes;
    }
    fclose(f);
    return 0;
}
