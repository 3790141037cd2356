#!/usr/bin/python3
"""Fixtures for org.fixres4j.weights (tests/java/org/fixres4j/weights).

    /usr/bin/python3 tests/data/weights/make_fixtures.py            # (re)write every fixture next to this script
    /usr/bin/python3 tests/data/weights/make_fixtures.py check-safetensors FILE

Writing needs torch (Debian's python3-torch 1.13 was used) and numpy. For every fixture `X.pth` / `X.safetensors`
the expected tensors are in `X.expected.npz`, one array per key in state-dict order, with the key names the Java
reader must produce (after unwrapping and 'module.' stripping). bfloat16 tensors are stored there as their raw uint16
bits ('<u2'); every other dtype as itself.

`check-safetensors` reads a safetensors file with the strict pure-Python reader below (json + struct; the
`safetensors` package is not in Debian bookworm) and prints one line per tensor, `name dtype shape sha256-of-bytes`,
in header order; when torch is importable it also rebuilds every tensor with torch.frombuffer and hashes the
tensor's bytes instead of the file's. The Java test compares those lines with its own. Exit status 1 with a message
on any format violation.

Pickling never executes anything: the malicious fixtures below only *describe* a call to os.system; do not
torch.load() them (they would run `echo pwned > $TMPDIR/fixres4j-pwned-marker`, which is harmless).
"""

import collections
import hashlib
import io
import json
import os
import pickle
import pickletools
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PWNED_MARKER = os.path.join(tempfile.gettempdir(), "fixres4j-pwned-marker")

# safetensors dtype names, in the Rust crate's enum order (the writer sorts by descending position, then by name)
ST_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64",
            "I64", "U64"]
ST_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4,
           "F64": 8, "I64": 8, "U64": 8, "F8_E5M2": 1, "F8_E4M3": 1}
MAX_HEADER_SIZE = 100_000_000


# ---------------------------------------------------------------------------------------------- pure-Python safetensors

def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, dtype string, shape list, raw little-endian C-order bytes). Mirrors the Rust writer:
    sort by descending dtype then name, compact JSON with __metadata__ first, pad the header with spaces to 8."""
    items = sorted(tensors, key=lambda t: t[0])
    items = sorted(items, key=lambda t: ST_ORDER.index(t[1]), reverse=True)  # stable: name order within a dtype
    header = collections.OrderedDict()
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, dtype, shape, data in items:
        n = 1
        for d in shape:
            n *= d
        assert len(data) == n * ST_SIZE[dtype], name
        header[name] = collections.OrderedDict(
            [("dtype", dtype), ("shape", list(shape)), ("data_offsets", [offset, offset + len(data)])])
        offset += len(data)
    hb = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for _, _, _, data in items:
            f.write(data)


def read_safetensors(path):
    """Strict reader following the Rust crate's checks. Returns (metadata, [(name, dtype, shape, bytes)]) in
    header order, and the raw header bytes."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError("HeaderTooSmall")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > MAX_HEADER_SIZE:
        raise ValueError("HeaderTooLarge")
    if 8 + n > len(buf):
        raise ValueError("InvalidHeaderLength")
    raw = buf[8:8 + n]
    text = raw.decode("utf-8")
    if not text.startswith("{"):
        raise ValueError("InvalidHeaderStart")
    header = json.loads(text, object_pairs_hook=collections.OrderedDict)
    metadata = header.pop("__metadata__", None)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise ValueError("__metadata__ must map strings to strings")
    entries = list(header.items())
    by_offset = sorted(entries, key=lambda kv: tuple(kv[1]["data_offsets"]))
    start = 0
    for name, info in by_offset:
        if set(info.keys()) != {"dtype", "shape", "data_offsets"}:
            raise ValueError("unexpected fields for %s: %s" % (name, list(info.keys())))
        s, e = info["data_offsets"]
        if s != start or e < s:
            raise ValueError("InvalidOffset(%s)" % name)
        start = e
        count = 1
        for d in info["shape"]:
            if not isinstance(d, int) or d < 0:
                raise ValueError("bad shape for %s" % name)
            count *= d
        if info["dtype"] not in ST_SIZE:
            raise ValueError("unknown dtype %s" % info["dtype"])
        if count * ST_SIZE[info["dtype"]] != e - s:
            raise ValueError("TensorInvalidInfo(%s)" % name)
    if start + 8 + n != len(buf):
        raise ValueError("MetadataIncompleteBuffer")
    data = buf[8 + n:]
    out = [(name, info["dtype"], info["shape"], data[info["data_offsets"][0]:info["data_offsets"][1]])
           for name, info in entries]
    return metadata, out, raw


def check_safetensors(path):
    metadata, tensors, raw = read_safetensors(path)
    if len(raw) % 8 != 0:
        raise ValueError("header length %d is not a multiple of 8" % len(raw))
    stripped = raw.rstrip(b" ")
    if not stripped.endswith(b"}") or len(raw) - len(stripped) >= 8:
        raise ValueError("header padding is not 0-7 spaces after the JSON")
    # the Rust writer's layout: data in header order, sorted by descending dtype then name
    order = [(-ST_ORDER.index(d), name) for name, d, _, _ in tensors]
    if order != sorted(order):
        raise ValueError("tensors are not in the safetensors writer's order (descending dtype, then name)")
    try:
        import torch
        tdt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
               "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
               "BOOL": torch.bool}
    except ImportError:
        torch = None
    if metadata is not None:
        print("__metadata__ " + json.dumps(metadata, sort_keys=True, separators=(",", ":")))
    for name, dtype, shape, data in tensors:
        if torch is not None and len(data) > 0:
            t = torch.frombuffer(bytearray(data), dtype=tdt[dtype]).reshape(shape)
            data = t.contiguous().view(torch.uint8).numpy().tobytes() if t.dim() > 0 else \
                t.reshape(1).view(torch.uint8).numpy().tobytes()
        print("%s %s %s %s" % (name, dtype, json.dumps(shape, separators=(",", ":")), hashlib.sha256(data).hexdigest()))


# ---------------------------------------------------------------------------------------------- fixtures

def raw_bytes(t):
    import torch
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.reshape(-1).numpy().tobytes() if t.dim() > 0 else t.reshape(1).numpy().tobytes()


def expected_array(t):
    import torch
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view("<u2").copy()
    return t.numpy().copy()


def save_expected(name, tensors):
    import numpy as np
    arrays = collections.OrderedDict((k, expected_array(v)) for k, v in tensors.items())
    with open(os.path.join(HERE, name + ".expected.npz"), "wb") as f:
        np.savez(f, **arrays)


def basic_dict():
    import torch
    g = torch.Generator().manual_seed(1234)
    d = collections.OrderedDict()
    d["conv.weight"] = torch.randn(4, 3, 3, 3, generator=g)
    d["conv.bias"] = torch.tensor([0.5, -1.25, 3.0e-8, 65504.0])
    d["scalar"] = torch.tensor(2.5)
    d["empty"] = torch.zeros(0, 3)
    d["half"] = (torch.randn(2, 5, generator=g) * 10).half()
    d["bf16"] = (torch.randn(3, 2, generator=g) * 100).bfloat16()
    d["f64"] = torch.tensor([[1.0 / 3.0, -2.0e-300], [1e300, 0.1]], dtype=torch.float64)
    d["i64"] = torch.tensor([0, -1, 2 ** 62, -(2 ** 63), 7], dtype=torch.int64)
    d["i32"] = torch.tensor([-(2 ** 31), 2 ** 31 - 1, 5], dtype=torch.int32)
    d["i16"] = torch.tensor([-32768, 32767], dtype=torch.int16)
    d["i8"] = torch.tensor([-128, 127, 0], dtype=torch.int8)
    d["u8"] = torch.tensor([0, 255, 17, 3], dtype=torch.uint8)
    d["flags"] = torch.tensor([True, False, True])
    d["bn.num_batches_tracked"] = torch.tensor(42)
    return d


def views_dict():
    import torch
    base = torch.arange(20, dtype=torch.float32) * 0.25 - 1.0
    m = torch.arange(12, dtype=torch.float32).reshape(3, 4) + 100.0
    d = collections.OrderedDict()
    d["transposed"] = m.t()                      # non-contiguous, stride (1, 4)
    d["matrix"] = m                              # shares m's storage with "transposed"
    d["slice"] = base[2:8]                       # offset 2 into base's storage
    d["block"] = base[10:20].view(2, 5)          # offset 10, same storage
    d["every_third"] = base[::3]                 # stride 3
    d["column"] = m[:, 1]                        # offset 1, stride 4
    d["expanded"] = torch.tensor([1.5, -2.5, 3.5]).expand(4, 3)   # stride (0, 1)
    d["permuted"] = torch.arange(24, dtype=torch.int64).reshape(2, 3, 4).permute(2, 0, 1)
    d["half_t"] = torch.arange(6, dtype=torch.float16).reshape(2, 3).t()
    return d


def module_state():
    import torch
    import torch.nn as nn
    torch.manual_seed(7)
    net = nn.Sequential(collections.OrderedDict([
        ("conv", nn.Conv2d(3, 4, 3, bias=False)),
        ("bn", nn.BatchNorm2d(4)),
        ("act", nn.ReLU()),
        ("pool", nn.AdaptiveAvgPool2d(1)),
        ("flat", nn.Flatten()),
        ("fc", nn.Linear(4, 2)),
    ]))
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        loss = net(torch.randn(2, 3, 6, 6)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, opt


class Evil(object):
    """Pickles as a call of os.system (posix.system on Linux): a loader that executes globals would run it."""

    def __reduce__(self):
        return (os.system, ("echo pwned > " + PWNED_MARKER,))


class EvilEval(object):
    def __reduce__(self):
        import builtins
        return (builtins.eval, ("open(%r, 'w').write('pwned')" % PWNED_MARKER,))


def legacy_damaged(out):
    """legacy_huge_count.pth: the first storage's 8-byte element count says 2**60 (bounds check, no huge allocation)."""
    import torch
    buf = io.BytesIO()
    torch.save(collections.OrderedDict([("w", torch.ones(3))]), buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    f = io.BytesIO(data)
    for _ in range(5):  # skip the magic, protocol, sys_info, main and storage-key pickles without loading them
        for _op in pickletools.genops(f):
            pass
    pos = f.tell()
    assert struct.unpack("<q", data[pos:pos + 8])[0] == 3
    with open(out("legacy_huge_count.pth"), "wb") as g:
        g.write(data[:pos] + struct.pack("<q", 2 ** 60) + data[pos + 8:])


def zip_damaged(out, sd):
    """zip_missing_record.pth lacks the record of storage 0; zip_short_record.pth has it cut to 4 bytes."""
    import zipfile
    import torch
    buf = io.BytesIO()
    torch.save(sd, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    for name, mode in (("zip_missing_record.pth", "drop"), ("zip_short_record.pth", "short")):
        with zipfile.ZipFile(out(name), "w", zipfile.ZIP_STORED) as z:
            for info in src.infolist():
                payload = src.read(info.filename)
                if info.filename.endswith("/data/0"):
                    if mode == "drop":
                        continue
                    payload = payload[:4]
                z.writestr(info.filename.replace("archive/", "damaged/"), payload)


def make_all():
    import numpy as np
    import torch
    print("torch", torch.__version__, "numpy", np.__version__)
    out = lambda name: os.path.join(HERE, name)

    basic = basic_dict()
    torch.save(basic, out("zip_basic.pth"))
    save_expected("zip_basic", basic)
    torch.save(basic, out("legacy_basic.pth"), _use_new_zipfile_serialization=False)
    save_expected("legacy_basic", basic)

    views = views_dict()
    torch.save(views, out("zip_views.pth"))
    save_expected("zip_views", views)
    torch.save(views, out("legacy_views.pth"), _use_new_zipfile_serialization=False)
    save_expected("legacy_views", views)

    net, opt = module_state()
    sd = net.state_dict()
    assert "bn.num_batches_tracked" in sd
    torch.save(sd, out("module_state.pth"))
    save_expected("module_state", sd)
    torch.save(sd, out("module_state_legacy.pth"), _use_new_zipfile_serialization=False)
    save_expected("module_state_legacy", sd)

    torch.save(sd, out("zip_proto4.pth"), pickle_protocol=4)
    save_expected("zip_proto4", sd)
    torch.save(basic, out("legacy_proto5.pth"), _use_new_zipfile_serialization=False, pickle_protocol=5)
    save_expected("legacy_proto5", basic)

    wrapped = collections.OrderedDict(("module." + k, v) for k, v in sd.items())
    ema = collections.OrderedDict(("module." + k, v * 0.5 if v.is_floating_point() else v) for k, v in sd.items())
    ckpt = {
        "epoch": 3,
        "arch": "tiny_net",
        "state_dict": wrapped,
        "optimizer": opt.state_dict(),
        "state_dict_ema": ema,
        "metric": 0.875,
        "note": b"bytes survive",
        "tags": {"a", "b"},
    }
    torch.save(ckpt, out("checkpoint.pth"))
    save_expected("checkpoint", sd)
    save_expected("checkpoint_ema", collections.OrderedDict((k[len("module."):], v) for k, v in ema.items()))

    # an attack: torch.save pickles Evil() as GLOBAL posix.system + REDUCE (nothing runs while saving)
    torch.save({"weight": torch.ones(2), "payload": Evil()}, out("malicious_zip.pth"))
    torch.save({"weight": torch.ones(2), "payload": Evil()}, out("malicious_legacy.pth"),
               _use_new_zipfile_serialization=False)
    with open(out("malicious_eval.pth"), "wb") as f:
        pickle.dump(EvilEval(), f, protocol=2)   # a bare pickle: the first opcode names builtins.eval

    # safetensors written by Python (pure json+struct, following the format spec and the Rust writer's layout)
    st = collections.OrderedDict()
    st["conv_stem.weight"] = basic["conv.weight"]
    st["bn1.bias"] = basic["conv.bias"]
    st["bn1.num_batches_tracked"] = basic["bn.num_batches_tracked"]
    st["blocks.0.0.half"] = basic["half"]
    st["blocks.0.0.bf16"] = basic["bf16"]
    st["f64"] = basic["f64"]
    st["scalar"] = basic["scalar"]
    st["empty"] = basic["empty"]
    st["u8"] = basic["u8"]
    st["flags"] = basic["flags"]
    st["i32"] = basic["i32"]
    dt = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
          torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL"}
    write_safetensors(out("python.safetensors"),
                      [(k, dt[v.dtype], list(v.shape), raw_bytes(v)) for k, v in st.items()],
                      metadata={"format": "pt", "note": "written by make_fixtures.py"})
    # expected order = the file's (writer) order, which the Java reader keeps
    _, entries, _ = read_safetensors(out("python.safetensors"))
    save_expected("python", collections.OrderedDict((name, st[name]) for name, _, _, _ in entries))

    # top-level dict mixing tensors and other values, without a wrapper key
    mixed = collections.OrderedDict([("w", torch.arange(4, dtype=torch.float32)), ("epoch", 3), ("name", "x"),
                                     ("b", torch.tensor([1, 2], dtype=torch.int64))])
    torch.save(mixed, out("mixed_top.pth"))
    save_expected("mixed_top", collections.OrderedDict([("w", mixed["w"]), ("b", mixed["b"])]))
    # a whole pickled module (not a state dict): needs torch.nn classes, which the allow-list refuses
    torch.save(net, out("whole_module.pth"))

    # damaged files
    # a 2-element storage viewed as a 320 MB tensor (stride 0): refused before anything is allocated
    torch.save({"bomb": torch.tensor([1.0, 2.0]).expand(40_000_000, 2)}, out("expand_bomb.pth"))
    legacy_damaged(out)
    zip_damaged(out, sd)

    # plain pickles of the same value under every protocol, for the opcode coverage of the Java unpickler
    shared = [9, "x"]
    plain = collections.OrderedDict([
        ("int", 1), ("neg", -5), ("i2", 40000), ("i4", -70000), ("big", 2 ** 70), ("bigneg", -(2 ** 65)),
        ("float", 1.5), ("tiny", -2.5e-300), ("inf", float("inf")), ("str", "h\u00e9llo \u2603 \"q\" \\ \n"),
        ("bytes", b"\x00\xff\n"), ("tuple", (1, 2, 3)), ("t1", (1,)), ("t2", ("a", None)), ("t4", (1, 2, 3, 4)),
        ("empty", ()), ("list", [1, [2, 3.25]]), ("none", None), ("true", True), ("false", False),
        ("od", collections.OrderedDict([("b", 1), ("a", 2)])), ("set", {7}), ("frozen", frozenset({8})),
        ("nested", {"k": {"k2": []}}), ("s1", shared), ("s2", shared),
    ])
    for proto in range(6):
        with open(out("plain_p%d.pkl" % proto), "wb") as f:
            pickle.dump(plain, f, protocol=proto)

    total = 0
    for name in sorted(os.listdir(HERE)):
        if name.endswith((".pth", ".safetensors", ".npz", ".pkl")):
            size = os.path.getsize(out(name))
            total += size
            print("%8d %s" % (size, name))
    print("%8d total" % total)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check-safetensors":
        try:
            check_safetensors(sys.argv[2])
        except Exception as e:  # noqa: BLE001 - report any violation
            print("INVALID: %s: %s" % (type(e).__name__, e), file=sys.stderr)
            sys.exit(1)
    elif len(sys.argv) == 1:
        make_all()
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
