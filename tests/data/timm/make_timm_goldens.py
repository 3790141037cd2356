#!/usr/bin/python3
"""Makes the timm parity goldens of tests/data/timm (read by org.fixres4j.model.TimmParityTest).

Requirements (none of them committed here):
  * /usr/bin/python3 with Debian's python3-torch (1.13) and numpy;
  * timm 0.9.x on PYTHONPATH, e.g. ``git -C <pytorch-image-models mirror> archive v0.9.16 | tar -x -C "$TIMM_DIR"``
    then ``PYTHONPATH="$TIMM_DIR" /usr/bin/python3 tests/data/timm/make_timm_goldens.py``.
    timm 0.9.16 imports huggingface_hub and safetensors only optionally; nothing was stubbed or patched to run it.

Weights are not stored (a B0 is 21 MB): every tensor of a model's state dict, and every input batch, is made from a
deterministic rule that the Java test implements too (SeededWeights.java), so both sides build identical weights:

  seed(key)  = FNV-1a 64 of the key's UTF-8 bytes
  z_i        = seed + (i + 1) * 0x9E3779B97F4A7C15 (mod 2^64), i = 0 .. numel-1 in C order
  z_i        = splitmix64 finaliser of z_i
  u_i        = (z_i >> 40) / 2^24                       (24 bits, exact in float32 and float64)
  value_i    = float32(lo + (hi - lo) * u_i)            (computed in float64, rounded once)

with (lo, hi) chosen from the key (see ``bounds``): BN weight [0.6, 1.4], BN bias [-0.2, 0.2], conv / linear
weights He-uniform +-sqrt(6 / fan_in), biases [-0.1, 0.1], num_batches_tracked 0, inputs (key "input") [-2, 2].

BN running statistics drawn from a fixed rule leave a deep random network either exploding or forgetting its input
(measured: with random mean/var the logits of two different inputs differed by < 1e-3 of their size for B0, or grew
to 1e4 for B3, where float32 rounding alone then moved the logits by 10 %). So they are calibrated instead, and stored
(<model>.bn_stats.npy: running_mean then running_var of every BN in state-dict order, ~170 KB for B0): each BN gets
the statistics of the input it receives on a calibration batch (key "calibration"), randomised: mean += U(-0.2, 0.2) *
std, var *= U(0.6, 1.4) (see bn_stats_file). The goldens are then made in eval mode with those statistics: the logits
of different inputs differ by tens of per cent, and float32 rounding moves them by < 1e-5 (checked against a float64
run of the same model; recorded per case as float32_vs_float64).

One case ("tiny_tf_pth") instead stores its weights exactly as ``torch.save(model.state_dict())`` writes them
(torch's own seeded init plus randomised BN statistics), for a width-0.25 / depth-0.3 TF EfficientNet with 10 classes,
to prove that such a file loads. Outputs: cases.json (the manifest) and one .npy per stored array.
"""
import copy
import json
import math
import os
import sys

import numpy as np
import torch
import timm
from timm.models.efficientnet import _gen_efficientnet

OUT = os.path.dirname(os.path.abspath(__file__))
M64 = (1 << 64) - 1


def fnv1a64(key):
    h = 0xCBF29CE484222325
    for b in key.encode('utf-8'):
        h ^= b
        h = (h * 0x100000001B3) & M64
    return h


def seeded_uniform(key, shape, lo, hi):
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over='ignore'):
        z = np.uint64(fnv1a64(key)) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)
    return (lo + (hi - lo) * u).astype(np.float32).reshape(shape)


def bounds(key, shape):
    """(lo, hi) of a state-dict entry, from its name and shape only."""
    module, _, leaf = key.rpartition('.')
    last = module.rpartition('.')[2]
    if leaf == 'running_mean':
        return -0.2, 0.2
    if leaf == 'running_var':
        return 0.5, 1.5
    if last.startswith('bn'):
        return (0.6, 1.4) if leaf == 'weight' else (-0.2, 0.2)
    if leaf == 'bias':
        return -0.1, 0.1
    fan_in = int(np.prod(shape[1:]))
    a = math.sqrt(6.0 / fan_in)
    return -a, a


def seeded_state_dict(model, bn_stats=None):
    """The rule's state dict; with bn_stats (the flat array of a .bn_stats.npy) for the running statistics."""
    sd = {}
    offset = 0
    for key, t in model.state_dict().items():
        if key.endswith('running_mean') or key.endswith('running_var'):
            if bn_stats is not None:
                n = t.numel()
                sd[key] = torch.from_numpy(bn_stats[offset:offset + n].copy()).reshape(t.shape)
                offset += n
                continue
        if key.endswith('num_batches_tracked'):
            sd[key] = torch.zeros_like(t)
        else:
            lo, hi = bounds(key, tuple(t.shape))
            sd[key] = torch.from_numpy(seeded_uniform(key, tuple(t.shape), lo, hi))
    assert bn_stats is None or offset == bn_stats.size
    return sd


_BN_STATS = {}


def bn_stats_file(model_name, res):
    """Calibrates (once per model) and saves the randomised BN running statistics; returns the file name.

    One eval-mode pass over the calibration batch in which a forward pre-hook on every BN first sets that BN's
    running statistics from the input it actually receives (given the already randomised BNs before it), then
    randomises them: so every BN output is close to normalised and the perturbations do not compound with depth.
    """
    if model_name in _BN_STATS:
        return _BN_STATS[model_name]
    model = timm.create_model(model_name, pretrained=False)
    model.load_state_dict(seeded_state_dict(model), strict=True)
    model.eval()
    gen = torch.Generator().manual_seed(20240601)

    def calibrate(bn, inputs):
        x = inputs[0].double()
        mean = x.mean((0, 2, 3))
        var = x.var((0, 2, 3), unbiased=True)
        shift = (torch.rand(mean.shape, generator=gen, dtype=torch.float64) * 0.4 - 0.2) * var.sqrt()
        scale = torch.rand(var.shape, generator=gen, dtype=torch.float64) * 0.8 + 0.6
        bn.running_mean.copy_(mean + shift)
        bn.running_var.copy_(var * scale)

    hooks = [m.register_forward_pre_hook(calibrate) for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        model(torch.from_numpy(seeded_uniform('calibration', (4, 3, res, res), -2.0, 2.0)))
    for h in hooks:
        h.remove()
    sd = model.state_dict()
    flat = []
    for k in sd:  # per BN in state-dict order: running_mean then running_var
        if k.endswith('running_mean') or k.endswith('running_var'):
            flat.append(sd[k].numpy().ravel())
    name = save(model_name + '.bn_stats.npy', np.concatenate(flat))
    _BN_STATS[model_name] = name
    return name


def float64_error(model, x, logits):
    """max |float32 logits - float64 logits| / max |float64 logits|: how far rounding alone moves this golden."""
    m64 = copy.deepcopy(model).double()
    with torch.no_grad():
        ref = m64(x.double())
    return float((logits.double() - ref).abs().max() / ref.abs().max())


def save(name, array):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(array, dtype=np.float32))
    return name


def load_stats(file):
    return np.load(os.path.join(OUT, file))


def eval_case(cases, name, model_name, batch, h, w, calib_res):
    stats = bn_stats_file(model_name, calib_res)
    model = timm.create_model(model_name, pretrained=False)
    model.load_state_dict(seeded_state_dict(model, load_stats(stats)), strict=True)
    model.eval()
    x = torch.from_numpy(seeded_uniform('input', (batch, 3, h, w), -2.0, 2.0))
    with torch.no_grad():
        feats = model.forward_features(x)
        pooled = model.forward_head(feats, pre_logits=True)
        logits = model.forward_head(feats)
    cases.append({
        'name': name, 'model': model_name, 'mode': 'eval', 'input_shape': [batch, 3, h, w],
        'num_classes': model.num_classes, 'bn_stats': stats,
        'logits': save(name + '.logits.npy', logits.numpy()),
        'pre_logits': save(name + '.pre_logits.npy', pooled.numpy()),
        'feature_shape': list(feats.shape),
        'feature_sum': float(feats.double().sum()),
        'params': sum(p.numel() for p in model.parameters()),
        'state_dict_entries': len(model.state_dict()),
        'float32_vs_float64': float64_error(model, x, logits),
    })
    assert cases[-1]['float32_vs_float64'] < 1e-5, cases[-1]
    spread = float((logits - logits.mean(0)).abs().max() / logits.abs().max()) if batch > 1 else float('nan')
    print(name, 'logits', tuple(logits.shape), 'max |logit| %.3g' % float(logits.abs().max()),
          'std %.3g' % float(logits.std()), 'input-dependent part %.3g' % spread, file=sys.stderr)


def train_case(cases, name, model_name, batch, h, w, num_classes, calib_res):
    """One training step's forward and backward (BN batch statistics, no dropout / drop path)."""
    stats = bn_stats_file(model_name, calib_res)
    model = timm.create_model(model_name, pretrained=False, num_classes=num_classes)
    stats_sd = seeded_state_dict(timm.create_model(model_name, pretrained=False), load_stats(stats))
    sd = seeded_state_dict(model)
    sd.update({k: v for k, v in stats_sd.items() if 'running' in k})
    model.load_state_dict(sd, strict=True)
    model.train()
    x = torch.from_numpy(seeded_uniform('input', (batch, 3, h, w), -2.0, 2.0))
    labels = torch.arange(batch) % num_classes
    logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    sd = model.state_dict()
    grads = {k: p.grad for k, p in model.named_parameters()}
    keys = ['conv_stem.weight', 'blocks.1.0.conv_dw.weight', 'blocks.5.1.se.conv_reduce.bias', 'classifier.weight']
    cases.append({
        'name': name, 'model': model_name, 'mode': 'train', 'input_shape': [batch, 3, h, w],
        'num_classes': num_classes, 'bn_stats': stats, 'labels': labels.tolist(), 'loss': float(loss),
        'logits': save(name + '.logits.npy', logits.detach().numpy()),
        'grads': {k: save(name + '.grad.' + k + '.npy', grads[k].numpy()) for k in keys},
        'running': {k: save(name + '.' + k + '.npy', sd[k].numpy())
                    for k in ['bn1.running_mean', 'bn1.running_var', 'blocks.6.0.bn3.running_var']},
        'bn1_num_batches_tracked': int(sd['bn1.num_batches_tracked']),
    })
    print(name, 'loss', float(loss), file=sys.stderr)


def pth_case(cases):
    """A small TF-style EfficientNet saved with torch.save(model.state_dict()), and its logits."""
    torch.manual_seed(1234)
    model = _gen_efficientnet('tiny_tf', channel_multiplier=0.25, depth_multiplier=0.3, num_classes=10,
                              bn_eps=1e-3, pad_type='same')
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.6, 1.4)
                m.bias.uniform_(-0.2, 0.2)
                m.num_batches_tracked.fill_(7)
    model.eval()
    torch.save(model.state_dict(), os.path.join(OUT, 'tiny_tf.pth'))
    x = torch.from_numpy(seeded_uniform('input', (2, 3, 67, 80), -2.0, 2.0))
    with torch.no_grad():
        logits = model(x)
    cases.append({
        'name': 'tiny_tf_pth', 'model': 'custom', 'mode': 'eval', 'input_shape': [2, 3, 67, 80],
        'width': 0.25, 'depth': 0.3, 'tf': True, 'num_classes': 10, 'pth': 'tiny_tf.pth',
        'logits': save('tiny_tf_pth.logits.npy', logits.numpy()),
        'params': sum(p.numel() for p in model.parameters()),
        'state_dict_entries': len(model.state_dict()),
    })


def main():
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    cases = []
    eval_case(cases, 'tf_efficientnet_b0_224', 'tf_efficientnet_b0', 2, 224, 224, 224)
    eval_case(cases, 'tf_efficientnet_b0_239', 'tf_efficientnet_b0', 2, 239, 239, 224)
    eval_case(cases, 'tf_efficientnet_b0_201x263', 'tf_efficientnet_b0', 1, 201, 263, 224)
    eval_case(cases, 'efficientnet_b0_224', 'efficientnet_b0', 2, 224, 224, 224)
    eval_case(cases, 'efficientnet_b1_255', 'efficientnet_b1', 1, 255, 255, 240)
    eval_case(cases, 'tf_efficientnet_b3_300', 'tf_efficientnet_b3', 2, 300, 300, 300)
    train_case(cases, 'tf_efficientnet_b0_train_96', 'tf_efficientnet_b0', 4, 96, 96, 10, 224)
    pth_case(cases)
    check = {k: seeded_uniform(k, (4,), *b).tolist() for k, b in
             [('conv_stem.weight', bounds('conv_stem.weight', (32, 3, 3, 3))), ('input', (-2.0, 2.0))]}
    manifest = {
        'generator': 'tests/data/timm/make_timm_goldens.py',
        'timm': timm.__version__, 'torch': torch.__version__, 'numpy': np.__version__,
        'rule_check': {'conv_stem.weight[32,3,3,3] first 4': check['conv_stem.weight'],
                       'input first 4': check['input']},
        'cases': cases,
    }
    with open(os.path.join(OUT, 'cases.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
