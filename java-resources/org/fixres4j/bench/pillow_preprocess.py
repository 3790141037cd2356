"""Times timm's eval transform with Pillow: the baseline of `fixres bench preprocess`.

Usage: python3 pillow_preprocess.py IMAGE RES[,RES...] SECONDS
       python3 pillow_preprocess.py IMAGE --serve
Per resolution: Resize(floor(res / 0.875), bicubic) on the shorter side + CenterCrop(res) + ToTensor + Normalize
(ImageNet mean/std), through torchvision when it is installed (as timm does), else the same steps with Pillow and
numpy. The image is decoded once; each iteration copies it (as a data loader hands a fresh image) and transforms it.
Prints one JSON object: {"pillow": version, "torchvision": version or null, "results": [{"res", "ms_per_image"}]}.

With --serve, the script times one block per request, so that the caller can interleave Pillow's blocks with its own
(the same machine state for both sides of a ratio). It first prints {"pillow", "torchvision"} on one line, then
answers each line "RES SECONDS" read from stdin with one line {"res", "ms_per_image", "iterations"}: the mean over a
block of at least SECONDS (and 3 iterations), after 2 untimed iterations the first time RES is asked for. It stops
at the end of its input.
"""
import json
import math
import sys
import time

import numpy as np
from PIL import Image
import PIL

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(3, 1, 1)


def numpy_transform(res):
    short_target = math.floor(res / 0.875)

    def apply(img):
        w, h = img.size
        if w <= h:
            size = (short_target, int(short_target * h / w))
        else:
            size = (int(short_target * w / h), short_target)
        if size != img.size:
            img = img.resize(size, Image.BICUBIC)
        w, h = img.size
        top = int(round((h - res) / 2.0))
        left = int(round((w - res) / 2.0))
        img = img.crop((left, top, left + res, top + res))
        x = np.asarray(img, dtype=np.uint8).transpose(2, 0, 1).astype(np.float32) / 255.0
        return (x - MEAN) / STD

    return apply


def torchvision_transform(res):
    from torchvision import transforms
    return transforms.Compose([
        transforms.Resize(math.floor(res / 0.875), interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop(res),
        transforms.ToTensor(),
        transforms.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
    ])


def pick_transform():
    """(factory, torchvision version or None): torchvision's transform when it is installed, else numpy's."""
    try:
        import torch
        import torchvision
        torch.set_num_threads(1)
        return torchvision_transform, torchvision.__version__
    except Exception:
        return numpy_transform, None


def time_block(transform, image, seconds, min_iterations):
    n = 0
    start = time.perf_counter()
    while True:
        transform(image.copy())
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and n >= min_iterations:
            return 1000.0 * elapsed / n, n


def serve(image):
    make, tv_version = pick_transform()
    print(json.dumps({"pillow": PIL.__version__, "torchvision": tv_version}), flush=True)
    transforms = {}
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        res, seconds = int(words[0]), float(words[1])
        if res not in transforms:
            transforms[res] = make(res)
            for _ in range(2):
                transforms[res](image.copy())
        ms, n = time_block(transforms[res], image, seconds, 3)
        print(json.dumps({"res": res, "ms_per_image": ms, "iterations": n}), flush=True)


def main():
    path = sys.argv[1]
    image = Image.open(path).convert("RGB")
    if sys.argv[2] == "--serve":
        serve(image)
        return
    resolutions, seconds = [int(r) for r in sys.argv[2].split(",")], float(sys.argv[3])
    make, tv_version = pick_transform()
    results = []
    for res in resolutions:
        transform = make(res)
        for _ in range(3):
            transform(image.copy())
        ms, n = time_block(transform, image, seconds, 5)
        results.append({"res": res, "ms_per_image": ms, "iterations": n})
    print(json.dumps({"pillow": PIL.__version__, "torchvision": tv_version, "results": results}))


if __name__ == "__main__":
    main()
