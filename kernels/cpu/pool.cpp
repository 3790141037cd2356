// The persistent worker pool of fx_preprocess_cpu_batch (see cpu_internal.h for the contract), and run_parallel,
// which runs the depthwise kernels' loops on libtorch's OpenMP threads when they exist (end of this file).
//
// Design:
//  - one pool per process, created lazily on the first batch call that wants helpers and grown (never shrunk)
//    up to the largest number of helpers asked for; workers are plain threads of this library that keep
//    their thread_local caches (taps, ISA tables, value tables) from one batch call to the next;
//  - several batch calls may run at once (several Java threads): every call puts its own Batch on the
//    pool's queue; an idle worker joins the first queued batch that still wants helpers, claims items of
//    that batch one at a time (an atomic counter) until none is left, and parks again. The caller claims
//    items too and, when none is left, takes its batch off the queue (no worker can join any more) and
//    waits for the workers still running one of its items. A worker never blocks inside an item, so a call
//    always completes even if no worker ever joins (the caller does everything);
//  - hand-over without sleeping: a worker that finds no work first spins for up to 200 us (watching an atomic
//    hint, without the mutex) before it sleeps on the condition variable, and a caller waiting for the workers
//    still running its items spins the same way before it sleeps. Back-to-back batch calls (a data loader's
//    steady state: a few microseconds of the caller's own work between them) then never pay the wake-up of a
//    sleeping thread (tens of microseconds on a VM whose idle vCPU was halted), once when the batch starts and
//    once when it ends; idle pools still sleep after the spin;
//  - exceptions never leave a worker: BatchFn::run must not throw (preprocess.cpp catches everything);
//  - shutdown: a destructor function of the library (run at dlclose and at normal process exit) asks the
//    workers to stop, joins them and frees the pool; the pool object itself is heap allocated and never
//    destroyed by a static destructor (which could run while parked workers still use its mutex). After
//    shutdown, and in a child process after fork() (the workers are the parent's), calls run on the caller
//    alone.
#include "cpu_internal.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <unistd.h>

namespace fx {
namespace cpu {

namespace {

// How long an idle worker, or a caller waiting for its helpers, spins before it sleeps: 200 us, or
// FIXRES4J_POOL_SPIN_US (0 to 100000; 0: sleep at once, the hand-over of earlier versions, for comparisons).
std::chrono::microseconds spin_time() {
    static const std::chrono::microseconds t = [] {
        long us = 200;
        if (const char *v = std::getenv("FIXRES4J_POOL_SPIN_US")) {
            char *end = nullptr;
            const long parsed = std::strtol(v, &end, 10);
            if (end != v && *end == '\0' && parsed >= 0 && parsed <= 100000) us = parsed;
        }
        return std::chrono::microseconds(us);
    }();
    return t;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// Spins until done() or spin_time() has passed; returns done().
template <class Done> bool spin_until(Done done) {
    if (spin_time().count() == 0) return done();
    const auto end = std::chrono::steady_clock::now() + spin_time();
    for (;;) {
        for (int i = 0; i < 64; ++i) {
            if (done()) return true;
            cpu_relax();
        }
        if (std::chrono::steady_clock::now() >= end) return done();
    }
}

struct Batch {
    BatchFn *fn;
    int32_t helpers_wanted;              // workers that may still join (guarded by Pool::mutex)
    std::atomic<int32_t> helpers_active; // workers running items of this batch (written under Pool::mutex)
};

struct Pool {
    std::mutex mutex;
    std::condition_variable work_cv; // a batch was queued, or shutdown
    std::condition_variable done_cv; // a worker left a batch
    std::deque<Batch *> queue;       // batches that may still want helpers
    std::vector<std::thread> threads;
    int32_t idle = 0;                // workers asleep on work_cv
    bool stop = false;
    // Sum of helpers_wanted over the queued batches, and stop, for spinning workers (written under mutex).
    std::atomic<int32_t> wanted{0};
    std::atomic<bool> stopping{false};

    void worker() {
        std::unique_lock<std::mutex> lock(mutex);
        bool spun = false;
        for (;;) {
            Batch *b = nullptr;
            for (Batch *q : queue)
                if (q->helpers_wanted > 0) {
                    b = q;
                    break;
                }
            if (b == nullptr) {
                if (stop) return;
                if (!spun) { // a batch call often follows closely: watch for it before sleeping
                    spun = true;
                    lock.unlock();
                    spin_until([this]() {
                        return wanted.load(std::memory_order_relaxed) > 0 || stopping.load(std::memory_order_relaxed);
                    });
                    lock.lock();
                    continue; // look again under the lock (a notify while spinning was not waited for)
                }
                spun = false;
                ++idle;
                work_cv.wait(lock);
                --idle;
                continue;
            }
            spun = false;
            --b->helpers_wanted;
            wanted.fetch_sub(1, std::memory_order_relaxed);
            b->helpers_active.fetch_add(1, std::memory_order_relaxed);
            lock.unlock();
            b->fn->run(b->fn->ctx); // must not throw
            lock.lock();
            // release: the caller may read the batch's results (and free b) as soon as it sees 0, without the mutex
            if (b->helpers_active.fetch_sub(1, std::memory_order_release) == 1) done_cv.notify_all();
        }
    }
};

std::mutex g_pool_mutex; // guards g_pool and g_shut_down (constant-initialised: safe at any time)
Pool *g_pool = nullptr;
bool g_shut_down = false;
pid_t g_pool_pid = 0;

// The pool with at least `helpers` workers (as many as could be started), or nullptr when there is none to
// use (shut down, forked child, no thread could be started).
Pool *acquire_pool(int32_t helpers) {
    std::lock_guard<std::mutex> lock(g_pool_mutex);
    if (g_shut_down) return nullptr;
    if (g_pool != nullptr && g_pool_pid != getpid()) return nullptr; // a forked child: the workers are not here
    if (g_pool == nullptr) {
        g_pool = new Pool();
        g_pool_pid = getpid();
    }
    Pool *p = g_pool;
    std::lock_guard<std::mutex> plock(p->mutex);
    try {
        while ((int32_t)p->threads.size() < helpers) {
            p->threads.reserve((size_t)helpers);
            p->threads.emplace_back([p]() { p->worker(); });
        }
    } catch (...) {
        // Out of threads or memory: use the workers there are (the caller alone if none).
    }
    return p->threads.empty() ? nullptr : p;
}

__attribute__((destructor)) void shutdown_pool() {
    Pool *p;
    {
        std::lock_guard<std::mutex> lock(g_pool_mutex);
        g_shut_down = true;
        p = g_pool;
        g_pool = nullptr;
        if (p != nullptr && g_pool_pid != getpid()) p = nullptr; // a forked child: not our threads; leak
    }
    if (p == nullptr) return;
    {
        std::lock_guard<std::mutex> lock(p->mutex);
        p->stop = true;
        p->stopping.store(true);
    }
    p->work_cv.notify_all();
    // A worker stops once no queued batch wants it: batches in flight (other threads calling while the process
    // exits) are finished first, which takes bounded time (a worker never waits inside an item).
    for (std::thread &t : p->threads)
        if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    for (std::thread &t : p->threads)
        if (t.joinable()) t.detach();
    delete p;
}

} // namespace

void run_batch(BatchFn &fn, int32_t helpers) {
    Pool *p = helpers > 0 ? acquire_pool(helpers) : nullptr;
    if (p == nullptr) {
        fn.run(fn.ctx);
        return;
    }
    Batch b{&fn, helpers, {0}};
    int32_t sleeping;
    {
        std::lock_guard<std::mutex> lock(p->mutex);
        p->queue.push_back(&b);
        p->wanted.fetch_add(helpers, std::memory_order_relaxed);
        sleeping = p->idle;
    }
    // Spinning workers see `wanted`; only sleeping ones need the (costly) wake-up. A worker that stops spinning
    // after this read looks at the queue under the mutex before it sleeps, so it cannot miss the batch.
    if (sleeping > 0) {
        if (helpers == 1)
            p->work_cv.notify_one();
        else
            p->work_cv.notify_all();
    }
    fn.run(fn.ctx);
    std::unique_lock<std::mutex> lock(p->mutex);
    for (auto it = p->queue.begin(); it != p->queue.end(); ++it)
        if (*it == &b) {
            p->queue.erase(it);
            p->wanted.fetch_sub(b.helpers_wanted, std::memory_order_relaxed);
            b.helpers_wanted = 0;
            break;
        }
    if (b.helpers_active.load(std::memory_order_acquire) == 0) return;
    // No worker can join any more; the ones still in an item finish soon (the items are small): spin first.
    lock.unlock();
    if (spin_until([&b]() { return b.helpers_active.load(std::memory_order_acquire) == 0; })) return;
    lock.lock();
    while (b.helpers_active.load(std::memory_order_acquire) > 0) p->done_cv.wait(lock);
}

int32_t pool_threads() {
    std::lock_guard<std::mutex> lock(g_pool_mutex);
    if (g_pool == nullptr) return 0;
    std::lock_guard<std::mutex> plock(g_pool->mutex);
    return (int32_t)g_pool->threads.size();
}

// ---- the process's OpenMP runtime (libtorch's), for the kernels that run between libtorch's operators -----------
// libtorch (and the oneDNN inside it) runs its parallel regions on GNU OpenMP (libgomp.so.1, shipped next to
// libtorch_cpu.so by the preset). A second pool of our own next to it means two sets of threads taking turns on the
// same cores: whichever set just finished spins or sleeps while the other one works, and every hand-over pays a
// wake-up. Instead, when libgomp is already loaded, run_parallel starts its team with that libgomp's own
// GOMP_parallel (what `#pragma omp parallel num_threads(n)` compiles to), so libtorch's operators and ours run on
// the very same threads. The library does not link libgomp: the entry point is looked up among the libraries
// already loaded (libtorch_cpu.so's dependencies first, then any libgomp.so.1), never loaded by us, and the
// reference taken by dlopen(RTLD_NOLOAD) is kept so the runtime cannot be unloaded under a running call.
namespace {

using GompParallel = void (*)(void (*)(void *), void *, unsigned, unsigned);

std::atomic<GompParallel> g_gomp{nullptr};
std::atomic<int32_t> g_threading{FX_THREADING_AUTO};
std::mutex g_gomp_mutex;
pid_t g_gomp_pid = 0;

GompParallel find_gomp() {
    GompParallel f = g_gomp.load(std::memory_order_acquire);
    if (f != nullptr) return f;
    std::lock_guard<std::mutex> lock(g_gomp_mutex);
    f = g_gomp.load(std::memory_order_relaxed);
    if (f != nullptr) return f;
    static const char *const kOwners[] = {"libtorch_cpu.so", "libgomp.so.1"};
    for (const char *name : kOwners) {
        void *h = dlopen(name, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
        if (h == nullptr) continue;
        void *sym = dlsym(h, "GOMP_parallel");
        if (sym == nullptr) {
            dlclose(h);
            continue;
        }
        f = reinterpret_cast<GompParallel>(sym); // h stays open for the life of the process
        g_gomp_pid = getpid();
        g_gomp.store(f, std::memory_order_release);
        return f;
    }
    (void)dlerror(); // clear the loader's message: not finding a runtime is not an error
    return nullptr;
}

// The runtime to use now: OpenMP's entry point, or nullptr for the pool.
GompParallel parallel_runtime() {
    const int32_t mode = g_threading.load(std::memory_order_relaxed);
    if (mode == FX_THREADING_POOL) return nullptr;
    GompParallel f = find_gomp();
    // a forked child: libgomp's threads were the parent's and GNU OpenMP does not recreate them; the caller alone
    if (f != nullptr && g_gomp_pid != getpid()) return nullptr;
    return f;
}

} // namespace

void run_parallel(BatchFn &fn, int32_t threads) {
    if (threads <= 1) {
        fn.run(fn.ctx);
        return;
    }
    GompParallel gomp = parallel_runtime();
    if (gomp == nullptr) {
        run_batch(fn, threads - 1);
        return;
    }
    // Every thread of the team (the caller is thread 0) runs fn once; fn claims items until none is left, so the
    // work completes whatever size the runtime grants (1 inside another parallel region, or under a thread limit).
    gomp(fn.run, fn.ctx, (unsigned)threads, 0u);
}

int32_t threading_in_use() { return parallel_runtime() != nullptr ? FX_THREADING_OPENMP : FX_THREADING_POOL; }

// ---- the BLAS libtorch calls (OpenBLAS in the preset) ---------------------------------------------------------
// A pthreads OpenBLAS keeps a third set of threads whose idle workers busy-wait for a while after every call; next
// to libtorch's OpenMP team they take a core from it. Its thread-count functions are looked up like GOMP_parallel.
namespace {

struct Blas {
    void (*set)(int) = nullptr;
    int (*get)() = nullptr;
};

Blas find_blas() {
    static const char *const kOwners[] = {"libtorch_cpu.so", "libopenblas.so.0"};
    Blas b;
    for (const char *name : kOwners) {
        void *h = dlopen(name, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
        if (h == nullptr) continue;
        void *set = dlsym(h, "openblas_set_num_threads");
        void *get = dlsym(h, "openblas_get_num_threads");
        if (set != nullptr && get != nullptr) {
            b.set = reinterpret_cast<void (*)(int)>(set); // h stays open for the life of the process
            b.get = reinterpret_cast<int (*)()>(get);
            return b;
        }
        dlclose(h);
    }
    (void)dlerror();
    return b;
}

} // namespace

} // namespace cpu
} // namespace fx

extern "C" {

FX_API fx_status fx_depthwise_set_threading(int32_t mode) {
    using namespace fx::cpu;
    switch (mode) {
    case FX_THREADING_AUTO:
    case FX_THREADING_POOL:
        break;
    case FX_THREADING_OPENMP:
        if (find_gomp() == nullptr)
            return fx::fail(FX_ERR_UNSUPPORTED, "fx_depthwise_set_threading: no OpenMP runtime (libgomp.so.1, as "
                                                "libtorch loads it) is loaded in this process");
        break;
    default:
        return fx::fail(FX_ERR_INVALID_ARGUMENT,
                        "fx_depthwise_set_threading: mode must be FX_THREADING_AUTO (0), FX_THREADING_POOL (1) or "
                        "FX_THREADING_OPENMP (2) (got %d)",
                        (int)mode);
    }
    g_threading.store(mode);
    return FX_OK;
}

FX_API int32_t fx_depthwise_threading(void) { return fx::cpu::threading_in_use(); }

FX_API fx_status fx_cpu_blas_set_threads(int32_t threads) {
    if (threads < 1 || threads > 4096)
        return fx::fail(FX_ERR_INVALID_ARGUMENT, "fx_cpu_blas_set_threads: threads must be in [1, 4096] (got %d)",
                        (int)threads);
    const fx::cpu::Blas b = fx::cpu::find_blas();
    if (b.set == nullptr)
        return fx::fail(FX_ERR_UNSUPPORTED, "fx_cpu_blas_set_threads: no OpenBLAS is loaded in this process");
    b.set((int)threads);
    return FX_OK;
}

FX_API int32_t fx_cpu_blas_threads(void) {
    const fx::cpu::Blas b = fx::cpu::find_blas();
    return b.get == nullptr ? -1 : (int32_t)b.get();
}
}
