"""Fixtures of the decoder tests (ImageDecoderTest), made with Debian's Pillow 9.4 (python3-pil) and numpy.

Run from this folder: /usr/bin/python3 make_decode_fixtures.py
Writes:
  photo.jpg            a real photograph (scikit-image's coffee.png, CC0, 160x120 crop+resize), JPEG quality 90
  photo.pillow.npy.gz  photo.jpg as Pillow decodes it: uint8 [H,W,3] RGB (the decoder must give the same pixels)
  exif_rotate90.jpg    photo.jpg's pixels with EXIF Orientation = 6: Pillow (and timm) ignore the tag, so must we
  gray16.png           16-bit gray PNG: Pillow opens it as mode I, convert('RGB') clamps to 255
  rgb16.png            16-bit RGB PNG: Pillow keeps the high byte of each sample
  palette.png          palette (P) PNG; palette_alpha.png with transparency; gray_alpha.png (LA)
  *.pillow_rgb.npy.gz  for each PNG, Image.open(f).convert('RGB') as uint8 [H,W,3]
"""
import gzip
import struct
import zlib

import numpy as np
from PIL import Image


def save_npy_gz(path, array):
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        np.save(f, np.ascontiguousarray(array))


def png16(path, array, color_type):
    h, w = array.shape[:2]
    raw = b"".join(b"\x00" + array[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
                + chunk(b"IEND", b""))


def main():
    src = Image.open("/usr/lib/python3/dist-packages/skimage/data/coffee.png").convert("RGB")
    photo = src.crop((40, 0, 573, 400)).resize((160, 120), Image.LANCZOS)
    photo.save("photo.jpg", quality=90)
    save_npy_gz("photo.pillow.npy.gz", np.asarray(Image.open("photo.jpg").convert("RGB")))

    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    Image.open("photo.jpg").save("exif_rotate90.jpg", quality=90, exif=exif.tobytes())
    assert Image.open("exif_rotate90.jpg").getexif()[0x0112] == 6
    save_npy_gz("exif_rotate90.pillow_rgb.npy.gz", np.asarray(Image.open("exif_rotate90.jpg").convert("RGB")))

    rng = np.random.default_rng(7)
    gray = rng.integers(0, 65536, size=(9, 13), dtype=np.uint16)
    gray[0, :6] = [0, 1, 255, 256, 1000, 65535]
    png16("gray16.png", gray, 0)
    rgb = rng.integers(0, 65536, size=(7, 11, 3), dtype=np.uint16)
    png16("rgb16.png", rgb, 2)

    small = photo.resize((40, 30), Image.BILINEAR)
    small.quantize(colors=16).save("palette.png")
    pal = small.quantize(colors=16)
    pal.info["transparency"] = 3
    pal.save("palette_alpha.png", transparency=3)
    la = small.convert("L")
    la.putalpha(Image.fromarray(rng.integers(0, 256, size=(30, 40), dtype=np.uint8)))
    la.save("gray_alpha.png")
    for name in ["gray16", "rgb16", "palette", "palette_alpha", "gray_alpha"]:
        save_npy_gz(name + ".pillow_rgb.npy.gz", np.asarray(Image.open(name + ".png").convert("RGB")))


if __name__ == "__main__":
    main()
