"""Times timm's eval transform with Pillow: the baseline of `fixres bench preprocess`.

Usage: python3 pillow_preprocess.py IMAGE RES[,RES...] SECONDS
Per resolution: Resize(floor(res / 0.875), bicubic) on the shorter side + CenterCrop(res) + ToTensor + Normalize
(ImageNet mean/std), through torchvision when it is installed (as timm does), else the same steps with Pillow and
numpy. The image is decoded once; each iteration copies it (as a data loader hands a fresh image) and transforms it.
Prints one JSON object: {"pillow": version, "torchvision": version or null, "results": [{"res", "ms_per_image"}]}.
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


def main():
    path, resolutions, seconds = sys.argv[1], [int(r) for r in sys.argv[2].split(",")], float(sys.argv[3])
    image = Image.open(path).convert("RGB")
    try:
        import torch
        import torchvision
        torch.set_num_threads(1)
        tv_version = torchvision.__version__
        make = torchvision_transform
    except Exception:
        tv_version = None
        make = numpy_transform
    results = []
    for res in resolutions:
        transform = make(res)
        for _ in range(3):
            transform(image.copy())
        n = 0
        start = time.perf_counter()
        while True:
            transform(image.copy())
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and n >= 5:
                break
        results.append({"res": res, "ms_per_image": 1000.0 * elapsed / n, "iterations": n})
    print(json.dumps({"pillow": PIL.__version__, "torchvision": tv_version, "results": results}))


if __name__ == "__main__":
    main()
