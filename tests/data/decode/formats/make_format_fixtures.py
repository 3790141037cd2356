"""The input-format corpus of InputFormatsTest: what the decoder reads exactly like Pillow 9.4, and what it refuses.

Made with Debian's Pillow 9.4 (python3-pil) and numpy. Run from this folder: /usr/bin/python3 make_format_fixtures.py
Writes the files below and expected.tsv, one row a file:
  <file> TAB exact TAB -                   decoded pixels must equal <file>.pillow_rgb.npy.gz (Image.open().convert('RGB'))
  <file> TAB refused TAB <text>            the decoder must refuse it with a message containing <text> and the file name
"""
import gzip
import struct
import zlib

import numpy as np
from PIL import Image

ROWS = []


def save_npy_gz(path, array):
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        np.save(f, np.ascontiguousarray(array))


def exact(name):
    save_npy_gz(name + ".pillow_rgb.npy.gz", np.asarray(Image.open(name).convert("RGB")))
    ROWS.append((name, "exact", "-"))


def refused(name, text):
    ROWS.append((name, "refused", text))


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bmp_file(info, palette, pixels):
    offset = 14 + len(info) + len(palette)
    return struct.pack("<2sIHHI", b"BM", offset + len(pixels), 0, 0, offset) + info + palette + pixels


def write_pal4_bmp(path):
    """4-bit palette, bottom-up, rows padded to 4 bytes."""
    rng = np.random.default_rng(3)
    w, h = 13, 7
    pal = rng.integers(0, 256, size=(16, 3), dtype=np.uint8)
    idx = rng.integers(0, 16, size=(h, w), dtype=np.uint8)
    row_bytes = ((w * 4 + 31) // 32) * 4
    rows = b""
    for y in range(h - 1, -1, -1):
        r = bytearray(row_bytes)
        for x in range(w):
            r[x // 2] |= int(idx[y, x]) << (4 if x % 2 == 0 else 0)
        rows += bytes(r)
    palette = b"".join(bytes([int(b), int(g), int(r), 0]) for r, g, b in pal)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 4, 0, len(rows), 2835, 2835, 16, 0)
    open(path, "wb").write(bmp_file(info, palette, rows))
    assert (np.asarray(Image.open(path).convert("RGB")) == pal[idx]).all()


def write_bitfields_bmp(path):
    """32-bit BGRA with BI_BITFIELDS masks and a V4 header, top-down (negative height)."""
    rng = np.random.default_rng(4)
    w, h = 13, 7
    px = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
    rows = px[..., [2, 1, 0, 3]].tobytes()
    info = struct.pack("<IiiHHIIiiII", 108, w, -h, 1, 32, 3, len(rows), 2835, 2835, 0, 0) \
        + struct.pack("<IIII", 0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000) + b"BGRs" + bytes(48)
    open(path, "wb").write(bmp_file(info, b"", rows))
    assert Image.open(path).mode == "RGBA"
    assert (np.asarray(Image.open(path).convert("RGB")) == px[..., :3]).all()


def source():
    rng = np.random.default_rng(11)
    base = Image.open("../photo.jpg").convert("RGB").resize((48, 36), Image.BILINEAR)
    noise = rng.integers(0, 256, size=(36, 48, 3), dtype=np.uint8)
    arr = np.asarray(base).copy()
    arr[:4] = noise[:4]  # a few saturated / random rows exercise the clamps
    arr[4, :8] = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [1, 2, 3],
                  [254, 253, 252]]
    return Image.fromarray(arr)


def main():
    img = source()

    # ---- JPEG: CMYK and YCCK converted like Pillow ----
    img.convert("CMYK").save("cmyk.jpg", quality=92)
    assert Image.open("cmyk.jpg").info.get("adobe_transform") == 0
    exact("cmyk.jpg")
    data = open("cmyk.jpg", "rb").read()
    i = data.index(b"\xff\xee\x00\x0eAdobe")  # Pillow writes an Adobe marker (transform 0) with CMYK
    # the same samples labelled YCCK (Adobe transform 2): libjpeg converts them from YCC first
    ycck = bytearray(data)
    ycck[i + 15] = 2
    open("ycck.jpg", "wb").write(ycck)
    assert Image.open("ycck.jpg").info.get("adobe_transform") == 2
    exact("ycck.jpg")
    # no Adobe marker: libjpeg says CMYK, Pillow still assumes Adobe's inverted samples
    open("cmyk_no_adobe.jpg", "wb").write(data[:i] + data[i + 2 + 14:])
    assert "adobe" not in Image.open("cmyk_no_adobe.jpg").info
    exact("cmyk_no_adobe.jpg")

    img.convert("L").save("gray.jpg", quality=90)
    exact("gray.jpg")
    img.save("progressive.jpg", quality=90, progressive=True)
    exact("progressive.jpg")

    jpeg = bytearray(open("gray.jpg", "rb").read())
    sof = jpeg.index(b"\xff\xc0")
    twelve = bytearray(jpeg)
    twelve[sof + 4] = 12
    open("bits12.jpg", "wb").write(twelve)
    refused("bits12.jpg", "12-bit JPEG")
    lossless = bytearray(jpeg)
    lossless[sof + 1] = 0xC3
    open("lossless.jpg", "wb").write(lossless)
    refused("lossless.jpg", "lossless JPEG")

    # ---- PNG: still images read, animated ones refused ----
    img.save("rgb.png")
    exact("rgb.png")
    # no IEND, which Pillow does not need (it stops at the end of the file after the image data)
    png = open("rgb.png", "rb").read()
    assert png.endswith(png_chunk(b"IEND", b""))
    open("no_iend.png", "wb").write(png[:-12])
    exact("no_iend.png")
    # a chunk cut short after the image data, which Pillow refuses ("Truncated File Read")
    open("cut_tail.png", "wb").write(png[:-12] + png_chunk(b"tEXt", b"Comment\x00" + b"x" * 100)[:30])
    refused("cut_tail.png", "past the end")
    # ... but a PNG cut inside its image data is refused, as by Pillow
    idat_end = png.rindex(b"IEND") - 4
    open("cut_idat.png", "wb").write(png[:idat_end - 40])
    refused("cut_idat.png", "past the end")
    frames = [img, img.transpose(Image.FLIP_LEFT_RIGHT)]
    frames[0].save("animated.png", save_all=True, append_images=frames[1:], duration=100)
    assert getattr(Image.open("animated.png"), "n_frames", 1) == 2
    refused("animated.png", "animated PNG")

    # ---- WebP: still lossless and lossy read, animated refused ----
    img.save("lossless.webp", lossless=True)
    exact("lossless.webp")
    img.save("lossy.webp", quality=80)
    exact("lossy.webp")
    img.convert("RGBA").save("alpha.webp", lossless=True)
    exact("alpha.webp")
    frames[0].save("animated.webp", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open("animated.webp").n_frames == 2
    refused("animated.webp", "animated WebP")

    # ---- BMP: uncompressed 1/8/24/32-bit read; 16-bit, RLE and OS/2 refused ----
    img.save("rgb24.bmp")
    exact("rgb24.bmp")
    img.convert("L").save("gray8.bmp")
    exact("gray8.bmp")
    img.quantize(colors=32).save("palette8.bmp")
    exact("palette8.bmp")
    img.convert("1").save("mono1.bmp")
    exact("mono1.bmp")
    img.convert("RGBA").save("rgba32.bmp")
    exact("rgba32.bmp")
    write_pal4_bmp("pal4.bmp")  # Pillow cannot write 4-bit or bit-field BMPs: written by hand
    exact("pal4.bmp")
    write_bitfields_bmp("bgra_bitfields.bmp")
    exact("bgra_bitfields.bmp")
    rgb24 = bytearray(open("rgb24.bmp", "rb").read())
    b16 = bytearray(rgb24)
    struct.pack_into("<H", b16, 28, 16)
    open("rgb16.bmp", "wb").write(b16)
    refused("rgb16.bmp", "16-bit BMP")
    rle = bytearray(open("palette8.bmp", "rb").read())
    struct.pack_into("<I", rle, 30, 1)
    open("rle8.bmp", "wb").write(rle)
    refused("rle8.bmp", "RLE-compressed BMP")
    os2 = rgb24[:14] + struct.pack("<IHHHH", 12, 48, 36, 1, 24) + rgb24[54:]
    struct.pack_into("<I", os2, 10, 26)
    open("os2.bmp", "wb").write(os2)
    refused("os2.bmp", "OS/2 BMP")

    # ---- other formats: refused by name ----
    img.save("still.gif")
    refused("still.gif", "a GIF file")
    img.save("rgb.tif")
    refused("rgb.tif", "a TIFF file")
    img.save("rgb.ppm")
    refused("rgb.ppm", "a PNM/PFM file")
    open("text.png", "wb").write(b"this is text, not an image\n")
    refused("text.png", "unknown format")

    # ---- decompression bombs: headers with huge sizes, refused before decoding ----
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 8)) \
        + png_chunk(b"IEND", b"")
    open("bomb.png", "wb").write(bomb)
    refused("bomb.png", "over the limit")
    big = bytearray(jpeg)
    struct.pack_into(">HH", big, sof + 5, 30000, 30000)
    open("bomb.jpg", "wb").write(big)
    refused("bomb.jpg", "over the limit")
    webp = bytearray(open("lossless.webp", "rb").read())
    bits = (16383 - 1) | ((16383 - 1) << 14)
    struct.pack_into("<I", webp, 21, bits | (struct.unpack_from("<I", webp, 21)[0] & ~((1 << 28) - 1)))
    open("bomb.webp", "wb").write(webp)
    refused("bomb.webp", "over the limit")
    bmp = bytearray(rgb24)
    struct.pack_into("<ii", bmp, 18, 20000, -20000)
    open("bomb.bmp", "wb").write(bmp)
    refused("bomb.bmp", "over the limit")

    with open("expected.tsv", "w") as f:
        for row in ROWS:
            f.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()
