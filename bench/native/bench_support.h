// What every native CUDA benchmark shares: JSON string escaping for its JSON-lines output, and loading
// the CUDA backend with the harness's skip convention (exit 77 where CUDA is unavailable).
#ifndef LP_BENCH_SUPPORT_H
#define LP_BENCH_SUPPORT_H

#include <cstdio>
#include <string>

#include "linchpin.h"

inline std::string json_escape(const std::string &s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) continue;
        out += c;
    }
    return out;
}

/* Loads the CUDA backend and writes the device name into `name`. Returns -1 when the benchmark can
 * run, else 77 (skip: no CUDA here), after printing why. */
inline int lp_bench_load_cuda(char *name, size_t name_len) {
    if (lp_cuda_load(nullptr) != LP_OK) {
        std::fprintf(stderr, "SKIP: %s\n", lp_last_error());
        return 77;
    }
    if (lp_cuda_device_name(name, name_len) != LP_OK) std::snprintf(name, name_len, "unknown (%s)", lp_last_error());
    return -1;
}

#endif
