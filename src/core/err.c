#include "core/err.h"

static const char *const messages[] = {
#define CC_ERR_MSG(name, msg) msg,
    CC_ERR_MAP(CC_ERR_MSG)
#undef CC_ERR_MSG
};

static const char *const names[] = {
#define CC_ERR_NAME(name, msg) #name,
    CC_ERR_MAP(CC_ERR_NAME)
#undef CC_ERR_NAME
};

const char *cc_err_str(cc_err e)
{
    if ((unsigned)e >= CC_ERR__COUNT)
        return "unknown error";
    return messages[e];
}

const char *cc_err_name(cc_err e)
{
    if ((unsigned)e >= CC_ERR__COUNT)
        return "EUNKNOWN";
    return names[e];
}
