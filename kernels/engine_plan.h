/*
 * The host-side plan of one forward pass of the engine's CUDA backend (engine_backend.cu): plain C++,
 * no CUDA, so the CPU test tests/native/test_engine_plan_cpu.cpp can run the same plan through the
 * staircase CPU twin and hold it to naive attention.
 *
 * Attention mapping. The staircase kernel takes one shared KV, branches with suffix KV rows, and a list
 * of query rows (suffix rows whose query is computed; each sees shared [0, b) and its branch's suffix
 * rows up to itself). Rows are grouped by the shared store they read; within a group every row becomes
 * one branch with exactly one query row:
 *   - a row with n_suffix > 0 (a branch's decode step) brings its suffix store's positions
 *     [0, n_suffix) as suffix KV rows and queries the last one, branch point = prefix; the earlier
 *     suffix rows are keys and values only, so a decode step costs one query row per active branch;
 *   - a row with n_suffix == 0 (a prefill row, its own key at shared[prefix - 1]) has branch point
 *     prefix - 1 and one suffix row, shared[prefix - 1]: the same key set.
 * Every gathered KV row is (store base address, capacity, position); queries are gathered in group
 * order from the rows' q (query gather) and the outputs scattered back (query source).
 *
 * Plan layout (int64, uploaded once per forward): tokens [R] | positions [R] | dest [R][3] = (store
 * base, capacity, index) | query source [R] (the query index carrying row r) | gather [G][3] | query
 * gather [R] (the row whose q is query j) | per group: branch points [n] | per group: suffix offsets
 * [n + 1] | per group: query rows [n] (suffix rows of the group's gathered rows).
 */
#ifndef LINCHPIN_KERNELS_ENGINE_PLAN_H
#define LINCHPIN_KERNELS_ENGINE_PLAN_H

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lpcuda::engine_plan {

/* The rows that read one shared store: gathered KV rows [g0, g0 + S), n branches with their branch
 * points at plan[at_bp + bp_at ...] and offsets at plan[at_off + off_at ...], queries [q0, q0 + n)
 * with their suffix rows at plan[at_qrows + q0 ...], T = the largest branch point. */
struct Group {
    const void *shared_data;   /* nullptr: no shared store */
    int64_t shared_capacity;
    int64_t g0, S, n, bp_at, off_at, T, q0;
};

struct Plan {
    std::vector<int64_t> data;
    int64_t at_tok = 0, at_pos = 0, at_dest = 0, at_src = 0, at_gather = 0, at_qgather = 0, at_bp = 0, at_off = 0,
            at_qrows = 0, G = 0, Q = 0;
    std::vector<Group> groups;
};

inline int64_t address(const void *p) { return static_cast<int64_t>(reinterpret_cast<uintptr_t>(p)); }

/*
 * Builds the plan of R rows. Row has token, position, dest, dest_index, shared, prefix, suffix,
 * n_suffix; the store pointers have `data` and `capacity` (lpcuda_row / lpcuda_kv). Every index is
 * validated here, so the device never sees a bad one. Returns "" or what is wrong.
 */
template <typename Row>
std::string build(const Row *rows, int64_t R, int64_t vocab, Plan *plan) {
    using Store = decltype(rows[0].shared);
    std::map<Store, std::vector<int64_t>> by_shared;
    for (int64_t r = 0; r < R; ++r) {
        const Row &row = rows[r];
        const std::string at = "row " + std::to_string(r) + ": ";
        if (row.token < 0 || row.token >= vocab) return at + "token " + std::to_string(row.token) + " outside the vocabulary";
        if (row.position < 0) return at + "negative position";
        if (row.dest == nullptr || row.dest_index < 0 || row.dest_index >= row.dest->capacity)
            return at + "no destination store or index outside it";
        if (row.prefix < 0 || (row.shared != nullptr && row.prefix > row.shared->capacity) ||
            (row.shared == nullptr && row.prefix != 0))
            return at + "prefix " + std::to_string(row.prefix) + " outside its shared store";
        if (row.n_suffix < 0 || (row.n_suffix > 0 && (row.suffix == nullptr || row.n_suffix > row.suffix->capacity)))
            return at + "suffix of " + std::to_string(row.n_suffix) + " positions outside its store";
        if (row.n_suffix == 0 && row.prefix < 1) return at + "attends to nothing (prefix 0, no suffix)";
        by_shared[row.shared].push_back(r);
    }
    Plan &p = *plan;
    p.data.assign(static_cast<size_t>(6 * R), 0);
    p.groups.clear();
    p.at_tok = 0, p.at_pos = R, p.at_dest = 2 * R, p.at_src = 5 * R;
    for (int64_t r = 0; r < R; ++r) {
        p.data[p.at_tok + r] = rows[r].token;
        p.data[p.at_pos + r] = rows[r].position;
        p.data[p.at_dest + 3 * r] = address(rows[r].dest->data);
        p.data[p.at_dest + 3 * r + 1] = rows[r].dest->capacity;
        p.data[p.at_dest + 3 * r + 2] = rows[r].dest_index;
    }
    p.at_gather = static_cast<int64_t>(p.data.size());
    std::vector<int64_t> bps, offs, qrows, qgather;
    int64_t G = 0;
    for (auto &[shared, list] : by_shared) {
        Group g{shared ? shared->data : nullptr, shared ? shared->capacity : 0, G, 0,
                static_cast<int64_t>(list.size()), static_cast<int64_t>(bps.size()),
                static_cast<int64_t>(offs.size()), 0, static_cast<int64_t>(qgather.size())};
        offs.push_back(0);
        for (int64_t r : list) {
            const Row &row = rows[r];
            auto add = [&](const void *data, int64_t capacity, int64_t pos) {
                p.data.push_back(address(data));
                p.data.push_back(capacity);
                p.data.push_back(pos);
                ++G;
            };
            int64_t bp;
            if (row.n_suffix == 0) {
                bp = row.prefix - 1;
                add(row.shared->data, row.shared->capacity, row.prefix - 1);
            } else {
                bp = row.prefix;
                for (int64_t j = 0; j < row.n_suffix; ++j) add(row.suffix->data, row.suffix->capacity, j);
            }
            /* one query per row: its last gathered row, carrying row r's q */
            p.data[p.at_src + r] = static_cast<int64_t>(qgather.size());
            qgather.push_back(r);
            qrows.push_back(G - 1 - g.g0);
            bps.push_back(bp);
            g.T = std::max(g.T, bp);
            offs.push_back(G - g.g0);
        }
        g.S = G - g.g0;
        p.groups.push_back(g);
    }
    p.G = G;
    p.Q = static_cast<int64_t>(qgather.size());
    p.at_qgather = static_cast<int64_t>(p.data.size());
    p.data.insert(p.data.end(), qgather.begin(), qgather.end());
    p.at_bp = static_cast<int64_t>(p.data.size());
    p.data.insert(p.data.end(), bps.begin(), bps.end());
    p.at_off = static_cast<int64_t>(p.data.size());
    p.data.insert(p.data.end(), offs.begin(), offs.end());
    p.at_qrows = static_cast<int64_t>(p.data.size());
    p.data.insert(p.data.end(), qrows.begin(), qrows.end());
    return "";
}

}  // namespace lpcuda::engine_plan

#endif
