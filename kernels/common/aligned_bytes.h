// A byte buffer whose start is 64-byte aligned. The AVX-512 kernels read their tables and scratch rows 64 bytes at
// a time, and a 64-byte load across two cache lines costs two: std::vector only promises malloc's 16-byte
// alignment, and on Sapphire Rapids the whole 224 px preprocessing call ran about 15% slower when its tables and
// rows were 16 or 32 bytes off (docs/PERFORMANCE.md). Header-only, for baseline (non-AVX) code.
#ifndef FIXRES4J_KERNELS_ALIGNED_BYTES_H
#define FIXRES4J_KERNELS_ALIGNED_BYTES_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fx {

class AlignedBytes {
  public:
    static constexpr size_t kAlign = 64;
    uint8_t *data() { return size_ == 0 ? nullptr : bytes_.data() + pad_; }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    size_t capacity() const { return bytes_.size(); }
    // n bytes: the first min(size(), n) are kept, the others set to `fill` (as std::vector::resize).
    void resize(size_t n, uint8_t fill = 0) {
        const size_t keep = std::min(size_, n);
        if (n + kAlign > bytes_.size()) {
            std::vector<uint8_t> next(n + kAlign);
            const size_t pad = (kAlign - (uintptr_t)next.data() % kAlign) % kAlign;
            if (keep > 0) std::memcpy(next.data() + pad, bytes_.data() + pad_, keep);
            bytes_.swap(next);
            pad_ = pad;
        }
        if (n > keep) std::memset(bytes_.data() + pad_ + keep, fill, n - keep);
        size_ = n;
    }
    void assign(size_t n, uint8_t fill) {
        resize(n);
        if (n > 0) std::memset(data(), fill, n);
    }
    void release() {
        std::vector<uint8_t>().swap(bytes_);
        size_ = pad_ = 0;
    }

  private:
    std::vector<uint8_t> bytes_;
    size_t size_ = 0, pad_ = 0;
};

} // namespace fx

#endif
