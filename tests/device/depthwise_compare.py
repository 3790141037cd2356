#!/usr/bin/env python3
"""PyTorch baselines for the CUDA depthwise kernels, the goals' verdicts, and the depthwise table of
tests/device/run.sh.

Reads what bench_depthwise_cuda wrote (--bench JSON: per layer shape of EfficientNet B0..B7, NHWC, bfloat16 and
B0 in float32, our times; --dir: the spot-check layers' inputs and outputs), and times on the same GPU, per layer:

  * forward, what our fused call replaces: F.conv2d(x, w, None, stride, padding, groups=C) (TF 'same': F.pad
    first when the padding is asymmetric, as timm's Conv2dSame; also, for those layers, the symmetric k // 2
    padding of torchvision's EfficientNet, same output size) + F.batch_norm in eval form (running stats) +
    F.silu(inplace) + the spatial mean (the squeeze-excitation's input); in channels_last (cuDNN NHWC) and in
    NCHW; eager and as a CUDA graph replay (no launch overhead); torch's time is the fastest of all of these;
  * the weight gradient (dw and db, as ours): torch.ops.aten.convolution_backward with output_mask
    [False, True, True] on the saved input, channels_last and NCHW (and both padding forms), the fastest;
  * the input gradient (dx, for information): the same op with [True, False, False].

torch.backends.cudnn.benchmark = True (the autotuning runs in the warm-up). Times are medians of --reps samples;
a sample is `per` back-to-back calls between two CUDA events (per chosen so a sample lasts >= ~0.3 ms), / per.

Correctness: the spot-check layers (batch 2) are recomputed in float64 on the CPU from the very inputs our kernels
got (forward with bias + SiLU, the SE sums, dx, dw, db) and compared: |ours - ref| / (|ref| + sum of |terms|)
must stay within 1.6e-2 (bfloat16) or 1e-5 (float32), 1e-4 for the float32 SE sums (as tests/native's
test_depthwise_cuda). A failure, a missing spot file or a failed call of the library makes the exit status 1.

Writes the summary table (per model totals over the network's depthwise layers, each distinct shape weighted by
how often it occurs; the goals with PASS / MISS) to --table and a per-layer table to --layers-table.

--device cpu runs the same logic with torch on the CPU (without torch installed: the spot check against numpy's
float64 reference and the tables, no torch timings) (no events, no graphs; float32 where the CPU lacks
bfloat16 convolutions), for tiny shapes: --make-fake DIR writes a fake bench JSON and spot files (computed here
with numpy, independently of torch) to test the script without a GPU.
"""
import argparse
import json
import math
import os
import sys
import time
import traceback

import numpy as np

GOAL_FWD_SPEEDUP = 1.5
GOAL_FWD_COPY = 0.60
GOAL_DW_SPEEDUP = 3.0
TOL = {"bfloat16": 1.6e-2, "float32": 1e-5, "float16": 2e-3}
TOL_SE = 1e-4


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return float("nan") if n == 0 else (xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2]))


# ---- raw files -------------------------------------------------------------------------------------------------
def bf16_to_f32(u16):
    return (u16.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(f):
    u = np.ascontiguousarray(f, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def load_raw(path, dtype, shape):
    if dtype == "bfloat16":
        v = bf16_to_f32(np.fromfile(path, dtype=np.uint16))
    elif dtype == "float16":
        v = np.fromfile(path, dtype=np.float16).astype(np.float32)
    else:
        v = np.fromfile(path, dtype=np.float32)
    n = int(np.prod(shape))
    if v.size != n:
        raise ValueError("%s: %d values, expected %d %s" % (os.path.basename(path), v.size, n, tuple(shape)))
    return v.reshape(shape)


def save_raw(path, dtype, arr):
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if dtype == "bfloat16":
        f32_to_bf16(arr).tofile(path)
    else:
        arr.tofile(path)


# ---- a numpy depthwise convolution (NHWC, float64): the fake bench's "ours" -----------------------------------
def np_forward(x, w, b, k, s, pads):
    t, l, bo, r = pads
    n, h, wd, c = x.shape
    xp = np.pad(x, ((0, 0), (t, bo), (l, r), (0, 0)))
    oh, ow = (h + t + bo - k) // s + 1, (wd + l + r - k) // s + 1
    pre = np.zeros((n, oh, ow, c)) + b
    for kh in range(k):
        for kw in range(k):
            pre += xp[:, kh:kh + s * (oh - 1) + 1:s, kw:kw + s * (ow - 1) + 1:s, :] * w[:, 0, kh, kw]
    return pre


def np_backward(x, w, dy, k, s, pads):
    t, l, bo, r = pads
    n, h, wd, c = x.shape
    xp = np.pad(x, ((0, 0), (t, bo), (l, r), (0, 0)))
    _, oh, ow, _ = dy.shape
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for kh in range(k):
        for kw in range(k):
            sl = (slice(None), slice(kh, kh + s * (oh - 1) + 1, s), slice(kw, kw + s * (ow - 1) + 1, s), slice(None))
            dxp[sl] += dy * w[:, 0, kh, kw]
            dw[:, 0, kh, kw] = (dy * xp[sl]).sum(axis=(0, 1, 2))
    return dxp[:, t:t + h, l:l + wd, :], dw, dy.sum(axis=(0, 1, 2))


def tf_same(size, k, s):
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def make_fake(d, corrupt=False):
    """A fake bench JSON with tiny layers for every model and spot files from numpy, to test this script."""
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(1)
    layers = []
    # (c, h, k, stride): both padding forms (asymmetric: even h with stride 2), every kernel size EfficientNet has
    shapes = [(8, 12, 3, 1), (16, 12, 3, 2), (24, 10, 5, 2), (16, 9, 5, 2), (32, 6, 5, 1)]
    copy_gbps = 3000.0
    for v in range(8):
        for i, (c, h, k, s) in enumerate(shapes[: 2 + v % 4]):
            for dtype in (["bfloat16", "float32"] if v == 0 else ["bfloat16"]):
                es = 2 if dtype == "bfloat16" else 4
                n = 4
                pt, pb = tf_same(h, k, s)
                oh = (h + s - 1) // s
                xb, yb, wb, bb = n * c * h * h * es, n * c * oh * oh * es, c * k * k * es, c * es
                fwd_bytes, dw_bytes, dx_bytes = xb + yb + wb + bb + n * c * 4, xb + yb + wb + bb, xb + yb + wb
                ms = [float(rng.uniform(0.005, 0.05)) for _ in range(3)]
                layers.append({"model": "B%d" % v, "variant": v, "dtype": dtype, "batch": n, "c": c, "h": h, "w": h,
                               "k": k, "stride": s, "pad": [pt, pt, pb, pb], "out_h": oh, "out_w": oh,
                               "count": 1 + i % 3, "fwd_ms": ms[0], "dw_ms": ms[1], "dx_ms": ms[2],
                               "fwd_bytes": fwd_bytes, "dw_bytes": dw_bytes, "dx_bytes": dx_bytes,
                               "fwd_gbps": fwd_bytes / ms[0] / 1e6, "dw_gbps": dw_bytes / ms[1] / 1e6,
                               "dx_gbps": dx_bytes / ms[2] / 1e6, "per": [1, 1, 1], "error": ""})
    spots = []
    for i, (c, h, k, s) in enumerate([(8, 12, 3, 2), (16, 9, 5, 2), (8, 10, 5, 1)]):
        for dtype in ("bfloat16", "float32"):
            name = "spot%d_%s" % (i, "bf16" if dtype == "bfloat16" else "f32")
            n = 2
            pt, pb = tf_same(h, k, s)
            pads = (pt, pt, pb, pb)

            def q(a):  # values representable in the dtype, as the kernels' inputs are
                a = a.astype(np.float32)
                return bf16_to_f32(f32_to_bf16(a)) if dtype == "bfloat16" else a

            x = q(rng.uniform(-2, 2, (n, h, h, c)))
            w = q(rng.uniform(-0.6, 0.6, (c, 1, k, k)))
            b = q(rng.uniform(-0.5, 0.5, (c,)))
            pre = np_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), k, s, pads)
            y = pre / (1.0 + np.exp(-pre))
            se = y.sum(axis=(1, 2))
            oh = pre.shape[1]
            dy = q(rng.uniform(-1, 1, (n, oh, oh, c)))
            dx, dw, db = np_backward(x.astype(np.float64), w.astype(np.float64), dy.astype(np.float64), k, s, pads)
            if corrupt and i == 1 and dtype == "bfloat16":
                y = y.copy()
                y[0, 0, 0, 0] += 0.5  # must be caught
            pre_ = os.path.join(d, name + "_")
            for key, arr in (("x", x), ("w", w), ("b", b), ("y", y), ("dy", dy), ("dx", dx), ("dw", dw), ("db", db)):
                save_raw(pre_ + key + ".bin", dtype, arr)
            save_raw(pre_ + "se.bin", "float32", se)
            spots.append({"name": name, "dtype": dtype, "n": n, "c": c, "h": h, "w": h, "k": k, "stride": s,
                          "pad": [pt, pt, pb, pb], "out_h": oh, "out_w": oh, "act": "silu"})
    bench = {"device": "fake (numpy)", "sms": 0, "l2_mb": 0, "mem_gb": 0, "copy_gbps": copy_gbps, "copy_ms": 0,
             "reps": 3, "quick": True, "complete": True, "layout": "NHWC", "layers": layers, "spot": spots}
    path = os.path.join(d, "fake_bench.json")
    with open(path, "w") as f:
        json.dump(bench, f, indent=1)
    return path


# ---- torch -----------------------------------------------------------------------------------------------------
class Timer:
    def __init__(self, torch, dev):
        self.torch = torch
        self.cuda = dev.type == "cuda"

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def _once(self, fn, per):
        if self.cuda:
            a = self.torch.cuda.Event(enable_timing=True)
            b = self.torch.cuda.Event(enable_timing=True)
            a.record()
            for _ in range(per):
                fn()
            b.record()
            b.synchronize()
            return a.elapsed_time(b)
        t0 = time.perf_counter()
        for _ in range(per):
            fn()
        return (time.perf_counter() - t0) * 1e3

    def time(self, fn, reps, warmup=2):
        """Median ms per call."""
        for _ in range(warmup):
            fn()
        self.sync()
        first = self._once(fn, 1)
        per = int(min(50, max(1, math.ceil(0.3 / max(first, 1e-4))))) if self.cuda else 1
        return median([self._once(fn, per) / per for _ in range(reps)])

    def graph_time(self, fn, reps):
        """The same as a CUDA graph replay (no launch overhead); fn must have run before (cuDNN autotuned)."""
        torch = self.torch
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(2):
                fn()
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            out = fn()  # noqa: F841 (the graph's outputs live in its pool)
        try:
            return self.time(g.replay, reps, warmup=1)
        finally:
            del out, g


def conv_backward_fn(torch, F, dy, xin, w, stride, padding, groups, mask):
    """A callable computing the masked convolution gradients (aten.convolution_backward, else autograd)."""
    try:
        op = torch.ops.aten.convolution_backward
        return lambda: op(dy, xin, w, [groups], [stride, stride], list(padding), [1, 1], False, [0, 0], groups, mask)
    except (AttributeError, RuntimeError):
        xr = xin.detach().requires_grad_(mask[0])
        wr = w.detach().requires_grad_(mask[1])
        br = torch.zeros(groups, dtype=w.dtype, device=w.device, requires_grad=mask[2])
        y = F.conv2d(xr, wr, br, stride, padding, 1, groups)
        ins = [t for t, m in zip((xr, wr, br), mask) if m]
        return lambda: torch.autograd.grad(y, ins, dy, retain_graph=True)


def time_layer(torch, F, timer, dev, L, reps, use_graphs, dtype, notes):
    """Torch times of one layer: {'fwd': {variant: ms}, 'dw': {layout: ms}, 'dx': {layout: ms}}."""
    n, c, h, w, k, s = L["batch"], L["c"], L["h"], L["w"], L["k"], L["stride"]
    pt, pl, pb, pr = L["pad"]
    asym = (pt, pl) != (pb, pr)
    res = {"fwd": {}, "dw": {}, "dx": {}}
    tag = "%s %s c%d %dx%d k%d s%d" % (L["model"], L["dtype"], c, h, w, k, s)

    def guard(kind, key, fn):
        try:
            res[kind][key] = fn()
        except Exception as e:  # one failing baseline must not cost the table
            res[kind][key] = None
            msg = "".join(traceback.format_exception_only(type(e), e)).strip().splitlines()[0]
            notes.append("%s %s %s: %s" % (tag, kind, key, msg[:200]))
            if dev.type == "cuda":
                torch.cuda.synchronize()
                torch.cuda.empty_cache()

    x = torch.empty((n, c, h, w), dtype=dtype, device=dev).uniform_(-2, 2)
    wt = torch.empty((c, 1, k, k), dtype=dtype, device=dev).uniform_(-0.6, 0.6)
    rm = torch.empty(c, dtype=dtype, device=dev).uniform_(-0.5, 0.5)
    rv = torch.empty(c, dtype=dtype, device=dev).uniform_(0.5, 1.5)
    gamma = torch.empty(c, dtype=dtype, device=dev).uniform_(0.5, 1.5)
    beta = torch.empty(c, dtype=dtype, device=dev).uniform_(-0.5, 0.5)
    oh, ow = L["out_h"], L["out_w"]
    dy = torch.empty((n, c, oh, ow), dtype=dtype, device=dev).uniform_(-1, 1)
    pad_forms = [("tf", None)]
    if asym:
        pad_forms.append(("sym", (k // 2, k // 2)))
    cl = torch.channels_last
    for layout in ("channels_last", "nchw"):
        xl = x.contiguous(memory_format=cl) if layout == "channels_last" else x
        wl = wt.contiguous(memory_format=cl) if layout == "channels_last" else wt
        dyl = dy.contiguous(memory_format=cl) if layout == "channels_last" else dy
        for form, sym in pad_forms:
            if form == "tf" and asym:
                def fwd(xl=xl, wl=wl):
                    y = F.conv2d(F.pad(xl, (pl, pr, pt, pb)), wl, None, s, 0, 1, c)
                    y = F.silu(F.batch_norm(y, rm, rv, gamma, beta, False, 0.0, 1e-3), inplace=True)
                    return y, y.mean((2, 3))
            else:
                padding = sym if sym is not None else (pt, pl)

                def fwd(xl=xl, wl=wl, padding=padding):
                    y = F.conv2d(xl, wl, None, s, padding, 1, c)
                    y = F.silu(F.batch_norm(y, rm, rv, gamma, beta, False, 0.0, 1e-3), inplace=True)
                    return y, y.mean((2, 3))
            key = "%s/%s" % (layout, form)
            guard("fwd", key + "/eager", lambda: timer.time(fwd, reps))
            if use_graphs["on"]:
                guard("fwd", key + "/graph", lambda: timer.graph_time(fwd, reps))
                if res["fwd"][key + "/graph"] is None:  # a failed capture: no more graphs (eager times remain)
                    use_graphs["on"] = False
                    notes.append("CUDA graph capture failed: torch timed eagerly from here on")
        # gradients: on the input the convolution saw (the padded copy for timm's F.pad form)
        for form, sym in pad_forms:
            if form == "tf" and asym:
                xin, padding = F.pad(xl, (pl, pr, pt, pb)), (0, 0)
            else:
                xin, padding = xl, sym if sym is not None else (pt, pl)
            key = "%s/%s" % (layout, form)
            guard("dw", key, lambda: timer.time(conv_backward_fn(torch, F, dyl, xin, wl, s, padding, c,
                                                                 [False, True, True]), reps))
            guard("dx", key, lambda: timer.time(conv_backward_fn(torch, F, dyl, xin, wl, s, padding, c,
                                                                 [True, False, False]), reps))
            del xin
        del xl, wl, dyl
    del x, wt, dy
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    return res


def best(d):
    vals = [(v, k) for k, v in d.items() if v is not None and not math.isnan(v)]
    return min(vals) if vals else (None, None)


# ---- correctness: the spot layers against float64 -------------------------------------------------------------
def spot_check(torch, F, d, sp):
    """Max normalised errors of y, se, dx, dw, db; and whether they are within the tolerances."""
    n, c, h, w, k, s = sp["n"], sp["c"], sp["h"], sp["w"], sp["k"], sp["stride"]
    pt, pl, pb, pr = sp["pad"]
    oh, ow = sp["out_h"], sp["out_w"]
    dt = sp["dtype"]
    pre_ = os.path.join(d, sp["name"] + "_")
    ld = lambda key, shape, t=dt: torch.from_numpy(load_raw(pre_ + key + ".bin", t, shape).astype(np.float64))  # noqa
    x = ld("x", (n, h, w, c)).permute(0, 3, 1, 2)
    wt = ld("w", (c, 1, k, k))
    b = ld("b", (c,))
    y = ld("y", (n, oh, ow, c)).permute(0, 3, 1, 2)
    se = ld("se", (n, c), "float32")
    dy = ld("dy", (n, oh, ow, c)).permute(0, 3, 1, 2)
    dx = ld("dx", (n, h, w, c)).permute(0, 3, 1, 2)
    dw = ld("dw", (c, 1, k, k))
    db = ld("db", (c,))

    def conv(xx, ww, bb):
        return F.conv2d(F.pad(xx, (pl, pr, pt, pb)), ww, bb, s, 0, 1, c)

    pre = conv(x, wt, b)
    ry = pre * torch.sigmoid(pre)
    mag = conv(x.abs(), wt.abs(), b.abs())
    rse = ry.sum((2, 3))
    xg = x.clone().requires_grad_(True)
    wg = wt.clone().requires_grad_(True)
    bg = torch.zeros(c, dtype=torch.float64, requires_grad=True)
    rdx, rdw, rdb = torch.autograd.grad(conv(xg, wg, bg), (xg, wg, bg), dy)
    xa = x.abs().requires_grad_(True)
    wa = wt.abs().requires_grad_(True)
    ba = torch.zeros(c, dtype=torch.float64, requires_grad=True)
    mdx, mdw, mdb = torch.autograd.grad(conv(xa, wa, ba), (xa, wa, ba), dy.abs())

    def err(got, ref, m):
        return float(((got - ref).abs() / (ref.abs() + m + 1e-30)).max())

    errs = {"y": err(y, ry, mag), "se": err(se, rse, mag.sum((2, 3))), "dx": err(dx, rdx, mdx),
            "dw": err(dw, rdw, mdw), "db": err(db, rdb, mdb)}
    tol = TOL.get(dt, 1.6e-2)
    ok = all((v <= (TOL_SE if key == "se" else tol)) for key, v in errs.items()) and \
        all(not math.isnan(v) for v in errs.values())
    scale = float((y - ry).abs().max() / max(float(ry.abs().max()), 1e-30))
    return errs, ok, scale


def spot_check_numpy(d, sp):
    """spot_check without torch (the CPU dry run where torch is not installed): the same errors and tolerances, the
    float64 reference from np_forward / np_backward (NHWC)."""
    n, c, h, w, k, s = sp["n"], sp["c"], sp["h"], sp["w"], sp["k"], sp["stride"]
    pt, pl, pb, pr = sp["pad"]
    pads = (pt, pl, pb, pr)
    oh, ow = sp["out_h"], sp["out_w"]
    dt = sp["dtype"]
    pre_ = os.path.join(d, sp["name"] + "_")
    ld = lambda key, shape, t=dt: load_raw(pre_ + key + ".bin", t, shape).astype(np.float64)  # noqa
    x, wt, b = ld("x", (n, h, w, c)), ld("w", (c, 1, k, k)), ld("b", (c,))
    y, se, dy = ld("y", (n, oh, ow, c)), ld("se", (n, c), "float32"), ld("dy", (n, oh, ow, c))
    dx, dw, db = ld("dx", (n, h, w, c)), ld("dw", (c, 1, k, k)), ld("db", (c,))
    pre = np_forward(x, wt, b, k, s, pads)
    ry = pre / (1.0 + np.exp(-pre))
    mag = np_forward(np.abs(x), np.abs(wt), np.abs(b), k, s, pads)
    rdx, rdw, rdb = np_backward(x, wt, dy, k, s, pads)
    mdx, mdw, mdb = np_backward(np.abs(x), np.abs(wt), np.abs(dy), k, s, pads)

    def err(got, ref, m):
        return float((np.abs(got - ref) / (np.abs(ref) + m + 1e-30)).max())

    errs = {"y": err(y, ry, mag), "se": err(se, ry.sum(axis=(1, 2)), mag.sum(axis=(1, 2))), "dx": err(dx, rdx, mdx),
            "dw": err(dw, rdw, mdw), "db": err(db, rdb, mdb)}
    tol = TOL.get(dt, 1.6e-2)
    ok = all((v <= (TOL_SE if key == "se" else tol)) for key, v in errs.items()) and \
        all(not math.isnan(v) for v in errs.values())
    scale = float(np.abs(y - ry).max() / max(float(np.abs(ry).max()), 1e-30))
    return errs, ok, scale


# ---- main ------------------------------------------------------------------------------------------------------
def fmt_ms(v):
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else "%.3f" % v


def fmt_x(a, b):
    return "n/a" if not a or not b else "%.2fx" % (b / a)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", help="bench_depthwise_cuda's JSON")
    ap.add_argument("--dir", default="", help="where the spot-check files are (default: the JSON's folder)")
    ap.add_argument("--table", default="", help="write the summary table here")
    ap.add_argument("--layers-table", default="", help="write the per-layer table here")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--budget", type=float, default=0.0, help="seconds for the torch timings (0: no limit); "
                    "past half of it the reps are halved, past it the remaining layers are not timed")
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    ap.add_argument("--no-graphs", action="store_true", help="no CUDA graph replays of torch's forward")
    ap.add_argument("--ctest", default="", help="the ctest summary, for the table")
    ap.add_argument("--make-fake", default="", metavar="DIR", help="write a fake bench JSON + spot files to DIR "
                    "(and use them when --bench is not given)")
    ap.add_argument("--fake-corrupt", action="store_true", help="with --make-fake: one wrong spot value")
    args = ap.parse_args()
    t_start = time.time()

    if args.make_fake:
        path = make_fake(args.make_fake, args.fake_corrupt)
        print("fake bench written to %s" % path)
        if not args.bench:
            args.bench = path
    if not args.bench:
        ap.error("--bench is required")
    with open(args.bench) as f:
        bench = json.load(f)
    spot_dir = args.dir or os.path.dirname(os.path.abspath(args.bench))

    notes = []
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        if args.device == "cuda":
            raise
        # the CPU dry run where torch is not installed (CI machines): the correctness check with numpy and the
        # tables; no torch timings
        torch = F = None
        notes.append("torch is not installed: spot check against numpy's float64 reference, no torch timings")
        print("torch is not installed: dry run with numpy only (spot check, tables; no torch timings)")
    dev = torch.device(args.device) if torch else None
    if torch is None:
        tdev = "none (torch not installed)"
    elif dev.type == "cuda":
        if not torch.cuda.is_available():
            print("torch sees no CUDA device")
            return 2
        torch.backends.cudnn.benchmark = True
        tdev = "%s (torch %s, CUDA %s, cuDNN %s)" % (torch.cuda.get_device_name(0), torch.__version__,
                                                    torch.version.cuda, torch.backends.cudnn.version())
    else:
        tdev = "cpu (torch %s)" % torch.__version__
    timer = Timer(torch, dev) if torch else None
    use_graphs = {"on": torch is not None and dev.type == "cuda" and not args.no_graphs}
    dtypes = {"bfloat16": torch.bfloat16, "float32": torch.float32, "float16": torch.float16} if torch else {}

    def compute_dtype(name):
        dt = dtypes[name]
        if dev.type == "cpu" and dt != torch.float32:
            try:
                F.conv2d(torch.zeros(1, 2, 4, 4, dtype=dt), torch.zeros(2, 1, 3, 3, dtype=dt), None, 1, 1, 1, 2)
            except Exception:
                notes.append("torch on the CPU has no %s depthwise convolution: timed in float32" % name)
                return torch.float32
        return dt

    # ---- correctness ----
    failed = False
    spot_rows = []
    for sp in bench.get("spot", []):
        try:
            errs, ok, scale = spot_check(torch, F, spot_dir, sp) if torch else spot_check_numpy(spot_dir, sp)
        except Exception as e:
            errs, ok, scale = None, False, float("nan")
            notes.append("spot %s: %s" % (sp["name"], "".join(traceback.format_exception_only(type(e), e)).strip()))
        failed |= not ok
        spot_rows.append((sp, errs, ok, scale))
        print("spot %-10s %s c%d %dx%d k%d s%d pad%s: %s %s" % (
            sp["name"], sp["dtype"], sp["c"], sp["h"], sp["w"], sp["k"], sp["stride"], sp["pad"],
            "n/a" if errs is None else " ".join("%s %.2e" % kv for kv in errs.items()), "ok" if ok else "FAILED"))
    bench_errors = [L for L in bench["layers"] if L.get("error")]
    if bench_errors:
        failed = True
        for L in bench_errors:
            notes.append("our call failed: %s c%d %dx%d k%d s%d: %s" % (L["model"], L["c"], L["h"], L["w"], L["k"],
                                                                       L["stride"], L["error"]))

    # ---- torch timings (bfloat16 layers first: the goals' dtype) ----
    layers = sorted(bench["layers"], key=lambda L: 0 if L["dtype"] == "bfloat16" else 1)
    results = []
    skipped = 0
    for L in layers:
        el = time.time() - t_start
        if torch is None or (args.budget and el > args.budget):
            skipped += 1
            results.append((L, None))
            continue
        reps = args.reps if not args.budget or el < 0.5 * args.budget else max(3, args.reps // 2)
        r = time_layer(torch, F, timer, dev, L, reps, use_graphs, compute_dtype(L["dtype"]), notes)
        results.append((L, r))
        bf, bk = best(r["fwd"])
        bw, bwk = best(r["dw"])
        print("%s %-8s n%d c%d %dx%d k%d s%d: ours fwd %s ms, torch %s ms (%s); ours dw %s ms, torch %s ms (%s) "
              "[%.0f s]" % (L["model"], L["dtype"], L["batch"], L["c"], L["h"], L["w"], L["k"], L["stride"],
                            fmt_ms(L["fwd_ms"]), fmt_ms(bf), bk, fmt_ms(L["dw_ms"]), fmt_ms(bw), bwk,
                            time.time() - t_start))
        sys.stdout.flush()
    if skipped and torch is not None:
        notes.append("%d layers not timed with torch (past the %g s budget)" % (skipped, args.budget))

    # ---- per model totals (each distinct shape weighted by its count in the network) ----
    copy = bench["copy_gbps"]
    groups = {}  # (model, dtype) -> [(layer, torch times)], in the bench's order
    for L, r in results:
        groups.setdefault((L["model"], L["dtype"]), []).append((L, r))
    model_rows, per_layer = [], []
    verdict_layers = {"fwd": [], "copy": [], "dw": []}
    for (model, dtn), items in groups.items():
        tot = {"ours_fwd": 0.0, "torch_fwd": 0.0, "bytes": 0.0, "ours_dw": 0.0, "torch_dw": 0.0, "ours_dx": 0.0,
               "torch_dx": 0.0}
        complete = True
        nl = summed = 0
        for L, r in items:
            cnt = L.get("count", 1)
            nl += cnt
            ok_ours = L["fwd_ms"] > 0 and L["dw_ms"] > 0 and L["dx_ms"] > 0
            tf, tfk = best(r["fwd"]) if r else (None, None)
            tw, twk = best(r["dw"]) if r else (None, None)
            tx, txk = best(r["dx"]) if r else (None, None)
            if not ok_ours or tf is None or tw is None:
                complete = False
            else:
                summed += 1
                tot["ours_fwd"] += cnt * L["fwd_ms"]
                tot["torch_fwd"] += cnt * tf
                tot["bytes"] += cnt * L["fwd_bytes"]
                tot["ours_dw"] += cnt * L["dw_ms"]
                tot["torch_dw"] += cnt * tw
                tot["ours_dx"] += cnt * L["dx_ms"]
                tot["torch_dx"] += cnt * (tx if tx is not None else float("nan"))
            frac = (L["fwd_bytes"] / (L["fwd_ms"] * 1e-3) / 1e9) / copy if L["fwd_ms"] > 0 else None
            if dtn == "bfloat16":
                if tf is not None and L["fwd_ms"] > 0:
                    verdict_layers["fwd"].append((tf / L["fwd_ms"], L))
                if frac is not None:
                    verdict_layers["copy"].append((frac, L))
                if tw is not None and L["dw_ms"] > 0:
                    verdict_layers["dw"].append((tw / L["dw_ms"], L))
            per_layer.append("| %s | %s | %d | %d | %dx%d | %d | %d | %s | %d | %s | %s | %s (%s) | %s | %s | %s (%s) | %s |"
                             " %s | %s (%s) | %s |" % (
                                 model, dtn, L["batch"], L["c"], L["h"], L["w"], L["k"], L["stride"],
                                 "%d,%d,%d,%d" % tuple(L["pad"]), cnt, fmt_ms(L["fwd_ms"]),
                                 "n/a" if frac is None else "%.0f%%" % (100 * frac), fmt_ms(tf), tfk or "-",
                                 fmt_x(L["fwd_ms"], tf), fmt_ms(L["dw_ms"]), fmt_ms(tw), twk or "-",
                                 fmt_x(L["dw_ms"], tw), fmt_ms(L["dx_ms"]), fmt_ms(tx), txk or "-",
                                 fmt_x(L["dx_ms"], tx)))
        if not summed:
            tot = {key: None for key in tot}
        frac = (tot["bytes"] / (tot["ours_fwd"] * 1e-3) / 1e9) / copy if summed and tot["ours_fwd"] > 0 else None
        model_rows.append({"model": model, "dtype": dtn, "batch": "/".join(sorted({str(L["batch"]) for L, _ in items})),
                           "shapes": len(items), "layers": nl, "complete": complete, "frac": frac, **tot})

    # ---- goals ----
    bf_models = [m for m in model_rows if m["dtype"] == "bfloat16"]
    have = sorted(m["model"] for m in bf_models)
    all_models = ["B%d" % v for v in range(8)]
    missing = [m for m in all_models if m not in have]
    incomplete = [m["model"] for m in bf_models if not m["complete"]]

    def verdict(ok, partial):
        return ("PASS" if ok else "MISS") + (" (partial data)" if partial else "")

    partial = bool(missing or incomplete or bench.get("quick") or not bench.get("complete", True))
    goal_rows = []

    def model_goal(name, target, key_fn, thresh):
        vals = [(key_fn(m), m["model"]) for m in bf_models if m["complete"] and key_fn(m) is not None]
        if not vals:
            goal_rows.append((name, target, "no data", "n/a"))
            return
        lo = min(vals)
        goal_rows.append((name, target, "min %s (%s); %s" % (
            ("%.0f%%" % (100 * lo[0])) if thresh < 1 else "%.2fx" % lo[0], lo[1],
            ", ".join((("%s %.0f%%" % (m, 100 * v)) if thresh < 1 else "%s %.2fx" % (m, v)) for v, m in
                      sorted(vals, key=lambda t: t[1]))), verdict(lo[0] >= thresh, partial)))

    def layer_goal(name, target, key, thresh):
        vals = verdict_layers[key]
        if not vals:
            goal_rows.append((name, target, "no data", "n/a"))
            return
        lo = min(vals, key=lambda t: t[0])
        below = sum(1 for v, _ in vals if v < thresh)
        L = lo[1]
        goal_rows.append((name, target, "%d of %d shapes below; worst %s (%s c%d %dx%d k%d s%d)" % (
            below, len(vals), ("%.0f%%" % (100 * lo[0])) if thresh < 1 else "%.2fx" % lo[0], L["model"], L["c"],
            L["h"], L["w"], L["k"], L["stride"]), verdict(below == 0, partial)))

    model_goal("forward vs torch best (conv + BN + SiLU + mean), each model's total", ">= %.1fx" % GOAL_FWD_SPEEDUP,
               lambda m: m["torch_fwd"] / m["ours_fwd"] if m["ours_fwd"] else None, GOAL_FWD_SPEEDUP)
    layer_goal("forward vs torch best, each layer shape", ">= %.1fx" % GOAL_FWD_SPEEDUP, "fwd", GOAL_FWD_SPEEDUP)
    model_goal("forward bytes / time vs copy bandwidth, each model's total", ">= %.0f%%" % (100 * GOAL_FWD_COPY),
               lambda m: m["frac"], GOAL_FWD_COPY)
    layer_goal("forward bytes / time vs copy bandwidth, each layer shape", ">= %.0f%%" % (100 * GOAL_FWD_COPY),
               "copy", GOAL_FWD_COPY)
    model_goal("weight gradient (dw + db) vs torch's fastest form, each model's total",
               ">= %.1fx" % GOAL_DW_SPEEDUP,
               lambda m: m["torch_dw"] / m["ours_dw"] if m["ours_dw"] else None, GOAL_DW_SPEEDUP)
    layer_goal("weight gradient vs torch, each layer shape", ">= %.1fx" % GOAL_DW_SPEEDUP, "dw", GOAL_DW_SPEEDUP)
    if spot_rows:
        worst = []
        for sp, errs, ok, _ in spot_rows:
            if errs is not None:
                worst.append("%s y %.1e se %.1e dx %.1e dw %.1e db %.1e%s" % (
                    sp["name"], errs["y"], errs["se"], errs["dx"], errs["dw"], errs["db"], "" if ok else " FAILED"))
            else:
                worst.append("%s: n/a FAILED" % sp["name"])
        goal_rows.append(("correctness: spot layers (batch 2) vs float64 recomputation, max abs(d) / (abs(ref) + sum abs(terms))",
                          "bf16 <= %.1e, f32 <= %.0e, se <= %.0e" % (TOL["bfloat16"], TOL["float32"], TOL_SE),
                          "; ".join(worst), "PASS" if all(r[2] for r in spot_rows) else "FAIL"))
    else:
        goal_rows.append(("correctness: spot layers", "", "not run (bench without --dir)", "n/a"))
    if bench_errors:
        goal_rows.append(("our calls", "all succeed", "%d layer shapes with a failed call" % len(bench_errors), "FAIL"))

    # ---- the tables ----
    out = []
    out.append("## Depthwise convolution: %s\n\n" % bench["device"])
    out.append("device %s, %s SMs; torch on %s; device-to-device copy %.0f GB/s (read + write)%s%s\n\n" % (
        bench["device"], bench.get("sms", "?"), tdev, copy, "; ctest: " + args.ctest if args.ctest else "",
        "; QUICK run" if bench.get("quick") else ""))
    out.append("| model | dtype | batch | shapes (layers) | ours fwd ms | torch best fwd ms | fwd speed-up | "
               "ours fwd % of copy | ours dw ms | torch dw ms | dw speed-up | ours dx ms | torch dx ms | dx speed-up |\n")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    for m in model_rows:
        inc = "" if m["complete"] else " (incomplete)"
        out.append("| %s%s | %s | %s | %d (%d) | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" % (
            m["model"], inc, m["dtype"], m["batch"], m["shapes"], m["layers"], fmt_ms(m["ours_fwd"]),
            fmt_ms(m["torch_fwd"]), fmt_x(m["ours_fwd"], m["torch_fwd"]),
            "n/a" if m["frac"] is None else "%.0f%%" % (100 * m["frac"]), fmt_ms(m["ours_dw"]),
            fmt_ms(m["torch_dw"]), fmt_x(m["ours_dw"], m["torch_dw"]), fmt_ms(m["ours_dx"]),
            fmt_ms(m["torch_dx"]), fmt_x(m["ours_dx"], m["torch_dx"])))
    out.append("\n| goal | target | result | verdict |\n|---|---|---|---|\n")
    for g in goal_rows:
        out.append("| %s | %s | %s | %s |\n" % g)
    out.append("\nTimes are per network (sum over the model's depthwise layers at native resolution, each distinct "
               "shape timed once and weighted by how often it occurs), NHWC, medians of cudaEvent timings. Ours: "
               "fwd = fused conv + bias (folded BN) + SiLU + SE sums; dw = weight + bias gradient; dx = input "
               "gradient. Torch fwd = the fastest of conv2d(groups=C) + batch_norm(eval) + silu + mean in "
               "channels_last / NCHW, timm's F.pad or symmetric padding, eager / CUDA graph; torch dw, dx = "
               "aten.convolution_backward in the fastest layout and padding form. %% of copy = (x + y + w + b + "
               "se bytes) / time over the copy bandwidth.%s\n" % (
                   " Missing models: %s." % ", ".join(missing) if missing else ""))
    if notes:
        out.append("\nnotes:\n" + "".join("- %s\n" % n for n in notes[:40]))
        if len(notes) > 40:
            out.append("- ... %d more\n" % (len(notes) - 40))
    table = "".join(out)
    layers_md = ("## Depthwise layers: %s\n\n| model | dtype | batch | c | h x w | k | stride | pad t,l,b,r | count | "
                 "ours fwd ms | %% of copy | torch fwd ms (best form) | fwd speed-up | ours dw ms | torch dw ms (layout) "
                 "| dw speed-up | ours dx ms | torch dx ms (layout) | dx speed-up |\n|%s\n" % (
                     bench["device"], "---|" * 19) + "\n".join(per_layer) + "\n")
    if args.table:
        with open(args.table, "w") as f:
            f.write(table)
    if args.layers_table:
        with open(args.layers_table, "w") as f:
            f.write(layers_md)
    sys.stdout.write("\n" + table)
    print("\ncorrectness: %s (%.0f s)" % ("FAILED" if failed else "ok", time.time() - t_start))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
