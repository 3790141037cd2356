// Helpers shared by the CUDA preprocessing tests (test_cuda_preprocess.cpp on a GPU, test_cuda_emulated.cpp
// on the host): random batches of differently sized images with random plans, the reference result from
// fx_preprocess_cpu_batch, and a reader for the Pillow goldens in tests/data/preprocess.
#ifndef FIXRES4J_TESTS_NATIVE_CUDA_TEST_COMMON_H
#define FIXRES4J_TESTS_NATIVE_CUDA_TEST_COMMON_H

#include "test_util.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

namespace fxcuda {

using fxtest::Image;
using fxtest::Rng;

// ---- random batches --------------------------------------------------------------------------------------

struct Batch {
    std::vector<Image> images;
    std::vector<fx_preprocess_job> jobs;
    fx_output out{}; // data == nullptr: the caller provides the memory
    size_t out_bytes = 0;
    std::string what; // a description for failure messages
};

inline double random_coord(Rng &rng, int32_t size) {
    switch (rng.uniform(0, 3)) {
    case 0: return (double)rng.uniform(0, size);
    case 1: return rng.unit() * size;
    case 2: return std::min((double)size, rng.uniform(0, size) + 0.5);
    default: return std::min((double)size, rng.uniform(0, size) + rng.uniform(0, 1000) / 1000.0);
    }
}

inline void random_box(Rng &rng, int32_t size, double *b0, double *b1) {
    if (rng.chance(0.5)) {
        *b0 = 0;
        *b1 = size;
        return;
    }
    for (;;) {
        double a = random_coord(rng, size), b = random_coord(rng, size);
        if (a > b) std::swap(a, b);
        if (a < b && (float)a < (float)b) {
            *b0 = a;
            *b1 = b;
            return;
        }
    }
}

inline int32_t random_resize(Rng &rng, double box_size) {
    switch (rng.uniform(0, 5)) {
    case 0: return std::max(1, (int32_t)(box_size + 0.5));
    case 1: return rng.uniform(1, 40);
    case 2: return std::max(1, (int32_t)(box_size / (1.0 + rng.unit() * 3.0)));
    case 3: return std::min(600, (int32_t)(box_size * (1.0 + rng.unit() * 3.0)) + 1);
    default: return rng.uniform(1, 300);
    }
}

// A random plan for an image of w x h with the given output size.
inline fx_resample_plan random_plan(Rng &rng, int32_t w, int32_t h, int32_t out_w, int32_t out_h) {
    fx_resample_plan p{};
    if (rng.chance(0.5)) {
        p.roi_x = 0, p.roi_y = 0, p.roi_w = w, p.roi_h = h;
    } else {
        p.roi_x = rng.uniform(0, w - 1);
        p.roi_y = rng.uniform(0, h - 1);
        p.roi_w = rng.uniform(1, w - p.roi_x);
        p.roi_h = rng.uniform(1, h - p.roi_y);
    }
    random_box(rng, p.roi_w, &p.box_x0, &p.box_x1);
    random_box(rng, p.roi_h, &p.box_y0, &p.box_y1);
    p.resize_w = random_resize(rng, p.box_x1 - p.box_x0);
    p.resize_h = random_resize(rng, p.box_y1 - p.box_y0);
    p.out_w = out_w;
    p.out_h = out_h;
    if (rng.chance(0.6)) { // inside when it fits, else centred with padding
        p.crop_x = out_w <= p.resize_w ? rng.uniform(0, p.resize_w - out_w) : -(out_w - p.resize_w) / 2;
        p.crop_y = out_h <= p.resize_h ? rng.uniform(0, p.resize_h - out_h) : -(out_h - p.resize_h) / 2;
    } else { // anywhere around, with padding
        p.crop_x = rng.uniform(-out_w - 2, p.resize_w + 2);
        p.crop_y = rng.uniform(-out_h - 2, p.resize_h + 2);
    }
    p.filter = rng.uniform(0, 2);
    p.flip_x = rng.uniform(0, 1);
    return p;
}

inline void random_norm(Rng &rng, fx_output *o) {
    const float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};
    const bool imagenet = rng.chance(0.5);
    for (int c = 0; c < 3; ++c) {
        o->mean[c] = imagenet ? mean[c] : (float)(rng.unit() * 2.0 - 0.5);
        o->std[c] = imagenet ? stdv[c] : (float)((rng.unit() * 2.0 + 0.01) * (rng.chance(0.2) ? -1.0 : 1.0));
    }
}

inline fx_output make_out(int64_t batch, int32_t out_w, int32_t out_h, int32_t layout, int32_t dtype, int32_t order) {
    fx_output o{};
    o.batch = batch;
    o.layout = layout;
    o.dtype = dtype;
    o.order = order;
    o.out_w = out_w;
    o.out_h = out_h;
    return o;
}

inline size_t out_size(const fx_output &o) {
    return (size_t)o.batch * 3 * (size_t)o.out_w * (size_t)o.out_h * (size_t)fxtest::elem_size(o.dtype);
}

// `count` random images (sides up to max_side, channels 1/3/4, RGB/BGR, padded strides) with random plans,
// into shuffled slots of a batch with up to `spare` unused slots.
inline Batch random_batch(Rng &rng, int count, int32_t max_side, int32_t out_w, int32_t out_h, int spare = 3) {
    Batch b;
    const int64_t batch = count + rng.uniform(0, spare);
    b.out = make_out(batch, out_w, out_h, rng.uniform(0, 1), rng.uniform(0, 3), rng.uniform(0, 1));
    random_norm(rng, &b.out);
    b.out_bytes = out_size(b.out);
    std::vector<int64_t> slots((size_t)batch);
    std::iota(slots.begin(), slots.end(), 0);
    for (size_t i = slots.size(); i > 1; --i) std::swap(slots[i - 1], slots[(size_t)rng.uniform(0, (int32_t)i - 1)]);
    b.images.reserve((size_t)count);
    const int32_t chs[3] = {1, 3, 4};
    for (int i = 0; i < count; ++i) {
        const int32_t w = rng.chance(0.1) ? rng.uniform(1, 4) : rng.uniform(1, max_side);
        const int32_t h = rng.chance(0.1) ? rng.uniform(1, 4) : rng.uniform(1, max_side);
        const int32_t pad = rng.chance(0.5) ? 0 : rng.uniform(1, 13);
        b.images.push_back(fxtest::random_image(rng, w, h, chs[rng.uniform(0, 2)], rng.uniform(0, 1), pad));
    }
    for (int i = 0; i < count; ++i) {
        fx_preprocess_job j{};
        j.image = b.images[(size_t)i].view;
        j.plan = random_plan(rng, j.image.width, j.image.height, out_w, out_h);
        j.index = slots[(size_t)i];
        b.jobs.push_back(j);
    }
    char buf[160];
    std::snprintf(buf, sizeof buf, "%d images, batch %lld, out %dx%d layout %d dtype %d order %d", count,
                  (long long)batch, out_w, out_h, b.out.layout, b.out.dtype, b.out.order);
    b.what = buf;
    return b;
}

// One image of w x h x channels with a fixed plan (resize, then a crop window of out_w x out_h at crop).
inline void add_job(Batch &b, Rng &rng, int32_t w, int32_t h, int32_t channels, const fx_resample_plan &plan,
                    int64_t index) {
    b.images.push_back(fxtest::random_image(rng, w, h, channels, rng.uniform(0, 1), rng.uniform(0, 5)));
    // views into images[] are taken again in finalize(): push_back may move the vectors' buffers
    fx_preprocess_job j{};
    j.plan = plan;
    j.index = index;
    b.jobs.push_back(j);
}

inline void finalize(Batch &b) {
    for (size_t i = 0; i < b.jobs.size(); ++i) b.jobs[i].image = b.images[i].view;
    for (size_t i = 0; i < b.images.size(); ++i) b.images[i].view.data = b.images[i].bytes.data();
    for (size_t i = 0; i < b.jobs.size(); ++i) b.jobs[i].image = b.images[i].view;
    b.out_bytes = out_size(b.out);
}

inline fx_resample_plan simple_plan(int32_t w, int32_t h, int32_t rw, int32_t rh, int32_t cx, int32_t cy, int32_t ow,
                                    int32_t oh, int32_t filter, int32_t flip) {
    fx_resample_plan p{};
    p.roi_x = 0, p.roi_y = 0, p.roi_w = w, p.roi_h = h;
    p.box_x0 = 0, p.box_y0 = 0, p.box_x1 = w, p.box_y1 = h;
    p.resize_w = rw, p.resize_h = rh;
    p.crop_x = cx, p.crop_y = cy;
    p.out_w = ow, p.out_h = oh;
    p.filter = filter;
    p.flip_x = flip;
    return p;
}

// Stress batches: kernel sizes for every kernel variant (K = 8, 16, 32, dynamic), regions wider and taller than
// shared memory (chunked rows, the global-memory horizontal pass), many tiles, full padding.
inline std::vector<Batch> stress_batches(Rng &rng) {
    std::vector<Batch> v;
    { // timm eval of ~500x375 images, bicubic, 224
        Batch b;
        b.out = make_out(6, 224, 224, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
        random_norm(rng, &b.out);
        for (int i = 0; i < 6; ++i) {
            const int32_t w = rng.uniform(440, 520), h = rng.uniform(330, 400);
            const int32_t rw = (int32_t)((int64_t)256 * w / h), rh = 256;
            add_job(b, rng, w, h, 3, simple_plan(w, h, rw, rh, (rw - 224 + 1) / 2, 16, 224, 224, 2, i & 1), i);
        }
        b.what = "timm eval 224";
        finalize(b);
        v.push_back(std::move(b));
    }
    { // strong reductions: ksize 13 (K16), 21..31 (K32), 241 (dynamic); bilinear and bicubic
        Batch b;
        b.out = make_out(5, 40, 36, FX_LAYOUT_NHWC, FX_DTYPE_BFLOAT16, FX_ORDER_BGR);
        random_norm(rng, &b.out);
        add_job(b, rng, 120, 108, 3, simple_plan(120, 108, 40, 36, 0, 0, 40, 36, 2, 0), 0);  // 3x bicubic: 13
        add_job(b, rng, 280, 250, 4, simple_plan(280, 250, 40, 36, 0, 0, 40, 36, 2, 1), 1);  // 7x: 29
        add_job(b, rng, 400, 300, 1, simple_plan(400, 300, 40, 36, 0, 0, 40, 36, 1, 0), 2);  // 10x bilinear: 21
        add_job(b, rng, 2400, 60, 3, simple_plan(2400, 60, 40, 36, 0, 0, 40, 36, 2, 1), 3);  // 60x: 241
        b.what = "strong reductions";
        finalize(b);
        v.push_back(std::move(b));
    }
    { // wide and tall regions: the staged input does not fit shared memory; many chunks of rows
        Batch b;
        b.out = make_out(3, 33, 70, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT16, FX_ORDER_RGB);
        random_norm(rng, &b.out);
        add_job(b, rng, 12000, 9, 3, simple_plan(12000, 9, 40, 80, 3, 5, 33, 70, 1, 0), 0);  // 300x across
        add_job(b, rng, 9, 9000, 4, simple_plan(9, 9000, 40, 100, -3, 10, 33, 70, 2, 1), 1); // 90x down
        add_job(b, rng, 3000, 2000, 3, simple_plan(3000, 2000, 40, 80, 2, 3, 33, 70, 0, 1), 2); // nearest
        b.what = "wide and tall";
        finalize(b);
        v.push_back(std::move(b));
    }
    { // upscaling, tiny images, full padding, identity
        Batch b;
        b.out = make_out(5, 70, 50, FX_LAYOUT_NHWC, FX_DTYPE_UINT8, FX_ORDER_RGB);
        add_job(b, rng, 1, 1, 3, simple_plan(1, 1, 80, 60, 5, 5, 70, 50, 2, 0), 4);
        add_job(b, rng, 7, 5, 1, simple_plan(7, 5, 300, 200, 100, 90, 70, 50, 1, 1), 0);
        add_job(b, rng, 50, 40, 3, simple_plan(50, 40, 20, 20, 100, 100, 70, 50, 2, 0), 2); // all padding
        add_job(b, rng, 70, 50, 4, simple_plan(70, 50, 70, 50, 0, 0, 70, 50, 2, 1), 1);     // identity
        add_job(b, rng, 64, 64, 3, simple_plan(64, 64, 64, 64, -10, -7, 70, 50, 0, 0), 3);  // padded border
        b.what = "upscaling, padding, identity";
        finalize(b);
        v.push_back(std::move(b));
    }
    return v;
}

// ---- Pillow goldens (tests/data/preprocess) ------------------------------------------------------------

struct Npy {
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
};

// gunzip through the system's gzip (no zlib dependency); false if it fails.
inline bool read_gz(const std::string &path, std::vector<uint8_t> *bytes) {
    const std::string cmd = "gzip -dc '" + path + "' 2>/dev/null";
    FILE *f = popen(cmd.c_str(), "r");
    if (f == nullptr) return false;
    bytes->clear();
    uint8_t buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes->insert(bytes->end(), buf, buf + n);
    return pclose(f) == 0 && !bytes->empty();
}

// A uint8 C-order .npy.
inline bool parse_npy(const std::vector<uint8_t> &b, Npy *out) {
    if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0) return false;
    size_t hlen, hstart;
    if (b[6] == 1) {
        hlen = b[8] | (b[9] << 8);
        hstart = 10;
    } else {
        if (b.size() < 12) return false;
        hlen = b[8] | (b[9] << 8) | ((size_t)b[10] << 16) | ((size_t)b[11] << 24);
        hstart = 12;
    }
    if (b.size() < hstart + hlen) return false;
    const std::string h(reinterpret_cast<const char *>(b.data() + hstart), hlen);
    if (h.find("'|u1'") == std::string::npos && h.find("'u1'") == std::string::npos) return false;
    if (h.find("'fortran_order': False") == std::string::npos) return false;
    const size_t s = h.find("'shape': (");
    if (s == std::string::npos) return false;
    out->shape.clear();
    const char *p = h.c_str() + s + 10;
    while (*p && *p != ')') {
        char *end;
        const long long v = std::strtoll(p, &end, 10);
        if (end == p) {
            ++p;
            continue;
        }
        out->shape.push_back(v);
        p = end;
    }
    int64_t n = 1;
    for (int64_t d : out->shape) n *= d;
    if ((int64_t)(b.size() - hstart - hlen) != n) return false;
    out->data.assign(b.begin() + (ptrdiff_t)(hstart + hlen), b.end());
    return true;
}

inline bool json_string(const std::string &line, const std::string &key, std::string *v) {
    const std::string k = "\"" + key + "\": \"";
    const size_t p = line.find(k);
    if (p == std::string::npos) return false;
    const size_t e = line.find('"', p + k.size());
    if (e == std::string::npos) return false;
    *v = line.substr(p + k.size(), e - p - k.size());
    return true;
}

inline bool json_number(const std::string &obj, const std::string &key, double *v) {
    const std::string k = "\"" + key + "\": ";
    const size_t p = obj.find(k);
    if (p == std::string::npos) return false;
    char *end;
    *v = std::strtod(obj.c_str() + p + k.size(), &end);
    return end != obj.c_str() + p + k.size();
}

struct Golden {
    std::string name;
    Npy source, golden;
    fx_resample_plan plan{};
};

// The cases of dir/cases.json; false (with a reason) if the folder or a file is missing or unreadable.
inline bool load_goldens(const std::string &dir, std::vector<Golden> *cases, std::string *why) {
    FILE *f = std::fopen((dir + "/cases.json").c_str(), "rb");
    if (f == nullptr) {
        *why = dir + "/cases.json not found";
        return false;
    }
    std::string text;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    size_t pos = 0;
    while ((pos = text.find("{\"name\": ", pos)) != std::string::npos) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(pos, end - pos);
        pos = end;
        Golden g;
        std::string src, gold;
        if (!json_string(line, "name", &g.name) || !json_string(line, "source", &src) ||
            !json_string(line, "golden", &gold)) {
            *why = "unparsable case: " + line.substr(0, 80);
            return false;
        }
        const size_t pp = line.find("\"plan\": {");
        const size_t pe = pp == std::string::npos ? pp : line.find('}', pp);
        if (pe == std::string::npos) {
            *why = "no plan in case " + g.name;
            return false;
        }
        const std::string plan = line.substr(pp, pe - pp);
        double v[16];
        const char *keys[16] = {"roi_x", "roi_y", "roi_w", "roi_h", "box_x0", "box_y0", "box_x1", "box_y1",
                                "resize_w", "resize_h", "crop_x", "crop_y", "out_w", "out_h", "filter", "flip_x"};
        for (int i = 0; i < 16; ++i)
            if (!json_number(plan, keys[i], &v[i])) {
                *why = std::string("case ") + g.name + ": no plan." + keys[i];
                return false;
            }
        fx_resample_plan &p = g.plan;
        p.roi_x = (int32_t)v[0], p.roi_y = (int32_t)v[1], p.roi_w = (int32_t)v[2], p.roi_h = (int32_t)v[3];
        p.box_x0 = v[4], p.box_y0 = v[5], p.box_x1 = v[6], p.box_y1 = v[7];
        p.resize_w = (int32_t)v[8], p.resize_h = (int32_t)v[9], p.crop_x = (int32_t)v[10], p.crop_y = (int32_t)v[11];
        p.out_w = (int32_t)v[12], p.out_h = (int32_t)v[13], p.filter = (int32_t)v[14], p.flip_x = (int32_t)v[15];
        std::vector<uint8_t> raw;
        if (!read_gz(dir + "/" + src, &raw) || !parse_npy(raw, &g.source) || g.source.shape.size() != 3) {
            *why = "cannot read " + dir + "/" + src;
            return false;
        }
        if (!read_gz(dir + "/" + gold, &raw) || !parse_npy(raw, &g.golden) || g.golden.shape.size() != 3) {
            *why = "cannot read " + dir + "/" + gold;
            return false;
        }
        cases->push_back(std::move(g));
    }
    if (cases->empty()) {
        *why = "no case in " + dir + "/cases.json";
        return false;
    }
    return true;
}

inline fx_image golden_image(const Golden &g) {
    fx_image im{};
    im.data = g.source.data.data();
    im.height = (int32_t)g.source.shape[0];
    im.width = (int32_t)g.source.shape[1];
    im.channels = (int32_t)g.source.shape[2];
    im.order = FX_ORDER_RGB;
    im.row_stride = (int64_t)im.width * im.channels;
    return im;
}

// First differing byte of a and b over n bytes (n if equal).
inline size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (a[i] != b[i]) return i;
    return n;
}

} // namespace fxcuda

#endif
