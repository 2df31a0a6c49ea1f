// lp_cuda_load's two kinds of failure, on any machine (no GPU needed): "no CUDA here"
// (LP_ERR_UNAVAILABLE: the backend library is not there) against "the backend is broken"
// (LP_ERR_BACKEND_BROKEN: a file that exists but does not load, a library that lacks the backend's
// symbols). Tests skip on the first and fail on the second, so the two must never be confused. Also:
// a CUDA entry point called after a failed load repeats that failure's status.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "linchpin.h"

namespace {

int g_failed = 0;

void check(bool ok, const std::string &what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) ++g_failed;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::printf("usage: %s PATH_OF_LIBLINCHPIN_SO\n", argv[0]);
        return 2;
    }
    if (lp_cuda_is_loaded()) {
        std::printf("SKIP: the CUDA backend is already loaded in this process\n");
        return 77;
    }
    int rc = lp_cuda_load("/nonexistent/liblinchpin_cuda.so");
    check(rc == LP_ERR_UNAVAILABLE, "a missing library is 'no CUDA here' (status " + std::to_string(rc) + "): " + lp_last_error());
    float x = 0;
    rc = lp_cuda_topk(&x, 1, 1, 1, 1, nullptr, nullptr, nullptr);
    check(rc == LP_ERR_UNAVAILABLE, "later calls repeat it (status " + std::to_string(rc) + "): " + lp_last_error());

    const char *junk_path = "./test_cuda_load_junk.so";   // with a slash: dlopen reads the file, no search
    if (FILE *f = std::fopen(junk_path, "w")) {
        std::fputs("not an ELF file\n", f);
        std::fclose(f);
    }
    rc = lp_cuda_load(junk_path);
    check(rc == LP_ERR_BACKEND_BROKEN && std::strstr(lp_last_error(), "does not load") != nullptr,
          "a file that does not load is 'broken' (status " + std::to_string(rc) + "): " + lp_last_error());
    std::remove(junk_path);
    rc = lp_cuda_topk(&x, 1, 1, 1, 1, nullptr, nullptr, nullptr);
    check(rc == LP_ERR_BACKEND_BROKEN, "later calls repeat it (status " + std::to_string(rc) + ")");

    // liblinchpin.so itself loads fine but has none of the lpcuda_* symbols: a stale or wrong build.
    rc = lp_cuda_load(argv[1]);
    check(rc == LP_ERR_BACKEND_BROKEN && std::strstr(lp_last_error(), "lacks symbol") != nullptr,
          "a library without the backend's symbols is 'broken' (status " + std::to_string(rc) + "): " + lp_last_error());
    check(!lp_cuda_is_loaded(), "nothing stays loaded after a failure");
    std::printf("%s\n", g_failed == 0 ? "OK" : "FAILED");
    return g_failed == 0 ? 0 : 1;
}
