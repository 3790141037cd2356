// The depthwise kernels' threads on the process's OpenMP runtime (fx_depthwise_set_threading): this executable
// links GNU OpenMP itself, as a process that has loaded libtorch has libgomp.so.1, so the kernels find its
// GOMP_parallel and run their loops on its team. Checks: the runtime is found and chosen by default; every thread
// count gives bitwise the result of one thread and of the library's own pool, forward and backward; calls from
// inside an OpenMP parallel region (a nested team of one, or the caller alone) complete with the same result;
// the pool can be chosen and the choice reported; bad modes are refused.
// (test_depthwise_cpu, which does not load libgomp, checks the other side: the pool, and OPENMP refused.)
#include "depthwise_ref.h"
#include "test_util.h"

#include <omp.h>

using namespace fxtest;
using namespace fxdw;

namespace {

std::vector<float> random_vec(Rng &rng, size_t n, double lo, double hi) {
    std::vector<float> v(n);
    for (auto &f : v) f = (float)(lo + (hi - lo) * rng.unit());
    return v;
}

struct Case {
    fx_depthwise_shape s;
    std::vector<float> x, w, b, dy;
};

struct Out {
    std::vector<float> y, se, dx, dw, db;
    bool operator==(const Out &o) const { return y == o.y && se == o.se && dx == o.dx && dw == o.dw && db == o.db; }
};

Out run(const Case &c, int32_t threads) {
    const fx_depthwise_shape &s = c.s;
    Out o;
    o.y.assign((size_t)(s.n * s.c * s.out_h * s.out_w), -7.0f);
    o.se.assign((size_t)(s.n * s.c), -7.0f);
    o.dx.assign(c.x.size(), -7.0f);
    o.dw.assign(c.w.size(), -7.0f);
    o.db.assign((size_t)s.c, -7.0f);
    CHECK(fx_depthwise_forward_cpu(&s, c.x.data(), c.w.data(), c.b.data(), FX_ACT_SILU, o.y.data(), o.se.data(),
                                   threads) == FX_OK, "forward: %s", fx_last_error());
    CHECK(fx_depthwise_backward_cpu(&s, c.x.data(), c.w.data(), c.dy.data(), o.dx.data(), o.dw.data(), o.db.data(),
                                    threads) == FX_OK, "backward: %s", fx_last_error());
    return o;
}

Case make_case(Rng &rng, int64_t n, int64_t ch, int64_t h, int64_t w, int32_t k, int32_t stride, int32_t layout) {
    Case c;
    c.s = make_shape(n, ch, h, w, k, stride, true, layout);
    const int64_t nx = n * ch * h * w, ny = n * ch * c.s.out_h * c.s.out_w;
    c.x = random_vec(rng, (size_t)nx, -2, 2);
    c.w = random_vec(rng, (size_t)(ch * k * k), -1, 1);
    c.b = random_vec(rng, (size_t)ch, -1, 1);
    c.dy = random_vec(rng, (size_t)ny, -1, 1);
    return c;
}

} // namespace

int main() {
    // omp_get_max_threads: also what makes this executable need libgomp.so.1 (loaded before main, like libtorch's)
    std::printf("OpenMP max threads here: %d\n", omp_get_max_threads());
    CHECK(fx_depthwise_threading() == FX_THREADING_OPENMP, "libgomp is loaded, yet the kernels use %d",
          (int)fx_depthwise_threading());
    Rng rng(11);
    std::vector<Case> cases;
    cases.push_back(make_case(rng, 3, 72, 23, 19, 5, 2, FX_LAYOUT_NHWC));
    cases.push_back(make_case(rng, 8, 40, 28, 28, 3, 1, FX_LAYOUT_NHWC)); // several images per thread
    cases.push_back(make_case(rng, 1, 24, 17, 30, 3, 1, FX_LAYOUT_NHWC)); // one image: bands of rows
    cases.push_back(make_case(rng, 2, 21, 15, 13, 5, 1, FX_LAYOUT_NCHW));
    int compared = 0;
    for (const Case &c : cases) {
        CHECK(fx_depthwise_set_threading(FX_THREADING_POOL) == FX_OK);
        CHECK(fx_depthwise_threading() == FX_THREADING_POOL);
        const Out one = run(c, 1), pool2 = run(c, 2), pool5 = run(c, 5);
        CHECK(pool2 == one && pool5 == one, "the pool's threads change the result");
        for (int32_t mode : {FX_THREADING_OPENMP, FX_THREADING_AUTO}) {
            CHECK(fx_depthwise_set_threading(mode) == FX_OK, "%s", fx_last_error());
            CHECK(fx_depthwise_threading() == FX_THREADING_OPENMP);
            for (int32_t t : {1, 2, 3, 8, 64}) {
                CHECK(run(c, t) == one, "OpenMP with %d threads differs from one thread", (int)t);
                ++compared;
            }
        }
        // from inside a parallel region (libgomp gives nested regions a team of one by default): same result
        bool all_same = true;
#pragma omp parallel num_threads(2) shared(all_same)
        {
            const Out o = run(c, 2);
#pragma omp critical
            all_same = all_same && o == one;
        }
        CHECK(all_same, "a call from inside a parallel region differs");
    }
    CHECK(fx_depthwise_set_threading(3) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx_depthwise_set_threading(-1) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx_depthwise_threading() == FX_THREADING_OPENMP, "a refused mode changed the choice");
    std::printf("%d OpenMP runs compared bitwise with one thread and the pool\n", compared);
    return test_summary();
}
