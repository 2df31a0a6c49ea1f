// Thread-local error reporting shared by every entry point of liblinchpin.so.
#ifndef LP_CORE_ERROR_H
#define LP_CORE_ERROR_H

#include "linchpin.h"

namespace lp {

// Records a printf-style message for lp_last_error() and returns `status`, so callers can write
// `return fail(LP_ERR_INVALID_ARGUMENT, "...", ...);`.
int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Clears the message at the start of every public call.
void clear_error();

}  // namespace lp

#endif
