/*
 * fuzz_config.c - cc_config_load_string on arbitrary bytes: no crash, no
 * leak, and whatever loads can be dumped. The seed corpus holds valid files,
 * one input per error kind, anchors and odd YAML.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cc_config c;
    struct cc_diag d;
    cc_config_init(&c);
    if (cc_config_load_string(&c, (const char *)data, size, "fuzz.yml", &d) == CC_OK) {
        struct cc_buf out;
        cc_buf_init(&out, 1 << 20);
        cc_config_dump(&c, &out);
        cc_buf_release(&out);
    } else {
        char msg[1024];
        cc_diag_format(&d, msg, sizeof(msg));
    }
    cc_config_release(&c);
    return 0;
}
