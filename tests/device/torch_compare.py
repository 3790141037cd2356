#!/usr/bin/env python3
"""Torch baselines for the CUDA preprocessing kernel, and the one results table of tests/device/run.sh.

Reads what bench_cuda_preprocess wrote (--bench JSON; --dir: images.bin, sizes.json, ours_f32.bin), times on the
same GPU the torch pipelines for the same timm eval transform (shorter side -> 256 bicubic antialiased, centre crop
224, /255, ImageNet normalisation, float32 and bfloat16 NCHW):

  * F.interpolate(mode='bicubic', antialias=True) + crop + normalise, one image at a time, then torch.stack
    (eager; and the same loop captured in a CUDA graph, its replay timed: no launch overhead, the fairest
    per-image form on the GPU);
  * torchvision.transforms.v2.functional (uint8 resize antialias, center_crop, to_dtype, normalize), per image;
  * one batched F.interpolate call on 256 images of one size (500x375): only possible when all sizes agree;
  * end to end from host numpy arrays (pageable), per image .to('cuda') + the eager pipeline.

Device-resident rows include no host-to-device copy, for torch or for us (our "kernel only" time); end-to-end
rows include it for both. Prints one markdown table and writes it to --table.
"""
import argparse
import json
import math
import os
import sys
import time
import traceback

import numpy as np
import torch
import torch.nn.functional as F

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
RES, SIZE = 224, 256


def timm_geometry(w, h):
    """torchvision Resize(256) on the shorter side + CenterCrop(224): (rw, rh, left, top)."""
    if w <= h:
        rw, rh = SIZE, int(SIZE * h / w)
    else:
        rw, rh = int(SIZE * w / h), SIZE
    return rw, rh, int(round((rw - RES) / 2.0)), int(round((rh - RES) / 2.0))


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return float("nan") if n == 0 else (xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2]))


def wall_ms(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        ts.append((time.perf_counter() - t0) * 1e3)
    return median(ts)


def event_ms(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        ts.append(a.elapsed_time(b))
    return median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--table", default="")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--ctest", default="not run")
    ap.add_argument("--sanitizer", default="not run")
    ap.add_argument("--build", default="")
    args = ap.parse_args()

    bench = json.load(open(args.bench))
    sizes = json.load(open(os.path.join(args.dir, "sizes.json")))
    raw = np.fromfile(os.path.join(args.dir, "images.bin"), dtype=np.uint8)
    images, off = [], 0
    for w, h in sizes:
        n = w * h * 3
        images.append(raw[off:off + n].reshape(h, w, 3))
        off += n
    count = len(images)
    geo = [timm_geometry(w, h) for w, h in sizes]
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = False
    mean = torch.tensor(MEAN, device=dev).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=dev).view(1, 3, 1, 1)
    dtypes = {"float32": torch.float32, "bfloat16": torch.bfloat16}
    cells = {}  # (row key, dtype) -> text
    notes = []

    def guard(key, dt, fn):
        try:
            cells[(key, dt)] = fn()
        except Exception as e:  # a failing baseline must not cost the whole table
            cells[(key, dt)] = "n/a (%s)" % type(e).__name__
            notes.append("%s %s: %s" % (key, dt, "".join(traceback.format_exception_only(type(e), e)).strip()))

    gpu_imgs = [torch.from_numpy(np.ascontiguousarray(im)).to(dev) for im in images]  # HWC uint8

    def one(img, g, dtype):
        rw, rh, left, top = g
        x = img.permute(2, 0, 1).unsqueeze(0).float()
        y = F.interpolate(x, size=(rh, rw), mode="bicubic", antialias=True, align_corners=False)
        y = y[:, :, top:top + RES, left:left + RES]
        return ((y / 255.0 - mean) / std).to(dtype)

    def loop(dtype):
        return torch.stack([one(im, g, dtype)[0] for im, g in zip(gpu_imgs, geo)])

    times = {}
    for dn, dtype in dtypes.items():
        guard("torch_eager", dn, lambda: times.setdefault(("torch_eager", dn), wall_ms(lambda: loop(dtype), args.reps)))

        def graph_time():
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(2):
                    loop(dtype)
            torch.cuda.current_stream().wait_stream(s)
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g):
                static_out = loop(dtype)  # noqa: F841 (kept alive by the graph's pool)
            t = event_ms(g.replay, args.reps)
            times[("torch_graph", dn)] = t
            del g
            return t

        guard("torch_graph", dn, graph_time)

        def tv2_time():
            import torchvision.transforms.v2.functional as TF
            from torchvision.transforms import InterpolationMode
            chw = [im.permute(2, 0, 1) for im in gpu_imgs]

            def run():
                outs = []
                for im, (rw, rh, left, top) in zip(chw, geo):
                    y = TF.resize(im, [rh, rw], interpolation=InterpolationMode.BICUBIC, antialias=True)
                    y = TF.center_crop(y, [RES, RES])
                    y = TF.to_dtype(y, torch.float32, scale=True)
                    outs.append(TF.normalize(y, list(MEAN), list(STD)).to(dtype))
                return torch.stack(outs)
            t = wall_ms(run, args.reps)
            times[("tv2_eager", dn)] = t
            return t

        guard("tv2_eager", dn, tv2_time)

        def batched_time():
            x = torch.randint(0, 256, (count, 3, 375, 500), dtype=torch.uint8, device=dev)
            rw, rh, left, top = timm_geometry(500, 375)

            def run():
                y = F.interpolate(x.float(), size=(rh, rw), mode="bicubic", antialias=True, align_corners=False)
                y = y[:, :, top:top + RES, left:left + RES]
                return ((y / 255.0 - mean) / std).to(dtype)
            t = event_ms(run, args.reps)
            times[("torch_batched_fixed", dn)] = t
            return t

        guard("torch_batched_fixed", dn, batched_time)

        def e2e_time():
            def run():
                outs = []
                for im, g in zip(images, geo):
                    outs.append(one(torch.from_numpy(im).to(dev), g, dtype)[0])
                return torch.stack(outs)
            t = wall_ms(run, max(3, args.reps // 2))
            times[("torch_e2e", dn)] = t
            return t

        guard("torch_e2e", dn, e2e_time)

    # Agreement: ours vs torch's float pipeline (different algorithm: no uint8 intermediate), and vs Pillow.
    ours = np.fromfile(os.path.join(args.dir, "ours_f32.bin"), dtype=np.float32).reshape(count, 3, RES, RES)
    agree = "n/a"
    try:
        ref = loop(torch.float32).cpu().numpy()
        d = np.abs(ref - ours)
        agree = "max %.4f, mean %.5f (normalised units)" % (d.max(), d.mean())
    except Exception as e:
        agree = "n/a (%s)" % type(e).__name__
    pil_row = "n/a"
    try:
        import PIL
        from PIL import Image
        n_check, exact = min(16, count), 0
        m32, s32 = np.array(MEAN, np.float32), np.array(STD, np.float32)
        for i in range(n_check):
            rw, rh, left, top = geo[i]
            r = np.asarray(Image.fromarray(images[i]).resize((rw, rh), Image.BICUBIC).crop(
                (left, top, left + RES, top + RES)), dtype=np.float32)
            v = ((r / np.float32(255.0) - m32) / s32).transpose(2, 0, 1).astype(np.float32)
            exact += int(np.array_equal(v.view(np.uint32), ours[i].view(np.uint32)))
        pil_row = "%d/%d images bit-identical (Pillow %s)" % (exact, n_check, PIL.__version__)
    except Exception as e:
        pil_row = "n/a (%s)" % type(e).__name__

    # ---- the table ----
    res = {(r["workload"], r["dtype"], r["tuning"]): r for r in bench["results"]}
    copy = bench["copy_gbps"]

    def ms(v):
        return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else "%.3f ms" % v

    def ours_kernel(wl, dn, tuning):
        r = res.get((wl, dn, tuning))
        if not r:
            return "n/a"
        return "%s (%.0f GB/s = %.0f%% of copy)" % (ms(r["kernel_ms"]), r["gbps"], 100.0 * r["gbps"] / copy)

    def ours_e2e(wl, dn, key):
        r = res.get((wl, dn, 0))
        return ms(r[key]) if r else "n/a"

    def speedup(base_key, wl, dn, our_key):
        r = res.get((wl, dn, 0))
        t = times.get((base_key, dn))
        if not r or t is None:
            return "n/a"
        return "%.1fx" % (t / r[our_key])

    def tcell(key, dn):
        v = cells.get((key, dn))
        return ms(v) if isinstance(v, float) else (v or "n/a")

    rows = [
        ("device", "", "", "%s, %d SMs" % (bench["device"], bench["sms"]), ""),
        ("build", "", "", args.build or "sm_90", ""),
        ("ctest (CPU, CUDA, emulated kernel)", "", "", args.ctest, ""),
        ("compute-sanitizer on test_cuda_preprocess --quick", "", "", args.sanitizer, ""),
        ("ours == fx_preprocess_cpu_batch, byte for byte", "variable", "",
         "yes" if bench["exact_f32"] else "NO", "yes" if bench["exact_bf16"] else "NO"),
        ("ours == Pillow resize + ToTensor + Normalize", "variable", "", pil_row, ""),
        ("ours vs torch interpolate pipeline (float32)", "variable", "", agree, ""),
        ("device-to-device cudaMemcpy, read + write", "1 GiB", "", "%.0f GB/s" % copy, ""),
        ("pinned host-to-device cudaMemcpy", "128 MiB", "", "%.1f GB/s" % bench["h2d_gbps"], ""),
        ("ours: kernel only (default registers)", "variable", "no",
         ours_kernel("variable", "float32", 0), ours_kernel("variable", "bfloat16", 0)),
        ("ours: kernel only (relaxed registers)", "variable", "no",
         ours_kernel("variable", "float32", 1), ours_kernel("variable", "bfloat16", 1)),
        ("ours: kernel only (default registers)", "fixed", "no",
         ours_kernel("fixed", "float32", 0), ours_kernel("fixed", "bfloat16", 0)),
        ("torch interpolate+normalize, per image + stack, eager", "variable", "no",
         tcell("torch_eager", "float32"), tcell("torch_eager", "bfloat16")),
        ("torch same loop, CUDA graph replay", "variable", "no",
         tcell("torch_graph", "float32"), tcell("torch_graph", "bfloat16")),
        ("torchvision v2 uint8 resize+crop+to_dtype+normalize, per image", "variable", "no",
         tcell("tv2_eager", "float32"), tcell("tv2_eager", "bfloat16")),
        ("torch interpolate+normalize, one batched call", "fixed", "no",
         tcell("torch_batched_fixed", "float32"), tcell("torch_batched_fixed", "bfloat16")),
        ("speed-up: ours kernel vs torch CUDA graph", "variable", "no",
         speedup("torch_graph", "variable", "float32", "kernel_ms"),
         speedup("torch_graph", "variable", "bfloat16", "kernel_ms")),
        ("speed-up: ours kernel vs torch eager", "variable", "no",
         speedup("torch_eager", "variable", "float32", "kernel_ms"),
         speedup("torch_eager", "variable", "bfloat16", "kernel_ms")),
        ("speed-up: ours kernel vs torch batched", "fixed", "no",
         speedup("torch_batched_fixed", "fixed", "float32", "kernel_ms"),
         speedup("torch_batched_fixed", "fixed", "bfloat16", "kernel_ms")),
        ("ours: end to end, pageable host images -> device tensor", "variable", "yes",
         ours_e2e("variable", "float32", "e2e_ms"), ours_e2e("variable", "bfloat16", "e2e_ms")),
        ("ours: ... of which until the call returns (staging + H2D)", "variable", "yes",
         ours_e2e("variable", "float32", "return_ms"), ours_e2e("variable", "bfloat16", "return_ms")),
        ("torch: end to end, per image .to(cuda) + eager pipeline", "variable", "yes",
         tcell("torch_e2e", "float32"), tcell("torch_e2e", "bfloat16")),
        ("speed-up: end to end", "variable", "yes",
         speedup("torch_e2e", "variable", "float32", "e2e_ms"), speedup("torch_e2e", "variable", "bfloat16", "e2e_ms")),
    ]
    head = ("| measurement | workload | H2D incl. | float32 | bfloat16 |\n"
            "|---|---|---|---|---|\n")
    body = "".join("| %s | %s | %s | %s | %s |\n" % r for r in rows)
    legend = ("\nworkloads: variable = %d RGB images of random sizes around 500x375 (a quarter portrait, %.0f MB); "
              "fixed = %d images of 500x375. Transform: timm eval (Resize 256 bicubic antialias, CenterCrop 224, "
              "ImageNet normalisation), NCHW. Our kernel's GB/s counts staged pixels + taps read and the tensor "
              "written, over one kernel; copy = a device-to-device cudaMemcpy counted read + write. Medians.\n"
              % (count, bench["input_mb"], count))
    table = head + body + legend
    if notes:
        table += "\nnotes:\n" + "".join("- %s\n" % n for n in notes)
    if args.table:
        with open(args.table, "w") as f:
            f.write(table)
    sys.stdout.write("\n" + table)


if __name__ == "__main__":
    main()
