#!/usr/bin/env python3
"""Drives the kernels' C ABI (libfixres4j_kernels.so) from PyTorch through ctypes, as a CUDA user of the library
would: tensor.data_ptr() and torch.cuda.current_stream().cuda_stream of a NON-default stream go straight into the
preprocessing and depthwise entry points.

GPU mode (tests/device/run.sh stage 8):
  1. results against the CPU kernels of the same library (fx_*_cpu): preprocessing byte for byte; depthwise
     forward (bias + SiLU + SE sums) and backward (dx, dw, db) for NHWC and NCHW, float32 / float16 / bfloat16;
  2. ordering against torch work on the same stream, no synchronisation in between: torch sleeps on the stream,
     then writes the input; our kernel reads it; a torch op consumes our output (a negative control on the legacy
     default stream shows the check can see a race; it is information, not a failure);
  3. capture and replay inside torch.cuda.graph: depthwise forward and backward captured, the static input changed,
     the graph replayed and compared; preprocessing must refuse capture cleanly (FX_ERR_STATE) and leave the capture
     valid;
  4. depthwise forward and backward against cuDNN through torch (F.conv2d groups=C; convolution_backward),
     channels_last and contiguous, three dtypes: agreement with a float64 reference and timings in the same run;
     prints a markdown table headed with the card's name, and writes the switch table FastEfficientNet reads
     (--switch FILE: per dtype, layout, k, stride whether our fused forward beat cuDNN conv + bias + SiLU).

Dry run (no GPU; CI step 52 with Debian's python3-torch 1.13): --dry-run --lib <CPU-only build> runs the CPU parts
(the CPU entry points against torch's float64 convolution on the CPU) and the argument validation of every CUDA
entry point (FX_ERR_UNSUPPORTED in a CPU-only build; the null / bad-shape checks come first where documented).

Exit status 1 on any failed check; prints "abi harness: N passed, M failed".
"""
import argparse
import ctypes as C
import json
import os
import statistics
import sys
import time

import numpy as np

FX_OK, FX_INVALID, FX_STATE, FX_OOM, FX_UNSUPPORTED = 0, 1, 2, 3, 4
DT_F32, DT_F16, DT_BF16, DT_U8 = 0, 1, 2, 3


class Shape(C.Structure):
    _fields_ = [("n", C.c_int64), ("c", C.c_int64), ("h", C.c_int64), ("w", C.c_int64), ("k", C.c_int32),
                ("stride", C.c_int32), ("pad_top", C.c_int32), ("pad_left", C.c_int32), ("pad_bottom", C.c_int32),
                ("pad_right", C.c_int32), ("layout", C.c_int32), ("out_h", C.c_int32), ("out_w", C.c_int32)]


class Image(C.Structure):
    _fields_ = [("data", C.c_void_p), ("width", C.c_int32), ("height", C.c_int32), ("channels", C.c_int32),
                ("order", C.c_int32), ("row_stride", C.c_int64)]


class Plan(C.Structure):
    _fields_ = [("roi_x", C.c_int32), ("roi_y", C.c_int32), ("roi_w", C.c_int32), ("roi_h", C.c_int32),
                ("box_x0", C.c_double), ("box_y0", C.c_double), ("box_x1", C.c_double), ("box_y1", C.c_double),
                ("resize_w", C.c_int32), ("resize_h", C.c_int32), ("crop_x", C.c_int32), ("crop_y", C.c_int32),
                ("out_w", C.c_int32), ("out_h", C.c_int32), ("filter", C.c_int32), ("flip_x", C.c_int32)]


class Output(C.Structure):
    _fields_ = [("data", C.c_void_p), ("batch", C.c_int64), ("layout", C.c_int32), ("dtype", C.c_int32),
                ("order", C.c_int32), ("out_w", C.c_int32), ("out_h", C.c_int32), ("mean", C.c_float * 3),
                ("std", C.c_float * 3)]


class Job(C.Structure):
    _fields_ = [("image", Image), ("plan", Plan), ("index", C.c_int64)]


def load(path):
    lib = C.CDLL(path)
    P = C.c_void_p
    sig = {
        "fx_last_error": (C.c_char_p, []),
        "fx_abi_version": (C.c_int32, []),
        "fx_build_info": (C.c_char_p, []),
        "fx_cuda_compiled": (C.c_int32, []),
        "fx_cuda_device_count": (C.c_int32, [C.POINTER(C.c_int32)]),
        "fx_depthwise_shape_derive": (C.c_int32, [C.POINTER(Shape)]),
        "fx_depthwise_forward_cpu": (C.c_int32, [C.POINTER(Shape), P, P, P, C.c_int32, P, P, C.c_int32]),
        "fx_depthwise_backward_cpu": (C.c_int32, [C.POINTER(Shape), P, P, P, P, P, P, C.c_int32]),
        "fx_depthwise_forward_cuda": (C.c_int32, [C.POINTER(Shape), C.c_int32, P, P, P, C.c_int32, P, P, P]),
        "fx_depthwise_backward_cuda_workspace": (C.c_int32, [C.POINTER(Shape), C.c_int32, C.POINTER(C.c_int64)]),
        "fx_depthwise_backward_cuda": (C.c_int32, [C.POINTER(Shape), C.c_int32, P, P, P, P, P, P, P, C.c_int64, P]),
        "fx_preprocess_cpu_batch": (C.c_int32, [C.POINTER(Job), C.c_int32, C.POINTER(Output), C.c_int32]),
        "fx_cuda_preprocessor_create": (C.c_int32, [C.c_int32, C.POINTER(P)]),
        "fx_cuda_preprocessor_destroy": (None, [P]),
        "fx_cuda_preprocess_batch": (C.c_int32, [P, C.POINTER(Job), C.c_int32, C.POINTER(Output), P]),
        "fx_cuda_exchange_device": (C.c_int32, [C.c_int32, C.POINTER(C.c_int32)]),
        "fx_cuda_check_malloc": (C.c_int32, [C.c_int32, C.c_int64, C.POINTER(P)]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args
    return lib


class Harness:
    def __init__(self, lib, torch):
        self.lib = lib
        self.torch = torch
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
            print("PASS", what)
        else:
            self.failed += 1
            print("FAIL", what)
        sys.stdout.flush()
        return cond

    def err(self):
        return (self.lib.fx_last_error() or b"").decode()

    def expect_status(self, status, want, what):
        return self.check(status == want, "%s: status %d (want %d) %s" % (what, status, want, self.err()))


# ---- shapes and data -------------------------------------------------------------------------------------------

DW_CASES = [  # n, c, h, w, k, stride, pads (top, left, bottom, right)
    (2, 32, 28, 28, 3, 1, (1, 1, 1, 1)),
    (2, 24, 29, 31, 5, 2, (1, 1, 2, 2)),
    (3, 40, 17, 17, 3, 2, (0, 0, 1, 1)),
    (1, 20, 9, 13, 5, 1, (2, 2, 2, 2)),
]


def make_shape(lib, n, c, h, w, k, stride, pads, nhwc):
    s = Shape(n, c, h, w, k, stride, pads[0], pads[1], pads[2], pads[3], 1 if nhwc else 0, 0, 0)
    st = lib.fx_depthwise_shape_derive(C.byref(s))
    if st != FX_OK:
        raise ValueError("bad shape: " + lib.fx_last_error().decode())
    return s


def exact_values(torch, shape, gen):
    """k / 64, |k| < 128: exact in float16 and bfloat16, so every dtype convolves the same numbers."""
    return (torch.randint(-127, 128, shape, generator=gen).float() / 64.0)


def cpu_reference(h, s, x, w, b, dy):
    """The library's CPU kernels (float32) on the logical NCHW tensors x, w, b, dy; returns y, se, dx, dw, db."""
    torch = h.torch
    nhwc = s.layout == 1
    mf = torch.channels_last if nhwc else torch.contiguous_format
    xc = x.contiguous(memory_format=mf)
    dyc = dy.contiguous(memory_format=mf)
    wc = w.contiguous()
    y = torch.empty((s.n, s.c, s.out_h, s.out_w)).contiguous(memory_format=mf)
    se = torch.empty((s.n, s.c))
    st = h.lib.fx_depthwise_forward_cpu(C.byref(s), xc.data_ptr(), wc.data_ptr(), b.data_ptr(), 1, y.data_ptr(),
                                        se.data_ptr(), 1)
    if st != FX_OK:
        raise RuntimeError("fx_depthwise_forward_cpu: " + h.err())
    dx = torch.empty_like(xc)
    dw = torch.empty_like(wc)
    db = torch.empty((s.c,))
    st = h.lib.fx_depthwise_backward_cpu(C.byref(s), xc.data_ptr(), wc.data_ptr(), dyc.data_ptr(), dx.data_ptr(),
                                         dw.data_ptr(), db.data_ptr(), 1)
    if st != FX_OK:
        raise RuntimeError("fx_depthwise_backward_cpu: " + h.err())
    return y, se, dx, dw, db


def torch_reference(torch, s, x, w, b, dy):
    """float64 torch on the CPU: the independent reference for the CPU kernels (dry run) and cuDNN."""
    import torch.nn.functional as F
    x64 = x.double().requires_grad_(True)
    w64 = w.double().requires_grad_(True)
    xp = F.pad(x64, (s.pad_left, s.pad_right, s.pad_top, s.pad_bottom))
    pre = F.conv2d(xp, w64, None, s.stride, 0, 1, s.c)
    pre.backward(dy.double())
    y = F.silu(pre.detach() + b.double().view(1, -1, 1, 1))
    return y, y.sum((2, 3)), x64.grad, w64.grad, dy.double().sum((0, 2, 3))


def rel_ok(got, ref, tol):
    got = got.double().cpu()
    ref = ref.double().cpu()
    scale = ref.abs().max().item() if ref.numel() else 0.0
    err = ((got - ref).abs() / (ref.abs() + 0.05 * scale + 1e-30))
    worst = err.max().item() if err.numel() else 0.0
    return worst <= tol and not np.isnan(worst), worst


TOL = {DT_F32: 1e-5, DT_F16: 2e-3, DT_BF16: 1.6e-2}


def dtypes(torch):
    return {DT_F32: torch.float32, DT_F16: torch.float16, DT_BF16: torch.bfloat16}


# ---- dry run ---------------------------------------------------------------------------------------------------

def dry_run(h):
    torch, lib = h.torch, h.lib
    print("build:", lib.fx_build_info().decode())
    # either build: a CPU-only library refuses the CUDA entry points as not compiled in, a CUDA build on a machine
    # without a GPU or driver refuses them as having no usable device
    compiled = lib.fx_cuda_compiled() == 1
    print("dry run on a %s build" % ("CUDA (no usable device expected)" if compiled else "CPU-only"))
    gen = torch.Generator().manual_seed(14)
    for (n, c, hh, ww, k, stride, pads) in DW_CASES:
        for nhwc in (True, False):
            s = make_shape(lib, n, c, hh, ww, k, stride, pads, nhwc)
            x = exact_values(torch, (n, c, hh, ww), gen)
            w = exact_values(torch, (c, 1, k, k), gen)
            b = exact_values(torch, (c,), gen)
            dy = exact_values(torch, (n, c, s.out_h, s.out_w), gen)
            ours = cpu_reference(h, s, x, w, b, dy)
            ref = torch_reference(torch, s, x, w, b, dy)
            for name, o, r in zip(("y", "se", "dx", "dw", "db"), ours, ref):
                ok, worst = rel_ok(o, r, 1e-5)
                h.check(ok, "CPU depthwise %s %s k%d s%d %s: worst %.1e vs torch float64" % (
                    "NHWC" if nhwc else "NCHW", tuple(x.shape), k, stride, name, worst))
    validation(h, cuda=False, compiled=compiled)
    preprocess_cpu_selfcheck(h)


def validation(h, cuda, compiled=False):
    """Argument checks of the CUDA entry points. Without a GPU everything answers FX_ERR_UNSUPPORTED (a CPU-only
    build) or FX_ERR_STATE naming the missing device (a CUDA build); with a GPU the kernels refuse bad arguments
    (FX_ERR_INVALID_ARGUMENT) before any launch."""
    lib = h.lib
    s = make_shape(lib, 1, 16, 8, 8, 3, 1, (1, 1, 1, 1), True)
    bad = Shape(1, 16, 8, 8, 4, 1, 1, 1, 1, 1, 1, 0, 0)  # even k
    h.expect_status(lib.fx_depthwise_shape_derive(C.byref(bad)), FX_INVALID, "shape with an even k")
    if not cuda:
        for name, call in (
                ("fx_depthwise_forward_cuda", lambda: lib.fx_depthwise_forward_cuda(
                    C.byref(s), DT_BF16, 256, 256, None, 1, 4096, None, None)),
                ("fx_depthwise_backward_cuda", lambda: lib.fx_depthwise_backward_cuda(
                    C.byref(s), DT_F16, 256, 256, 512, 4096, None, None, None, 0, None)),
                ("fx_cuda_preprocessor_create", lambda: lib.fx_cuda_preprocessor_create(0, C.byref(C.c_void_p()))),
                ("fx_cuda_exchange_device", lambda: lib.fx_cuda_exchange_device(0, C.byref(C.c_int32()))),
                ("fx_cuda_check_malloc", lambda: lib.fx_cuda_check_malloc(0, 1024, C.byref(C.c_void_p()))),
        ):
            if compiled:
                h.expect_status(call(), FX_STATE, name + " in a CUDA build without a usable device")
                h.check("no usable CUDA device" in h.err(), name + " names the reason: " + h.err())
            else:
                h.expect_status(call(), FX_UNSUPPORTED, name + " in a CPU-only build")
                h.check(name in h.err() or "without CUDA" in h.err(), name + " names the reason: " + h.err())
        return
    torch = h.torch
    x = torch.zeros((1, 8, 8, 16), device="cuda")
    y = torch.zeros((1, 8, 8, 16), device="cuda")
    w = torch.zeros((16, 1, 3, 3), device="cuda")
    host = torch.zeros((1, 8, 8, 16))
    cs = torch.cuda.current_stream().cuda_stream
    f = lib.fx_depthwise_forward_cuda
    h.expect_status(f(C.byref(s), 9, x.data_ptr(), w.data_ptr(), None, 1, y.data_ptr(), None, cs), FX_INVALID,
                    "CUDA forward: unknown dtype")
    h.expect_status(f(C.byref(s), DT_F32, host.data_ptr(), w.data_ptr(), None, 1, y.data_ptr(), None, cs),
                    FX_INVALID, "CUDA forward: host memory as x")
    h.expect_status(f(C.byref(s), DT_F32, x.data_ptr() + 2, w.data_ptr(), None, 1, y.data_ptr(), None, cs),
                    FX_INVALID, "CUDA forward: misaligned x")
    h.expect_status(f(C.byref(s), DT_F32, x.data_ptr(), w.data_ptr(), None, 7, y.data_ptr(), None, cs), FX_INVALID,
                    "CUDA forward: unknown activation")
    h.expect_status(f(C.byref(s), DT_F32, x.data_ptr(), w.data_ptr(), None, 1, x.data_ptr(), None, cs), FX_INVALID,
                    "CUDA forward: y overlaps x")
    dw = torch.zeros_like(w)
    h.expect_status(lib.fx_depthwise_backward_cuda(C.byref(s), DT_F32, x.data_ptr(), w.data_ptr(), y.data_ptr(), None,
                                                   dw.data_ptr(), None, None, 0, cs),
                    FX_INVALID, "CUDA backward: dw wanted without a workspace")
    torch.cuda.synchronize()


def preprocess_case(torch, count, seed):
    rng = np.random.default_rng(seed)
    images, jobs = [], (Job * count)()
    for j in range(count):
        w, hh = int(rng.integers(300, 560)), int(rng.integers(240, 440))
        im = rng.integers(0, 256, (hh, w, 3), dtype=np.uint8)
        images.append(im)
        short = min(w, hh)
        rw, rh = (256 * w + short // 2) // short, (256 * hh + short // 2) // short
        jobs[j].image = Image(im.ctypes.data, w, hh, 3, 0, w * 3)
        jobs[j].plan = Plan(0, 0, w, hh, 0.0, 0.0, float(w), float(hh), rw, rh, (rw - 224) // 2, (rh - 224) // 2,
                            224, 224, 2, j % 2)
        jobs[j].index = count - 1 - j
    return images, jobs


def make_output(data, count, layout, dtype):
    return Output(data, count, layout, dtype, 0, 224, 224, (C.c_float * 3)(0.485, 0.456, 0.406),
                  (C.c_float * 3)(0.229, 0.224, 0.225))


def preprocess_cpu_selfcheck(h):
    """Dry run: the CPU batch runs through ctypes and is deterministic (threads 1 vs 2, byte for byte)."""
    torch, lib = h.torch, h.lib
    images, jobs = preprocess_case(torch, 4, 5)
    a = torch.empty((4, 3, 224, 224))
    b = torch.empty((4, 3, 224, 224))
    s1 = lib.fx_preprocess_cpu_batch(jobs, 4, C.byref(make_output(a.data_ptr(), 4, 0, DT_F32)), 1)
    s2 = lib.fx_preprocess_cpu_batch(jobs, 4, C.byref(make_output(b.data_ptr(), 4, 0, DT_F32)), 2)
    h.check(s1 == FX_OK and s2 == FX_OK and torch.equal(a, b), "CPU preprocessing through ctypes (1 vs 2 threads)")
    del images


# ---- GPU checks ------------------------------------------------------------------------------------------------

def gpu_depthwise_vs_cpu(h, stream):
    torch, lib = h.torch, h.lib
    gen = torch.Generator().manual_seed(14)
    for (n, c, hh, ww, k, stride, pads) in DW_CASES:
        for nhwc in (True, False):
            s = make_shape(lib, n, c, hh, ww, k, stride, pads, nhwc)
            x = exact_values(torch, (n, c, hh, ww), gen)
            w = exact_values(torch, (c, 1, k, k), gen)
            b = exact_values(torch, (c,), gen)
            dy = exact_values(torch, (n, c, s.out_h, s.out_w), gen)
            ref = cpu_reference(h, s, x, w, b, dy)
            for dt, tdt in dtypes(torch).items():
                got = run_ours(h, s, dt, tdt, x, w, b, dy, stream)
                for name, o, r in zip(("y", "se", "dx", "dw", "db"), got, ref):
                    ok, worst = rel_ok(o, r, 1e-4 if name == "se" else TOL[dt])
                    h.check(ok, "CUDA depthwise vs CPU kernels %s %s %s k%d s%d %s: worst %.1e" % (
                        tdt, "NHWC" if nhwc else "NCHW", tuple(x.shape), k, stride, name, worst))


def run_ours(h, s, dt, tdt, x, w, b, dy, stream, sync=True):
    """Our forward (bias + SiLU + SE sums) and backward on `stream` (current torch stream inside)."""
    torch, lib = h.torch, h.lib
    mf = torch.channels_last if s.layout == 1 else torch.contiguous_format
    with torch.cuda.stream(stream):
        cs = torch.cuda.current_stream().cuda_stream
        gx = x.to("cuda", tdt).contiguous(memory_format=mf)
        gw = w.to("cuda", tdt).contiguous()
        gb = b.to("cuda", tdt)
        gdy = dy.to("cuda", tdt).contiguous(memory_format=mf)
        y = torch.empty((s.n, s.c, s.out_h, s.out_w), device="cuda", dtype=tdt).contiguous(memory_format=mf)
        se = torch.empty((s.n, s.c), device="cuda")
        dx = torch.empty_like(gx)
        dw = torch.empty_like(gw)
        db = torch.empty_like(gb)
        nbytes = C.c_int64()
        st = lib.fx_depthwise_backward_cuda_workspace(C.byref(s), dt, C.byref(nbytes))
        ws = torch.empty((max(nbytes.value, 1),), device="cuda", dtype=torch.uint8)
        st = st or lib.fx_depthwise_forward_cuda(C.byref(s), dt, gx.data_ptr(), gw.data_ptr(), gb.data_ptr(), 1,
                                                 y.data_ptr(), se.data_ptr(), cs)
        st = st or lib.fx_depthwise_backward_cuda(C.byref(s), dt, gx.data_ptr(), gw.data_ptr(), gdy.data_ptr(),
                                                  dx.data_ptr(), dw.data_ptr(), db.data_ptr(), ws.data_ptr(),
                                                  nbytes.value, cs)
        if st != FX_OK:
            raise RuntimeError("CUDA depthwise call failed: " + h.err())
        out = [t.float() for t in (y, se, dx, dw, db)]  # consumed by torch on the same stream
    if sync:
        stream.synchronize()
    return out


def gpu_preprocess_vs_cpu(h, stream):
    torch, lib = h.torch, h.lib
    pre = C.c_void_p()
    if not h.expect_status(lib.fx_cuda_preprocessor_create(0, C.byref(pre)), FX_OK, "CUDA preprocessor on device 0"):
        return None
    count = 8
    images, jobs = preprocess_case(torch, count, 7)
    for layout, dt, tdt in ((0, DT_F32, torch.float32), (1, DT_BF16, torch.bfloat16), (0, DT_U8, torch.uint8)):
        shape = (count, 3, 224, 224) if layout == 0 else (count, 224, 224, 3)
        cpu = torch.empty(shape, dtype=tdt)
        st = lib.fx_preprocess_cpu_batch(jobs, count, C.byref(make_output(cpu.data_ptr(), count, layout, dt)), 2)
        with torch.cuda.stream(stream):
            out = torch.full(shape, 7, device="cuda", dtype=tdt)  # torch writes it on the stream first
            st2 = lib.fx_cuda_preprocess_batch(pre, jobs, count, C.byref(make_output(out.data_ptr(), count, layout, dt)),
                                               torch.cuda.current_stream().cuda_stream)
            back = out.cpu()  # torch consumes it on the same stream (the copy waits for our kernel)
        h.check(st == FX_OK and st2 == FX_OK and torch.equal(cpu.view(torch.uint8), back.view(torch.uint8)),
                "CUDA preprocessing == CPU byte for byte on a non-default stream (%d images, layout %d, %s)%s" % (
                    count, layout, tdt, "" if st2 == FX_OK else ": " + h.err()))
    return pre, images, jobs


def gpu_ordering(h, stream):
    """torch sleeps, then writes x, on `stream`; our forward reads x and a torch op consumes y, no sync in between."""
    torch, lib = h.torch, h.lib
    s = make_shape(lib, 8, 64, 56, 56, 3, 1, (1, 1, 1, 1), True)
    gen = torch.Generator().manual_seed(3)
    x = exact_values(torch, (8, 64, 56, 56), gen)
    w = exact_values(torch, (64, 1, 3, 3), gen)
    b = exact_values(torch, (64,), gen)
    ref = cpu_reference(h, s, x, w, b, torch.zeros((8, 64, 56, 56)))[0]
    results = {}
    for name, use_torch_stream in (("torch's stream", True), ("legacy default stream (negative control)", False)):
        src = x.to("cuda").contiguous(memory_format=torch.channels_last)
        wd = w.cuda()
        bd = b.cuda()
        torch.cuda.synchronize()
        with torch.cuda.stream(stream):
            gx = torch.zeros_like(src)
            y = torch.zeros((8, 64, 56, 56), device="cuda").contiguous(memory_format=torch.channels_last)
            torch.cuda._sleep(50_000_000)  # ~25-50 ms of GPU time before the input exists
            gx.copy_(src)
            cs = torch.cuda.current_stream().cuda_stream if use_torch_stream else None
            st = lib.fx_depthwise_forward_cuda(C.byref(s), DT_F32, gx.data_ptr(), wd.data_ptr(), bd.data_ptr(), 1,
                                               y.data_ptr(), None, cs)
            z = y * 2.0
        torch.cuda.synchronize()
        ok, worst = rel_ok(z.cpu() / 2.0, ref, 1e-5)
        results[name] = (st, ok, worst)
    st, ok, worst = results["torch's stream"]
    h.check(st == FX_OK and ok, "ordering: torch writes x, ours reads it, torch reads y on one stream without a "
                                "sync (worst %.1e)" % worst)
    st, ok, worst = results["legacy default stream (negative control)"]
    print("info: negative control on the legacy default stream: %s (worst %.1e)" % (
        "a race was seen, as expected" if not ok else "no race seen this time", worst))


def gpu_graph(h, pre_state):
    torch, lib = h.torch, h.lib
    for dt, tdt in dtypes(torch).items():
        s = make_shape(lib, 4, 48, 30, 30, 5, 2, (1, 1, 2, 2), True)
        gen = torch.Generator().manual_seed(11 + dt)
        shp = (4, 48, 30, 30)
        x1, x2 = exact_values(torch, shp, gen), exact_values(torch, shp, gen)
        w = exact_values(torch, (48, 1, 5, 5), gen)
        b = exact_values(torch, (48,), gen)
        dy = exact_values(torch, (4, 48, s.out_h, s.out_w), gen)
        mf = torch.channels_last
        gx = x1.to("cuda", tdt).contiguous(memory_format=mf)
        gw, gb = w.to("cuda", tdt), b.to("cuda", tdt)
        gdy = dy.to("cuda", tdt).contiguous(memory_format=mf)
        y = torch.empty((4, 48, s.out_h, s.out_w), device="cuda", dtype=tdt).contiguous(memory_format=mf)
        se = torch.empty((4, 48), device="cuda")
        dx, dw, db = torch.empty_like(gx), torch.empty_like(gw), torch.empty_like(gb)
        nbytes = C.c_int64()
        lib.fx_depthwise_backward_cuda_workspace(C.byref(s), dt, C.byref(nbytes))
        ws = torch.empty((max(nbytes.value, 1),), device="cuda", dtype=torch.uint8)
        torch.cuda.synchronize()
        g = torch.cuda.CUDAGraph()
        statuses = []
        refused = None
        with torch.cuda.graph(g):
            cs = torch.cuda.current_stream().cuda_stream
            statuses.append(lib.fx_depthwise_forward_cuda(C.byref(s), dt, gx.data_ptr(), gw.data_ptr(), gb.data_ptr(),
                                                          1, y.data_ptr(), se.data_ptr(), cs))
            if pre_state is not None and dt == DT_F32:
                pre, _images, jobs = pre_state
                out = torch.empty((len(jobs), 3, 224, 224), device="cuda")
                refused = (lib.fx_cuda_preprocess_batch(pre, jobs, len(jobs),
                                                        C.byref(make_output(out.data_ptr(), len(jobs), 0, DT_F32)),
                                                        cs), h.err())
            statuses.append(lib.fx_depthwise_backward_cuda(C.byref(s), dt, gx.data_ptr(), gw.data_ptr(),
                                                           gdy.data_ptr(), dx.data_ptr(), dw.data_ptr(),
                                                           db.data_ptr(), ws.data_ptr(), nbytes.value, cs))
        h.check(all(st == FX_OK for st in statuses), "graph capture of depthwise forward + backward (%s): %s" % (
            tdt, statuses))
        if refused is not None:
            h.check(refused[0] == FX_STATE and "captur" in refused[1],
                    "preprocessing refuses capture with FX_ERR_STATE and the capture stays valid: " + refused[1])
        for xin in (x2, x1):
            gx.copy_(xin.to("cuda", tdt).contiguous(memory_format=mf))
            g.replay()
            torch.cuda.synchronize()
            ref = cpu_reference(h, s, xin, w, b, dy)
            for name, o, r in zip(("y", "se", "dx", "dw", "db"), (y, se, dx, dw, db), ref):
                ok, worst = rel_ok(o.float(), r, 1e-4 if name == "se" else TOL[dt])
                h.check(ok, "graph replay with a new input (%s) %s: worst %.1e" % (tdt, name, worst))


# ---- cuDNN comparison and timings --------------------------------------------------------------------------------

BENCH_SHAPES = [  # EfficientNet-B0 depthwise layers at batch 64 (native 224): n, c, h, w, k, stride, TF pads
    ("b0 112x112 c32 k3 s1", 64, 32, 112, 112, 3, 1, (1, 1, 1, 1)),
    ("b0 112x112 c96 k3 s2", 64, 96, 112, 112, 3, 2, (0, 0, 1, 1)),
    ("b0 56x56 c144 k5 s2", 64, 144, 56, 56, 5, 2, (1, 1, 2, 2)),
    ("b0 28x28 c240 k3 s2", 64, 240, 28, 28, 3, 2, (0, 0, 1, 1)),
    ("b0 14x14 c480 k3 s1", 64, 480, 14, 14, 3, 1, (1, 1, 1, 1)),
    ("b0 14x14 c672 k5 s1", 64, 672, 14, 14, 5, 1, (2, 2, 2, 2)),
    ("b0 7x7 c1152 k5 s1", 64, 1152, 7, 7, 5, 1, (2, 2, 2, 2)),
]


def time_ms(torch, fn, reps):
    fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        samples.append(a.elapsed_time(b))
    return statistics.median(samples)


def gpu_vs_cudnn(h, deadline, reps, switch_path, table_path):
    import torch.nn.functional as F
    torch, lib = h.torch, h.lib
    torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name(0)
    rows, switch = [], {}
    skipped = []
    for label, n, c, hh, ww, k, stride, pads in BENCH_SHAPES:
        for dt, tdt in dtypes(torch).items():
            for nhwc in (True, False):
                if time.time() > deadline:
                    skipped.append("%s %s %s" % (label, tdt, "NHWC" if nhwc else "NCHW"))
                    continue
                s = make_shape(lib, n, c, hh, ww, k, stride, pads, nhwc)
                mf = torch.channels_last if nhwc else torch.contiguous_format
                gen = torch.Generator(device="cuda").manual_seed(1)
                x = torch.randn((n, c, hh, ww), device="cuda", generator=gen).to(tdt).contiguous(memory_format=mf)
                w = (torch.randn((c, 1, k, k), device="cuda", generator=gen) * 0.2).to(tdt)
                b = torch.randn((c,), device="cuda", generator=gen).to(tdt)
                dy = torch.randn((n, c, s.out_h, s.out_w), device="cuda", generator=gen).to(tdt).contiguous(
                    memory_format=mf)
                y = torch.empty_like(dy)
                dx, dw, db = torch.empty_like(x), torch.empty_like(w), torch.empty_like(b)
                nb = C.c_int64()
                lib.fx_depthwise_backward_cuda_workspace(C.byref(s), dt, C.byref(nb))
                ws = torch.empty((max(nb.value, 1),), device="cuda", dtype=torch.uint8)
                cs = lambda: torch.cuda.current_stream().cuda_stream
                pad = (pads[1], pads[3], pads[0], pads[2])

                def ours_fwd():
                    lib.fx_depthwise_forward_cuda(C.byref(s), dt, x.data_ptr(), w.data_ptr(), b.data_ptr(), 1,
                                                  y.data_ptr(), None, cs())

                def ours_dw():
                    lib.fx_depthwise_backward_cuda(C.byref(s), dt, x.data_ptr(), None, dy.data_ptr(), None,
                                                   dw.data_ptr(), db.data_ptr(), ws.data_ptr(), nb.value, cs())

                def ours_dx():
                    lib.fx_depthwise_backward_cuda(C.byref(s), dt, None, w.data_ptr(), dy.data_ptr(), dx.data_ptr(),
                                                   None, None, None, 0, cs())

                def cudnn_fwd():
                    return F.silu(F.conv2d(F.pad(x, pad), w, b, stride, 0, 1, c))

                xp = F.pad(x, pad).contiguous(memory_format=mf)

                def cudnn_bwd(mask):
                    return torch.ops.aten.convolution_backward(dy, xp, w, None, [stride, stride], [0, 0], [1, 1],
                                                               False, [0, 0], c, mask)

                # agreement with float64 on the first two samples (ours; cuDNN's error for information)
                with torch.no_grad():
                    ours_fwd()
                    ref = F.silu(F.conv2d(F.pad(x[:2].double(), pad), w.double(), b.double(), stride, 0, 1, c))
                    ok1, e1 = rel_ok(y[:2].float(), ref, TOL[dt] * 2)
                    ok2, e2 = rel_ok(cudnn_fwd()[:2].float(), ref, 1.0)
                    h.check(ok1, "vs float64: ours fwd %s %s %s worst %.1e (cuDNN's: %.1e)" % (
                        label, tdt, "NHWC" if nhwc else "NCHW", e1, e2))
                t_of = time_ms(torch, ours_fwd, reps)
                t_cf = time_ms(torch, cudnn_fwd, reps)
                t_odw = time_ms(torch, ours_dw, reps)
                t_cdw = time_ms(torch, lambda: cudnn_bwd([False, True, False]), reps)
                t_odx = time_ms(torch, ours_dx, reps)
                t_cdx = time_ms(torch, lambda: cudnn_bwd([True, False, False]), reps)
                lay = "NHWC" if nhwc else "NCHW"
                rows.append((label, str(tdt).replace("torch.", ""), lay, t_of, t_cf, t_odw, t_cdw, t_odx, t_cdx))
                key = "%s/%s/k%d/s%d" % (str(tdt).replace("torch.", ""), lay, k, stride)
                switch.setdefault(key, []).append(t_cf / t_of)
                del x, w, b, dy, y, dx, dw, db, ws, xp
    lines = ["## Depthwise: our CUDA kernels vs cuDNN through torch, %s (abi_harness.py)" % name, "",
             "EfficientNet-B0 depthwise layers at batch 64, TF padding; median of %d CUDA-event samples per op, "
             "cudnn.benchmark on. fwd: ours = conv + bias + SiLU fused; cuDNN = F.conv2d(F.pad(x), groups=C) + bias "
             "+ F.silu. dw = weight + bias gradient, dx = input gradient (torch: aten.convolution_backward)." % reps,
             "", "| layer | dtype | layout | ours fwd ms | cuDNN fwd ms | x | ours dw ms | cuDNN dw ms | x | "
                 "ours dx ms | cuDNN dx ms | x |", "|" + "---|" * 12]
    for r in rows:
        lines.append("| %s | %s | %s | %.3f | %.3f | %.2f | %.3f | %.3f | %.2f | %.3f | %.3f | %.2f |" % (
            r[0], r[1], r[2], r[3], r[4], r[4] / r[3], r[5], r[6], r[6] / r[5], r[7], r[8], r[8] / r[7]))
    if skipped:
        lines.append("")
        lines.append("Not timed (the harness's deadline): " + "; ".join(skipped))
    decided = {k: (min(v) > 1.0) for k, v in sorted(switch.items())}
    lines.append("")
    lines.append("FastEfficientNet switch (ours where the fused forward beat cuDNN on every timed layer of that "
                 "kind): " + ", ".join("%s %s" % (k, "ours" if v else "cuDNN") for k, v in decided.items()))
    text = "\n".join(lines) + "\n"
    print(text)
    if table_path:
        with open(table_path, "w") as f:
            f.write(text)
    if switch_path:
        with open(switch_path, "w") as f:
            json.dump({"device": name, "torch": torch.__version__, "rule": "ours when our fused forward was faster "
                       "than cuDNN conv + bias + SiLU on every timed layer of the kind",
                       "kinds": decided, "speedups": {k: [round(x, 3) for x in v] for k, v in switch.items()}}, f,
                      indent=1, sort_keys=True)


def gpu_run(h, args):
    torch = h.torch
    start = time.time()
    print("device:", torch.cuda.get_device_name(0), "| torch", torch.__version__, "| cuda", torch.version.cuda)
    print("build:", h.lib.fx_build_info().decode())
    h.check(h.lib.fx_cuda_compiled() == 1, "the library is a CUDA build")
    stream = torch.cuda.Stream()
    h.check(stream.cuda_stream != torch.cuda.default_stream().cuda_stream and stream.cuda_stream != 0,
            "the harness's stream is not the default stream (0x%x)" % stream.cuda_stream)
    pre_state = None

    def stage(name, fn):
        """One stage's failure (an exception: a CUDA error, an invalidated capture) is a FAIL; the others still run."""
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - reported, counted as a failure
            import traceback
            traceback.print_exc()
            h.check(False, "%s raised %r" % (name, e))
            try:
                torch.cuda.synchronize()
            except Exception:  # noqa: BLE001 - a sticky error: later stages will say so
                pass
            return None

    stage("validation", lambda: validation(h, cuda=True))
    stage("depthwise vs CPU", lambda: gpu_depthwise_vs_cpu(h, stream))
    pre_state = stage("preprocessing vs CPU", lambda: gpu_preprocess_vs_cpu(h, stream))
    stage("ordering", lambda: gpu_ordering(h, stream))
    stage("CUDA graphs", lambda: gpu_graph(h, pre_state))
    if pre_state is not None:
        h.lib.fx_cuda_preprocessor_destroy(pre_state[0])
    print("checks done in %.1f s" % (time.time() - start))
    stage("cuDNN comparison", lambda: gpu_vs_cudnn(h, start + args.budget, args.reps, args.switch, args.table))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", required=True, help="libfixres4j_kernels.so")
    ap.add_argument("--dry-run", action="store_true", help="no GPU: CPU parts and argument validation")
    ap.add_argument("--budget", type=float, default=90.0, help="seconds from the start after which timings stop")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--table", help="markdown table output")
    ap.add_argument("--switch", help="JSON output: the FastEfficientNet switch table")
    args = ap.parse_args()
    import torch
    h = Harness(load(os.path.abspath(args.lib)), torch)
    try:
        if args.dry_run:
            dry_run(h)
        else:
            gpu_run(h, args)
    except Exception as e:  # a crash is a failure with its reason, not a traceback alone
        import traceback
        traceback.print_exc()
        h.check(False, "harness raised %r" % (e,))
    print("abi harness: %d passed, %d failed%s" % (h.passed, h.failed, " (dry run)" if args.dry_run else ""))
    return 0 if h.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
