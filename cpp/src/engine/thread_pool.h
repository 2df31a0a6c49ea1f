// A small persistent thread pool: parallel_for(n, f) runs f(i, worker) for i in [0, n) on the
// calling thread plus the pool's workers and returns when all are done. Persistent because a decode
// step of a small model is microseconds of work per operation, far less than spawning threads.
//
// A decode step calls parallel_for a few dozen times, back to back, so waking sleeping workers
// through a condition variable each time (tens of microseconds) would cost as much as the work.
// Workers and the caller therefore spin for a short while (kSpin) on an atomic generation counter
// before they sleep: within a step the next job arrives while they still spin, and between steps
// (token choice, Java) they go to sleep and leave the cores to others.
#ifndef LP_ENGINE_THREAD_POOL_H
#define LP_ENGINE_THREAD_POOL_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lp::engine {

class ThreadPool {
public:
    explicit ThreadPool(int threads);   // threads <= 0: hardware concurrency; 1: no workers
    ~ThreadPool();
    ThreadPool(const ThreadPool &) = delete;
    ThreadPool &operator=(const ThreadPool &) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    // f(i, worker) for every i; worker in [0, size()). Exceptions must not escape f.
    void parallel_for(int64_t n, const std::function<void(int64_t, int)> &f);

    // f(begin, end, worker) over [0, n) cut into at most size() contiguous chunks of at least `grain`
    // items: one call per thread for element-wise work over rows.
    void parallel_chunks(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)> &f);

private:
    static constexpr std::chrono::microseconds kSpin{100};

    void work(int worker);
    void drain(int worker);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, finished_;
    const std::function<void(int64_t, int)> *job_ = nullptr;
    int64_t job_size_ = 0;
    std::atomic<int64_t> next_{0};
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> busy_{0};
    std::atomic<int> sleepers_{0};        // workers waiting on wake_
    std::atomic<bool> caller_sleeping_{false};
    std::atomic<bool> stop_{false};
};

}  // namespace lp::engine

#endif
