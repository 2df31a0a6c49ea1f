#include "engine/thread_pool.h"

#include <algorithm>

namespace lp::engine {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    std::this_thread::yield();
#endif
}

// Spins until done() or `budget` has passed; true if done() turned true.
template <typename Done>
bool spin_until(Done done, std::chrono::microseconds budget) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0;; ++i) {
        if (done()) return true;
        cpu_relax();
        if ((i & 63) == 63 && std::chrono::steady_clock::now() - start > budget) return done();
    }
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
    int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int w = 1; w < n; ++w) workers_.emplace_back([this, w] { work(w); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
        ++generation_;
    }
    wake_.notify_all();
    for (auto &t : workers_) t.join();
}

void ThreadPool::drain(int worker) {
    for (int64_t i; (i = next_.fetch_add(1)) < job_size_;) (*job_)(i, worker);
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int)> &f) {
    if (n <= 0) return;
    if (workers_.empty() || n == 1) {
        for (int64_t i = 0; i < n; ++i) f(i, 0);
        return;
    }
    job_ = &f;
    job_size_ = n;
    next_ = 0;
    busy_ = static_cast<int>(workers_.size());
    // Publish the job (seq_cst), then wake sleepers. A worker that is about to sleep increments
    // sleepers_ before it re-checks generation_ under the mutex, so one of the two sees the other.
    generation_.fetch_add(1);
    if (sleepers_.load() > 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        wake_.notify_all();
    }
    drain(0);
    if (!spin_until([this] { return busy_.load() == 0; }, kSpin)) {
        std::unique_lock<std::mutex> lock(mutex_);
        caller_sleeping_ = true;
        finished_.wait(lock, [this] { return busy_.load() == 0; });
        caller_sleeping_ = false;
    }
    job_ = nullptr;
}

void ThreadPool::parallel_chunks(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)> &f) {
    if (n <= 0) return;
    const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(size(), n / std::max<int64_t>(grain, 1)));
    const int64_t per = (n + chunks - 1) / chunks;
    if (chunks == 1) {
        f(0, n, 0);
        return;
    }
    parallel_for(chunks, [&](int64_t c, int worker) {
        const int64_t b = c * per, e = std::min(n, b + per);
        if (b < e) f(b, e, worker);
    });
}

void ThreadPool::work(int worker) {
    uint64_t seen = 0;
    for (;;) {
        if (!spin_until([&] { return generation_.load() != seen; }, kSpin)) {
            std::unique_lock<std::mutex> lock(mutex_);
            ++sleepers_;
            wake_.wait(lock, [&] { return generation_.load() != seen; });
            --sleepers_;
        }
        if (stop_) return;
        seen = generation_.load();
        drain(worker);
        if (busy_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
            std::lock_guard<std::mutex> lock(mutex_);
            finished_.notify_one();
        }
    }
}

}  // namespace lp::engine
