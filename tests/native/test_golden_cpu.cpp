// Pillow goldens: every case of a cases.json folder (tests/data/preprocess/ format) through fx_preprocess_cpu,
// every ISA this CPU runs, compared byte for byte. Also, per case, the same plan with a BGR source, BGR output, a padded
// stride and float32 NCHW output (checked against torchvision's formula applied to the golden bytes).
//
//   test_golden_cpu DIR     (DIR/cases.json; a missing DIR or cases.json is a failure)
#include "test_util.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

using namespace fxtest;

namespace {

bool number(const Json *j, double *v) {
    if (!j || j->kind != Json::Number) return false;
    *v = j->num;
    return true;
}

bool read_plan(const Json &pj, fx_resample_plan *p, std::string *err) {
    struct IntField {
        const char *name;
        int32_t *dst;
    } ints[] = {{"roi_x", &p->roi_x},       {"roi_y", &p->roi_y},   {"roi_w", &p->roi_w},   {"roi_h", &p->roi_h},
                {"resize_w", &p->resize_w}, {"resize_h", &p->resize_h}, {"crop_x", &p->crop_x}, {"crop_y", &p->crop_y},
                {"out_w", &p->out_w},       {"out_h", &p->out_h},   {"filter", &p->filter}, {"flip_x", &p->flip_x}};
    for (auto &f : ints) {
        double v;
        if (!number(pj.get(f.name), &v)) {
            *err = std::string("plan.") + f.name + " missing";
            return false;
        }
        *f.dst = (int32_t)v;
    }
    struct DblField {
        const char *name;
        double *dst;
    } dbls[] = {{"box_x0", &p->box_x0}, {"box_y0", &p->box_y0}, {"box_x1", &p->box_x1}, {"box_y1", &p->box_y1}};
    for (auto &f : dbls)
        if (!number(pj.get(f.name), f.dst)) {
            *err = std::string("plan.") + f.name + " missing";
            return false;
        }
    return true;
}

struct Result {
    int cases = 0, equal_scalar = 0, equal_avx2 = 0, equal_vnni = 0, equal_avx512 = 0;
};

std::vector<uint8_t> run_u8(const fx_image &img, const fx_resample_plan &plan, int32_t layout, int32_t order,
                            fx_status *st) {
    Output o = make_output(1, plan.out_w, plan.out_h, layout, FX_DTYPE_UINT8, order);
    *st = fx_preprocess_cpu(&img, &plan, 0, &o.desc);
    o.bytes.resize(o.bytes.size() - 64);
    return o.bytes;
}

void run_case(const std::string &dir, const Json &c, Result *res, bool avx2) {
    const Json *name = c.get("name"), *source = c.get("source"), *golden = c.get("golden"), *pj = c.get("plan");
    CHECK(name && source && golden && pj && source->kind == Json::String && golden->kind == Json::String,
          "malformed case");
    if (!(name && source && golden && pj)) return;
    fx_resample_plan plan{};
    std::string err;
    CHECK(read_plan(*pj, &plan, &err), "%s: %s", name->str.c_str(), err.c_str());
    NpyU8 src, gold;
    const bool ok_src = read_npy_u8(dir + "/" + source->str, &src, &err);
    CHECK(ok_src, "%s", err.c_str());
    const bool ok_gold = read_npy_u8(dir + "/" + golden->str, &gold, &err);
    CHECK(ok_gold, "%s", err.c_str());
    if (!ok_src || !ok_gold) return;
    CHECK(src.shape.size() == 3 && gold.shape.size() == 3 && gold.shape[2] == 3 && gold.shape[0] == plan.out_h &&
              gold.shape[1] == plan.out_w,
          "%s: unexpected shapes", name->str.c_str());
    if (src.shape.size() != 3 || gold.shape.size() != 3) return;
    const int32_t H = (int32_t)src.shape[0], W = (int32_t)src.shape[1], C = (int32_t)src.shape[2];
    fx_image img{};
    img.data = src.data.data();
    img.width = W;
    img.height = H;
    img.channels = C;
    img.order = FX_ORDER_RGB;
    img.row_stride = (int64_t)W * C;
    ++res->cases;

    (void)avx2;
    for (int32_t isa : cpu_isas()) {
        set_isa(isa);
        fx_status st;
        const std::vector<uint8_t> out = run_u8(img, plan, FX_LAYOUT_NHWC, FX_ORDER_RGB, &st);
        CHECK(st == FX_OK, "%s: %s", name->str.c_str(), fx_last_error());
        const bool equal = out == gold.data;
        if (!equal) {
            size_t diff = 0, first = 0;
            int maxd = 0;
            for (size_t k = 0; k < out.size() && k < gold.data.size(); ++k)
                if (out[k] != gold.data[k]) {
                    if (diff == 0) first = k;
                    ++diff;
                    maxd = std::max(maxd, std::abs((int)out[k] - (int)gold.data[k]));
                }
            CHECK(equal, "%s isa %d: %zu bytes differ from Pillow (max |diff| %d, first at %zu) %s", name->str.c_str(),
                  isa, diff, maxd, first, plan_str(plan).c_str());
        } else {
            CHECK(equal);
            (isa == FX_ISA_SCALAR ? res->equal_scalar
             : isa == FX_ISA_AVX2 ? res->equal_avx2
             : isa == FX_ISA_AVX2_VNNI ? res->equal_vnni
                                       : res->equal_avx512)++;
        }

        // BGR output = the golden with channels swapped
        std::vector<uint8_t> swapped = gold.data;
        for (size_t k = 0; k + 2 < swapped.size(); k += 3) std::swap(swapped[k], swapped[k + 2]);
        CHECK(run_u8(img, plan, FX_LAYOUT_NHWC, FX_ORDER_BGR, &st) == swapped && st == FX_OK, "%s isa %d: BGR output",
              name->str.c_str(), isa);
        // NCHW uint8 = the golden transposed
        {
            const std::vector<uint8_t> nchw = run_u8(img, plan, FX_LAYOUT_NCHW, FX_ORDER_RGB, &st);
            bool same = st == FX_OK;
            const size_t hw = (size_t)plan.out_w * plan.out_h;
            for (size_t k = 0; k < hw && same; ++k)
                for (int ch = 0; ch < 3; ++ch) same &= nchw[(size_t)ch * hw + k] == gold.data[k * 3 + ch];
            CHECK(same, "%s isa %d: NCHW output", name->str.c_str(), isa);
        }
        // BGR(A) source in a padded stride
        if (C >= 3) {
            const int64_t stride = (int64_t)W * C + 7;
            std::vector<uint8_t> bgr((size_t)(stride * H), 0x5A);
            for (int32_t y = 0; y < H; ++y)
                for (int32_t x = 0; x < W; ++x) {
                    const uint8_t *s = &src.data[((size_t)y * W + x) * C];
                    uint8_t *d = &bgr[(size_t)(y * stride) + (size_t)x * C];
                    d[0] = s[2], d[1] = s[1], d[2] = s[0];
                    if (C == 4) d[3] = s[3];
                }
            fx_image b = img;
            b.data = bgr.data();
            b.order = FX_ORDER_BGR;
            b.row_stride = stride;
            CHECK(run_u8(b, plan, FX_LAYOUT_NHWC, FX_ORDER_RGB, &st) == gold.data && st == FX_OK,
                  "%s isa %d: BGR padded source", name->str.c_str(), isa);
        }
        // float32 NCHW = torchvision's ToTensor + Normalize of the golden
        {
            Output o = make_output(1, plan.out_w, plan.out_h, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
            CHECK(fx_preprocess_cpu(&img, &plan, 0, &o.desc) == FX_OK, "%s", fx_last_error());
            const size_t hw = (size_t)plan.out_w * plan.out_h;
            int bad = 0;
            for (size_t k = 0; k < hw; ++k)
                for (int ch = 0; ch < 3; ++ch) {
                    float got;
                    std::memcpy(&got, &o.bytes[((size_t)ch * hw + k) * 4], 4);
                    const float want = torchvision_value(gold.data[k * 3 + ch], o.desc.mean[ch], o.desc.std[ch]);
                    bad += float_bits(got) != float_bits(want);
                }
            CHECK(bad == 0, "%s isa %d: %d float32 values differ", name->str.c_str(), isa, bad);
        }
    }
    set_isa(FX_ISA_AUTO);
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::printf("usage: test_golden_cpu DIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    struct stat st;
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || stat((dir + "/cases.json").c_str(), &st) != 0) {
        CHECK(false, "%s/cases.json not found: the goldens are part of the repository", dir.c_str());
        return test_summary();
    }
    std::string text, err;
    CHECK(read_text(dir + "/cases.json", &text), "cannot read cases.json");
    Json root;
    const bool parsed = JsonParser(text).parse(&root, &err);
    CHECK(parsed, "%s", err.c_str());
    const Json *cases = parsed ? root.get("cases") : nullptr;
    CHECK(cases && cases->kind == Json::Array && !cases->arr.empty(), "no cases");
    if (!parsed || !cases || cases->kind != Json::Array || cases->arr.empty()) return test_summary();
    const Json *pillow = root.get("pillow");
    const bool avx2 = fx_cpu_supports_avx2() != 0;
    Result res;
    for (const Json &c : cases->arr) run_case(dir, c, &res, avx2);
    std::printf("Pillow %s goldens in %s: %d cases; byte-identical: scalar %d/%d", pillow ? pillow->str.c_str() : "?",
                dir.c_str(), res.cases, res.equal_scalar, res.cases);
    if (avx2)
        std::printf(", AVX2 %d/%d", res.equal_avx2, res.cases);
    else
        std::printf(" (no AVX2 on this CPU)");
    for (int32_t isa : cpu_isas())
        if (isa == FX_ISA_AVX2_VNNI || isa == FX_ISA_AVX512)
            std::printf(", %s %d/%d", isa_name(isa), isa == FX_ISA_AVX512 ? res.equal_avx512 : res.equal_vnni, res.cases);
    std::printf("\n");
    return test_summary();
}
