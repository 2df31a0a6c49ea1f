#include <cstdarg>
#include <cstdio>

#include "core/error.h"

namespace {
thread_local char g_last_error[1024] = "";
}

namespace lp {

int fail(int status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(g_last_error, sizeof g_last_error, fmt, args);
    va_end(args);
    return status;
}

void clear_error() { g_last_error[0] = '\0'; }

}  // namespace lp

extern "C" LP_API const char *lp_last_error(void) { return g_last_error; }

extern "C" LP_API int lp_abi_version(void) { return LP_ABI_VERSION; }
