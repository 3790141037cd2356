"""Reference bytes for `fixres demo`: what timm/torchvision (Pillow 9.4) make of an image.

Usage: python3 pillow_reference.py IMAGE
Prints JSON {"pillow": version, "torchvision": version or null, "outputs": {name: {"sha256", "shape"}}} for
  timm_224:   timm's eval transform for EfficientNet-B0 (Resize(256, bicubic) + CenterCrop(224)), uint8 RGB HWC
  timm_320:   the same at 320 (Resize(365))
  fixres_320: the FixRes repository's test transform at 320 (height := int(256/224*320), bilinear, CenterCrop(320))
Through torchvision when installed (as timm does), else the same steps in plain Pillow.
"""
import hashlib
import json
import math
import sys

import numpy as np
from PIL import Image
import PIL


def center_crop(img, size):
    w, h = img.size
    if w < size or h < size:  # torchvision pads with zeros, then crops
        pad_l, pad_t = max(0, (size - w) // 2), max(0, (size - h) // 2)
        canvas = Image.new("RGB", (max(w, size), max(h, size)))
        canvas.paste(img, (pad_l, pad_t))
        img = canvas
        w, h = img.size
    top, left = int(round((h - size) / 2.0)), int(round((w - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


def timm_eval(img, res, crop_pct=0.875):
    try:
        from torchvision import transforms
        t = transforms.Compose([
            transforms.Resize(math.floor(res / crop_pct), interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.CenterCrop(res)])
        return t(img)
    except ImportError:
        short = math.floor(res / crop_pct)
        w, h = img.size
        size = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
        return center_crop(img if size == img.size else img.resize(size, Image.BICUBIC), res)


def fixres_test(img, size):
    r = int((256 / 224) * size)
    w, h = img.size
    resized = img.resize((int(r * w / h), r), Image.BILINEAR)
    return center_crop(resized, size)


def main():
    img = Image.open(sys.argv[1]).convert("RGB")
    outputs = {}
    for name, im in [("timm_224", timm_eval(img, 224)), ("timm_320", timm_eval(img, 320)),
                     ("fixres_320", fixres_test(img, 320))]:
        a = np.ascontiguousarray(np.asarray(im, dtype=np.uint8))
        outputs[name] = {"sha256": hashlib.sha256(a.tobytes()).hexdigest(), "shape": list(a.shape)}
    try:
        import torchvision
        tv = torchvision.__version__
    except ImportError:
        tv = None
    print(json.dumps({"pillow": PIL.__version__, "torchvision": tv, "outputs": outputs}))


if __name__ == "__main__":
    main()
