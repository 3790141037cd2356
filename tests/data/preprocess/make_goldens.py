#!/usr/bin/python3
"""Golden data for the FixRes4J preprocessing kernel (fx_preprocess_*).

Run from anywhere with Debian's interpreter (Pillow = python3-pil, numpy, python3-skimage for the photos,
optionally python3-torchvision for the cross-check):

    /usr/bin/python3 tests/data/preprocess/make_goldens.py

It (re)writes, next to itself:
  sources/NAME.png       the source image, lossless (RGB, L or RGBA), for the Java decode tests
  sources/NAME.npy.gz    the same pixels, uint8 [H, W, C] as Pillow has them (C = 1 for L, 3, 4 for RGBA)
  goldens/CASE.npy.gz    uint8 [out_h, out_w, 3]: the Pillow pipeline's output after convert('RGB')
  cases.json             one object per case: the Java-side transform, the kernel plan, the files

Every pipeline is written here in plain Pillow, mirroring torchvision 0.14's functional code line by line
(transforms.Resize with an int size, CenterCrop with its pad-then-crop, resized_crop, hflip) and the FixRes
repository's test transform. For each case the script also checks that
  1. the plan, applied literally as the kernel header (fx_resample_plan) defines it, gives the same bytes;
  2. torchvision's own transforms, when importable, give the same bytes as the Pillow-only pipeline.
"""
import gzip
import io
import json
import math
import os
import sys

import numpy as np
import PIL
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"

# Pillow's resample codes and the kernel's FX_FILTER_* codes.
PIL_FILTER = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
FX_FILTER = {"nearest": 0, "bilinear": 1, "bicubic": 2}
FILTERS = ("nearest", "bilinear", "bicubic")

try:
    import torch  # noqa: F401  (torchvision needs it)
    import torchvision
    import torchvision.transforms as T
    import torchvision.transforms.functional as TF
    from torchvision.transforms import InterpolationMode

    TV_MODE = {"nearest": InterpolationMode.NEAREST, "bilinear": InterpolationMode.BILINEAR,
               "bicubic": InterpolationMode.BICUBIC}
    TV_VERSION = torchvision.__version__
except Exception as e:  # torchvision is optional: the Pillow-only pipeline is the reference
    print("torchvision not available (%s): skipping the torchvision cross-check" % e)
    torchvision = None
    TV_VERSION = None


# ------------------------------------------------------------------------------------------------
# Sources: small crops / reductions of scikit-image's public-domain / CC0 photographs
# ------------------------------------------------------------------------------------------------

def _open(name):
    im = Image.open(os.path.join(SKIMAGE_DATA, name))
    im.load()
    return im


def make_sources():
    """NAME -> (PIL image, description of how it was made)."""
    src = {}
    coffee = _open("coffee.png").convert("RGB")          # 600x400, CC0 (Rachel Michetti)
    astronaut = _open("astronaut.png").convert("RGB")    # 512x512, public domain (NASA)
    chelsea = _open("chelsea.png").convert("RGB")        # 451x300, CC0 (Stefan van der Walt)
    rocket = _open("rocket.jpg").convert("RGB")          # 640x427, public domain (SpaceX)
    camera = _open("camera.png").convert("L")            # 512x512, CC0 (Lav Varshney)

    src["landscape_500x375"] = (rocket.crop((70, 26, 570, 401)),
                                "rocket.jpg (decoded by Pillow), crop (70, 26, 570, 401)")
    src["portrait_333x500"] = (astronaut.crop((90, 6, 423, 506)),
                               "astronaut.png, crop (90, 6, 423, 506)")
    src["odd_301x227"] = (coffee.crop((150, 90, 451, 317)),
                          "coffee.png, crop (150, 90, 451, 317)")
    src["odd_97x61"] = (chelsea.resize((97, 61), Image.LANCZOS),
                        "chelsea.png, Pillow resize to 97x61, LANCZOS")
    src["small_150x100"] = (chelsea.resize((150, 100), Image.LANCZOS),
                            "chelsea.png, Pillow resize to 150x100, LANCZOS")
    src["gray_257x193"] = (camera.crop((128, 64, 385, 257)),
                           "camera.png (mode L), crop (128, 64, 385, 257)")
    # RGBA: a photo crop with a synthetic alpha (radial ramp, 0 in the corners); convert('RGB') drops it
    rgb = chelsea.crop((120, 60, 331, 220))
    w, h = rgb.size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = np.sqrt(((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2)
    alpha = np.clip(255.0 * (1.25 - r), 0, 255).astype(np.uint8)
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.fromarray(alpha, "L"))
    src["rgba_211x160"] = (rgba, "chelsea.png, crop (120, 60, 331, 220), plus a synthetic radial alpha")
    return src


def pixels(im):
    """uint8 [H, W, C] as Pillow has it (C = 1 for L)."""
    a = np.asarray(im, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    return np.ascontiguousarray(a)


# ------------------------------------------------------------------------------------------------
# Pillow-only pipelines (torchvision 0.14 functional code, written out)
# ------------------------------------------------------------------------------------------------

def tv_resize_int(img, size, resample):
    """transforms.Resize(int size): shorter side -> size, longer side int(size * long / short).
    Returns (image, (new_w, new_h))."""
    w, h = img.size
    short, long_ = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long_ / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if (h, w) == (new_h, new_w):
        return img, (new_w, new_h)  # torchvision returns the image unchanged
    return img.resize((new_w, new_h), resample), (new_w, new_h)


def fixres_resize(img, size, resample):
    """FixRes repo's Resize(largest=False): height := size, width := int(size * w / h), F.resize((h, w))."""
    w, h = img.size
    new_w, new_h = int(size * w / h), size
    if (h, w) == (new_h, new_w):
        return img, (new_w, new_h)
    return img.resize((new_w, new_h), resample), (new_w, new_h)


def tv_center_crop(img, ch, cw):
    """F.center_crop for PIL: pad with zeros (ImageOps.expand) where smaller, then crop.
    Returns (image, (crop_x, crop_y)) where crop_x/y is the offset in the unpadded image."""
    W, H = img.size
    pl = pt = 0
    if cw > W or ch > H:
        pl = (cw - W) // 2 if cw > W else 0
        pt = (ch - H) // 2 if ch > H else 0
        pr = (cw - W + 1) // 2 if cw > W else 0
        pb = (ch - H + 1) // 2 if ch > H else 0
        padded = Image.new(img.mode, (W + pl + pr, H + pt + pb), 0)
        padded.paste(img, (pl, pt))
        img = padded
        W, H = img.size
        if cw == W and ch == H:
            return img, (-pl, -pt)
    top = int(round((H - ch) / 2.0))
    left = int(round((W - cw) / 2.0))
    return img.crop((left, top, left + cw, top + ch)), (left - pl, top - pt)


def full_plan(W, H, resize_w, resize_h, crop_x, crop_y, out_w, out_h, interp, flip,
              roi=None, box=None):
    rx, ry, rw, rh = roi if roi is not None else (0, 0, W, H)
    bx = box if box is not None else (0.0, 0.0, float(rw), float(rh))
    return {"roi_x": rx, "roi_y": ry, "roi_w": rw, "roi_h": rh,
            "box_x0": float(bx[0]), "box_y0": float(bx[1]), "box_x1": float(bx[2]), "box_y1": float(bx[3]),
            "resize_w": resize_w, "resize_h": resize_h, "crop_x": crop_x, "crop_y": crop_y,
            "out_w": out_w, "out_h": out_h, "filter": FX_FILTER[interp], "flip_x": 1 if flip else 0}


def maybe_flip(img, flip):
    return img.transpose(Image.FLIP_LEFT_RIGHT) if flip else img


def run_timm_eval(rgb, t):
    res, crop_pct, interp, flip = t["res"], t["crop_pct"], t["interpolation"], t["flip"]
    scale = int(math.floor(res / crop_pct))
    W, H = rgb.size
    resized, (rw, rh) = tv_resize_int(rgb, scale, PIL_FILTER[interp])
    out, (cx, cy) = tv_center_crop(resized, res, res)
    return maybe_flip(out, flip), full_plan(W, H, rw, rh, cx, cy, res, res, interp, flip)


def run_fixres_test(rgb, t):
    S, interp, flip = t["size"], t["interpolation"], t["flip"]
    R = int((256 / 224) * S)
    W, H = rgb.size
    resized, (rw, rh) = fixres_resize(rgb, R, PIL_FILTER[interp])
    out, (cx, cy) = tv_center_crop(resized, S, S)
    return maybe_flip(out, flip), full_plan(W, H, rw, rh, cx, cy, S, S, interp, flip)


def run_pillow_box(rgb, t):
    W, H = rgb.size
    box = (t["box_x0"], t["box_y0"], t["box_x1"], t["box_y1"])
    w, h, interp, flip = t["width"], t["height"], t["interpolation"], t["flip"]
    out = rgb.resize((w, h), PIL_FILTER[interp], box=box)
    return maybe_flip(out, flip), full_plan(W, H, w, h, 0, 0, w, h, interp, flip, box=box)


def run_resized_crop(rgb, t):
    W, H = rgb.size
    top, left, ch, cw, size = t["top"], t["left"], t["height"], t["width"], t["size"]
    interp, flip = t["interpolation"], t["flip"]
    assert 0 <= left and left + cw <= W and 0 <= top and top + ch <= H, "crop must lie inside the image"
    crop = rgb.crop((left, top, left + cw, top + ch))  # F_pil.crop
    if (ch, cw) != (size, size):  # F.resize with [size, size]
        crop = crop.resize((size, size), PIL_FILTER[interp])
    return maybe_flip(crop, flip), full_plan(W, H, size, size, 0, 0, size, size, interp, flip,
                                             roi=(left, top, cw, ch))


RUN = {"timm_eval": run_timm_eval, "fixres_test": run_fixres_test, "pillow_box": run_pillow_box,
       "resized_crop": run_resized_crop}


# ------------------------------------------------------------------------------------------------
# Independent checks
# ------------------------------------------------------------------------------------------------

def apply_plan(rgb, p):
    """The kernel's definition (kernels.h, fx_resample_plan), applied literally with Pillow."""
    roi = rgb.crop((p["roi_x"], p["roi_y"], p["roi_x"] + p["roi_w"], p["roi_y"] + p["roi_h"]))
    filt = {0: Image.NEAREST, 1: Image.BILINEAR, 2: Image.BICUBIC}[p["filter"]]
    resized = roi.resize((p["resize_w"], p["resize_h"]), filt,
                         box=(p["box_x0"], p["box_y0"], p["box_x1"], p["box_y1"]))
    src = np.asarray(resized)
    out = np.zeros((p["out_h"], p["out_w"], 3), np.uint8)
    for y in range(p["out_h"]):
        sy = p["crop_y"] + y
        if not 0 <= sy < src.shape[0]:
            continue
        for x in range(p["out_w"]):
            sx = p["crop_x"] + x
            if 0 <= sx < src.shape[1]:
                out[y, x] = src[sy, sx]
    if p["flip_x"]:
        out = out[:, ::-1]
    return out


def run_torchvision(rgb, t):
    """The same case through torchvision's own transforms (None where torchvision has no equivalent)."""
    kind = t["kind"]
    if kind == "timm_eval":
        scale = int(math.floor(t["res"] / t["crop_pct"]))
        pipe = T.Compose([T.Resize(scale, interpolation=TV_MODE[t["interpolation"]]), T.CenterCrop(t["res"])])
        out = pipe(rgb)
    elif kind == "fixres_test":
        S = t["size"]
        R = int((256 / 224) * S)
        w, h = rgb.size
        # the FixRes repo's Resize.__call__: F.resize(img, (h, w), interpolation)
        resized = TF.resize(rgb, [R, int(R * w / h)], TV_MODE[t["interpolation"]])
        out = T.CenterCrop(S)(resized)
    elif kind == "resized_crop":
        out = TF.resized_crop(rgb, t["top"], t["left"], t["height"], t["width"], [t["size"], t["size"]],
                              TV_MODE[t["interpolation"]])
    else:
        return None
    if t["flip"]:
        out = TF.hflip(out)
    return out


# ------------------------------------------------------------------------------------------------
# The cases
# ------------------------------------------------------------------------------------------------

def case_list():
    cases = []

    def add(name, source, **t):
        t.setdefault("flip", False)
        cases.append((name, source, t))

    for f in FILTERS:
        # (a) timm eval
        add("timm_landscape_%s_r80" % f, "landscape_500x375", kind="timm_eval", res=80, crop_pct=0.875,
            interpolation=f)
        add("timm_portrait_%s_r72_cp090" % f, "portrait_333x500", kind="timm_eval", res=72, crop_pct=0.9,
            interpolation=f)
        add("timm_odd301_%s_r64_cp0904" % f, "odd_301x227", kind="timm_eval", res=64, crop_pct=0.904,
            interpolation=f)
        # short side already equals floor(54 / 0.875) = 61: torchvision returns the image unchanged
        add("timm_odd97_identity_%s_r54" % f, "odd_97x61", kind="timm_eval", res=54, crop_pct=0.875,
            interpolation=f)
        # crop_pct > 1: the resized image is smaller than the crop, CenterCrop pads with zeros
        add("timm_odd97_pad_%s_r80_cp115" % f, "odd_97x61", kind="timm_eval", res=80, crop_pct=1.15,
            interpolation=f)
        # (f) upsampling: 100 -> floor(96 / 0.8) = 120
        add("timm_small_up_%s_r96_cp080" % f, "small_150x100", kind="timm_eval", res=96, crop_pct=0.8,
            interpolation=f)
        # (g) gray and RGBA through convert('RGB')
        add("timm_gray_%s_r64" % f, "gray_257x193", kind="timm_eval", res=64, crop_pct=0.875, interpolation=f)
        add("timm_rgba_%s_r64" % f, "rgba_211x160", kind="timm_eval", res=64, crop_pct=0.875, interpolation=f)

        # (b) Pillow resize with a non-integer box (downsampling, upsampling, anisotropic)
        add("box_odd301_down_%s" % f, "odd_301x227", kind="pillow_box", width=80, height=60, box_x0=10.3,
            box_y0=20.7, box_x1=250.25, box_y1=200.5, interpolation=f)
        add("box_odd301_up_%s" % f, "odd_301x227", kind="pillow_box", width=80, height=64, box_x0=100.5,
            box_y0=50.25, box_x1=140.75, box_y1=81.125, interpolation=f)
        add("box_landscape_aniso_%s" % f, "landscape_500x375", kind="pillow_box", width=64, height=100,
            box_x0=0.5, box_y0=0.0, box_x1=499.5, box_y1=375.0, interpolation=f)
        add("box_gray_%s" % f, "gray_257x193", kind="pillow_box", width=70, height=50, box_x0=3.75,
            box_y0=1.5, box_x1=255.0, box_y1=190.25, interpolation=f)

        # (c) torchvision resized_crop (the filter never reads outside the crop)
        add("rc_landscape_%s" % f, "landscape_500x375", kind="resized_crop", top=37, left=101, height=211,
            width=263, size=80, interpolation=f)
        add("rc_odd97_up_%s" % f, "odd_97x61", kind="resized_crop", top=5, left=7, height=31, width=45,
            size=72, interpolation=f)
        add("rc_portrait_edge_%s" % f, "portrait_333x500", kind="resized_crop", top=380, left=0, height=120,
            width=333, size=64, interpolation=f)
        add("rc_rgba_%s" % f, "rgba_211x160", kind="resized_crop", top=0, left=50, height=160, width=120,
            size=64, interpolation=f)

        # (d) FixRes test transform (height := int(256/224 S), width := int(R w / h))
        add("fixres_odd97_%s_s64" % f, "odd_97x61", kind="fixres_test", size=64, interpolation=f)
        add("fixres_portrait_pad_%s_s100" % f, "portrait_333x500", kind="fixres_test", size=100,
            interpolation=f)
        add("fixres_small_up_%s_s96" % f, "small_150x100", kind="fixres_test", size=96, interpolation=f)
        add("fixres_gray_%s_s72" % f, "gray_257x193", kind="fixres_test", size=72, interpolation=f)

        # (e) flips
        add("timm_odd301_flip_%s_r64" % f, "odd_301x227", kind="timm_eval", res=64, crop_pct=0.875,
            interpolation=f, flip=True)
        add("box_odd301_flip_%s" % f, "odd_301x227", kind="pillow_box", width=60, height=90, box_x0=20.5,
            box_y0=10.0, box_x1=180.0, box_y1=220.75, interpolation=f, flip=True)
        add("rc_landscape_flip_%s" % f, "landscape_500x375", kind="resized_crop", top=100, left=20,
            height=150, width=200, size=64, interpolation=f, flip=True)
        add("fixres_portrait_flip_%s_s64" % f, "portrait_333x500", kind="fixres_test", size=64,
            interpolation=f, flip=True)

    # The benchmark sizes: a few full-size cases with the real models' settings
    add("timm_b0_landscape_bicubic_r224", "landscape_500x375", kind="timm_eval", res=224, crop_pct=0.875,
        interpolation="bicubic")
    add("fixres_landscape_bilinear_s320", "landscape_500x375", kind="fixres_test", size=320,
        interpolation="bilinear")
    # int(256 / 224 * 88) = 100 = the height and int(100 * 150 / 100) = 150 = the width: no resize
    add("fixres_small_identity_bilinear_s88", "small_150x100", kind="fixres_test", size=88,
        interpolation="bilinear")
    add("fixres_portrait_pad_bilinear_s224", "portrait_333x500", kind="fixres_test", size=224,
        interpolation="bilinear")
    return cases


# ------------------------------------------------------------------------------------------------

def save_npy_gz(path, array):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    with open(path, "wb") as raw:
        # mtime=0 and no file name: byte-identical output on every run
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(buf.getvalue())


def main():
    os.makedirs(os.path.join(HERE, "sources"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "goldens"), exist_ok=True)
    sources = make_sources()
    for name, (im, _) in sources.items():
        im.save(os.path.join(HERE, "sources", name + ".png"), optimize=True)
        back = Image.open(os.path.join(HERE, "sources", name + ".png"))
        assert back.mode == im.mode and np.array_equal(pixels(back), pixels(im)), name
        save_npy_gz(os.path.join(HERE, "sources", name + ".npy.gz"), pixels(im))

    out_cases = []
    tv_checked = 0
    halves = {"up": 0, "down": 0}
    for name, source, t in case_list():
        im = sources[source][0]
        rgb = im.convert("RGB")  # timm / torchvision datasets: Image.open(...).convert('RGB')
        out, plan = RUN[t["kind"]](rgb, t)
        assert out.mode == "RGB" and out.size == (plan["out_w"], plan["out_h"]), name
        golden = pixels(out)
        via_plan = apply_plan(rgb, plan)
        if not np.array_equal(via_plan, golden):
            sys.exit("case %s: the plan applied literally differs from the pipeline" % name)
        if torchvision is not None:
            tv = run_torchvision(rgb, t)
            if tv is not None:
                if not np.array_equal(pixels(tv), golden):
                    sys.exit("case %s: torchvision %s differs from the Pillow-only pipeline" % (name, TV_VERSION))
                tv_checked += 1
        save_npy_gz(os.path.join(HERE, "goldens", name + ".npy.gz"), golden)
        transform = {"kind": t["kind"]}
        transform.update({k: v for k, v in t.items() if k != "kind"})
        out_cases.append({"name": name, "source": "sources/%s.npy.gz" % source,
                          "image": "sources/%s.png" % source, "transform": transform, "plan": plan,
                          "golden": "goldens/%s.npy.gz" % name})

    doc = {"pillow": PIL.__version__, "generator": "make_goldens.py", "cases": out_cases}
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        f.write('{"pillow": %s, "generator": %s, "cases": [\n' % (json.dumps(doc["pillow"]),
                                                                  json.dumps(doc["generator"])))
        f.write(",\n".join(json.dumps(c) for c in out_cases))
        f.write("\n]}\n")
    json.loads(open(os.path.join(HERE, "cases.json")).read())  # well-formed

    kinds = {}
    for c in out_cases:
        kinds[c["transform"]["kind"]] = kinds.get(c["transform"]["kind"], 0) + 1
    print("Pillow %s, numpy %s, torchvision %s" % (PIL.__version__, np.__version__, TV_VERSION))
    print("%d cases %s; %d cross-checked against torchvision byte for byte" % (len(out_cases), kinds, tv_checked))
    for name, (im, how) in sources.items():
        print("  source %-18s %4dx%-4d %-4s  %s" % (name, im.size[0], im.size[1], im.mode, how))


if __name__ == "__main__":
    main()
