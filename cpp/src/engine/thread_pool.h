// A small persistent thread pool: parallel_for(n, f) runs f(i, worker) for i in [0, n) on the
// calling thread plus the pool's workers and returns when all are done. Persistent because a decode
// step of a small model is microseconds of work per operation, far less than spawning threads.
#ifndef LP_ENGINE_THREAD_POOL_H
#define LP_ENGINE_THREAD_POOL_H

#include <atomic>
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

private:
    void work(int worker);
    void drain(int worker);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, finished_;
    const std::function<void(int64_t, int)> *job_ = nullptr;
    int64_t job_size_ = 0;
    std::atomic<int64_t> next_{0};
    uint64_t generation_ = 0;
    int busy_ = 0;
    bool stop_ = false;
};

}  // namespace lp::engine

#endif
