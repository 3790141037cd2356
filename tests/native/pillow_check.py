#!/usr/bin/python3
"""Random Pillow references for fx_preprocess_cpu, in the tests/data/preprocess/ golden format.

    /usr/bin/python3 tests/native/pillow_check.py --out DIR [--cases N] [--seed S]

writes DIR/cases.json, DIR/sources/*.npy.gz and DIR/goldens/*.npy.gz for N random cases: random images (L, RGB,
RGBA; sizes 1..600), random plans (roi, fractional boxes, up- and downsampling including strong reductions,
crops with zero padding, flips, the three filters), and the plan applied literally with Pillow as
kernels/include/fixres4j/kernels.h defines it:

    convert('RGB') -> crop(roi) -> resize((resize_w, resize_h), filter, box) -> crop window (zero padded)
    -> mirrored when flip_x

Then `test_golden_cpu DIR` compares the kernel with it byte for byte (ctest: pillow_random_cpu).
Needs Pillow (9.4.0: Debian's python3-pil) and numpy.
"""
import argparse
import gzip
import io
import json
import os
import random

import numpy as np
import PIL
from PIL import Image

FILTERS = {0: Image.NEAREST, 1: Image.BILINEAR, 2: Image.BICUBIC}


def save_npy_gz(path, arr):
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr, dtype=np.uint8))
    with open(path, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
            g.write(buf.getvalue())


def random_pixels(rng, h, w, c):
    kind = rng.randrange(4)
    nprng = np.random.default_rng(rng.randrange(1 << 30))
    if kind == 0:
        return nprng.integers(0, 256, (h, w, c), dtype=np.uint8)
    if kind == 1:
        return (nprng.integers(0, 2, (h, w, c)) * 255).astype(np.uint8)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    fx, fy = rng.uniform(0.01, 0.3), rng.uniform(0.01, 0.3)
    base = 128 + 110 * np.sin(fx * xx + fy * yy)[:, :, None] * np.ones((1, 1, c))
    noise = nprng.normal(0, 8 if kind == 2 else 30, (h, w, c))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def random_coord(rng, size):
    k = rng.randrange(4)
    if k == 0:
        return float(rng.randint(0, size))
    if k == 1:
        return rng.random() * size
    if k == 2:
        return min(float(size), rng.randint(0, size) + 0.5)
    return min(float(size), rng.randint(0, size) + rng.randint(0, 999) / 1000.0)


def random_box(rng, size):
    if rng.random() < 0.5:
        return 0.0, float(size)
    while True:
        a, b = sorted((random_coord(rng, size), random_coord(rng, size)))
        if a < b and np.float32(a) < np.float32(b):
            return a, b


def random_resize(rng, box_size):
    k = rng.randrange(6)
    if k == 0:
        return max(1, int(round(box_size)))
    if k == 1:
        return rng.randint(1, 40)
    if k == 2:
        return max(1, int(box_size / (1.0 + rng.random() * 3.0)))
    if k == 3:
        return min(600, int(box_size * (1.0 + rng.random() * 3.0)) + 1)
    return rng.randint(1, 400)


def random_case(rng, max_side):
    w = rng.randint(1, 4) if rng.random() < 0.1 else rng.randint(1, max_side)
    h = rng.randint(1, 4) if rng.random() < 0.1 else rng.randint(1, max_side)
    mode = rng.choice(["L", "RGB", "RGBA"])
    c = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    pixels = random_pixels(rng, h, w, c)
    if rng.random() < 0.5:
        rx, ry, rw, rh = 0, 0, w, h
    else:
        rx, ry = rng.randint(0, w - 1), rng.randint(0, h - 1)
        rw, rh = rng.randint(1, w - rx), rng.randint(1, h - ry)
    bx0, bx1 = random_box(rng, rw)
    by0, by1 = random_box(rng, rh)
    resize_w, resize_h = random_resize(rng, bx1 - bx0), random_resize(rng, by1 - by0)
    out_w = rng.randint(1, 300) if rng.random() < 0.2 else min(300, rng.randint(1, resize_w))
    out_h = rng.randint(1, 300) if rng.random() < 0.2 else min(300, rng.randint(1, resize_h))
    if rng.random() < 0.5:
        crop_x = rng.randint(0, resize_w - out_w) if out_w <= resize_w else -((out_w - resize_w) // 2)
        crop_y = rng.randint(0, resize_h - out_h) if out_h <= resize_h else -((out_h - resize_h) // 2)
    else:
        crop_x = rng.randint(-out_w - 2, resize_w + 2)
        crop_y = rng.randint(-out_h - 2, resize_h + 2)
    plan = {"roi_x": rx, "roi_y": ry, "roi_w": rw, "roi_h": rh,
            "box_x0": bx0, "box_y0": by0, "box_x1": bx1, "box_y1": by1,
            "resize_w": resize_w, "resize_h": resize_h, "crop_x": crop_x, "crop_y": crop_y,
            "out_w": out_w, "out_h": out_h, "filter": rng.randrange(3), "flip_x": rng.randrange(2)}
    return mode, pixels, plan


def apply_plan(mode, pixels, p):
    img = Image.fromarray(pixels[:, :, 0] if mode == "L" else pixels, mode).convert("RGB")
    roi = img.crop((p["roi_x"], p["roi_y"], p["roi_x"] + p["roi_w"], p["roi_y"] + p["roi_h"]))
    resized = roi.resize((p["resize_w"], p["resize_h"]), FILTERS[p["filter"]],
                         box=(p["box_x0"], p["box_y0"], p["box_x1"], p["box_y1"]))
    r = np.asarray(resized, dtype=np.uint8)
    out = np.zeros((p["out_h"], p["out_w"], 3), dtype=np.uint8)
    x0, y0 = p["crop_x"], p["crop_y"]
    sx0, sx1 = max(x0, 0), min(x0 + p["out_w"], p["resize_w"])
    sy0, sy1 = max(y0, 0), min(y0 + p["out_h"], p["resize_h"])
    if sx0 < sx1 and sy0 < sy1:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = r[sy0:sy1, sx0:sx1]
    if p["flip_x"]:
        out = out[:, ::-1]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-side", type=int, default=600)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(os.path.join(args.out, "sources"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "goldens"), exist_ok=True)
    cases = []
    for i in range(args.cases):
        # mostly small images (fast), some up to max_side
        mode, pixels, plan = random_case(rng, args.max_side if i % 5 == 0 else 160)
        name = "random_%04d" % i
        save_npy_gz(os.path.join(args.out, "sources", name + ".npy.gz"), pixels)
        save_npy_gz(os.path.join(args.out, "goldens", name + ".npy.gz"), apply_plan(mode, pixels, plan))
        cases.append({"name": name, "source": "sources/%s.npy.gz" % name, "plan": plan,
                      "golden": "goldens/%s.npy.gz" % name})
    with open(os.path.join(args.out, "cases.json"), "w") as f:
        f.write('{"pillow": "%s", "generator": "pillow_check.py", "cases": [\n' % PIL.__version__)
        f.write(",\n".join(json.dumps(c) for c in cases))
        f.write("\n]}\n")
    print("pillow_check.py: %d random cases (Pillow %s, seed %d) in %s" % (args.cases, PIL.__version__, args.seed,
                                                                         args.out))


if __name__ == "__main__":
    main()
