package org.fixres4j.dist;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.LayoutOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.DType;
import org.fixres4j.weights.TorchTensors;

/**
 * Coalescing for collectives over many small tensors: tensors of one dtype are packed, in list order, into flat
 * buffers of at most {@code bucketBytes} (a larger tensor gets a bucket of its own), each buffer goes through one
 * collective, and the results are copied back. Fewer, larger messages amortise the per-operation latency (about
 * 10 ms on loopback Gloo) that hundreds of per-tensor calls would pay.
 *
 * <p>The flat buffers are host tensors whatever the tensors' device: a data-parallel run on CUDA devices reduces its
 * gradients and broadcasts its state with Gloo over host copies (each bucket copied to a pinned host buffer, reduced,
 * copied back; {@code copy_} waits for the device where it must). NCCL, which would reduce on the devices, is mapped by
 * the preset ({@code org.bytedeco.pytorch.nccl.ProcessGroupNCCL}, JNI library only in the {@code -gpu} jar) but not
 * wired.
 */
final class Buckets {
    static {
        Torch.ensureLoaded();
    }

    /** Indices into the tensor list, all of one dtype, and their total element count. */
    record Bucket(DType dtype, List<Integer> indices, long numel) {}

    private Buckets() {}

    /** Groups by dtype (first-seen order), then fills buckets in list order up to {@code bucketBytes}. */
    static List<Bucket> plan(List<Tensor> tensors, long bucketBytes) {
        if (bucketBytes < 1) {
            throw new IllegalArgumentException("bucket size must be positive, got " + bucketBytes);
        }
        Map<DType, List<Integer>> byType = new LinkedHashMap<>();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            if (t == null || !t.defined()) {
                throw new IllegalArgumentException("tensor " + i + " of " + tensors.size() + " is undefined");
            }
            if (!t.is_cpu() && !t.is_cuda()) {
                throw new IllegalArgumentException("tensor " + i + " is neither on the CPU nor on a CUDA device");
            }
            byType.computeIfAbsent(TorchTensors.dtype(t.scalar_type()), k -> new ArrayList<>()).add(i);
        }
        List<Bucket> out = new ArrayList<>();
        for (Map.Entry<DType, List<Integer>> e : byType.entrySet()) {
            List<Integer> cur = new ArrayList<>();
            long bytes = 0;
            long numel = 0;
            for (int i : e.getValue()) {
                Tensor t = tensors.get(i);
                long b = t.numel() * t.element_size();
                if (!cur.isEmpty() && bytes + b > bucketBytes) {
                    out.add(new Bucket(e.getKey(), List.copyOf(cur), numel));
                    cur.clear();
                    bytes = 0;
                    numel = 0;
                }
                cur.add(i);
                bytes += b;
                numel += t.numel();
            }
            if (!cur.isEmpty()) {
                out.add(new Bucket(e.getKey(), List.copyOf(cur), numel));
            }
        }
        return out;
    }

    /**
     * For each bucket: packs its tensors into one contiguous 1-D buffer, hands it to {@code op} (which changes it in
     * place), and copies the buffer back into the tensors (under no-grad, whatever their layout).
     */
    static void apply(List<Tensor> tensors, List<Bucket> plan, Consumer<Tensor> op) {
        apply(tensors, plan, null, op);
    }

    /**
     * {@link #apply(List, List, Consumer)} reusing {@code buffers[i]} for bucket i when it is not null; missing ones
     * are allocated, kept alive past any scope ({@code retainReference}) and stored there, so a caller that reduces
     * every step pays no allocation (and no page faults for ~21 MB a step) after the first. The caller releases them.
     */
    @SuppressWarnings("try")
    static void apply(List<Tensor> tensors, List<Bucket> plan, Tensor[] buffers, Consumer<Tensor> op) {
        for (int bi = 0; bi < plan.size(); bi++) {
            Bucket b = plan.get(bi);
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                Tensor flat = buffers == null ? null : buffers[bi];
                if (flat == null) {
                    // always on the host: the collective (Gloo) takes host tensors; device tensors are copied
                    // through page-locked memory (pin_memory, which only a CUDA build has, only for them)
                    boolean pinned = tensors.get(b.indices().get(0)).is_cuda();
                    flat = torch.empty(new long[] {b.numel()}, new ScalarTypeOptional(tensors.get(b.indices().get(0))
                            .scalar_type()), new LayoutOptional(), new DeviceOptional(),
                            pinned ? new BoolOptional(true) : new BoolOptional(), new MemoryFormatOptional());
                    if (buffers != null) {
                        flat.retainReference();
                        buffers[bi] = flat;
                    }
                }
                long off = 0;
                for (int i : b.indices()) {
                    Tensor t = tensors.get(i);
                    long n = t.numel();
                    flat.narrow(0, off, n).view_as(t).copy_(t);
                    off += n;
                }
                op.accept(flat);
                off = 0;
                for (int i : b.indices()) {
                    Tensor t = tensors.get(i);
                    long n = t.numel();
                    t.copy_(flat.narrow(0, off, n).view_as(t));
                    off += n;
                }
            }
        }
    }

    /** A fingerprint of names, dtypes and shapes (FNV-1a), to check that every rank holds the same layout. */
    static long fingerprint(List<String> names, List<Tensor> tensors) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            h = mix(h, names == null ? i : names.get(i).hashCode());
            h = mix(h, TorchTensors.dtype(t.scalar_type()).ordinal());
            for (long d : shape(t)) {
                h = mix(h, d);
            }
            h = mix(h, -1);
        }
        return h;
    }

    /** The sizes of {@code t}. */
    static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.size(i);
        }
        return s;
    }

    private static long mix(long h, long v) {
        for (int k = 0; k < 8; k++) {
            h ^= (v >>> (8 * k)) & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /**
     * Throws on every rank, naming the ranks, when the ranks' lists differ in length, names, dtypes or shapes (a
     * mismatch would otherwise corrupt the collective or hang it). One small allgather.
     */
    static void checkSameLayout(Collective c, String what, List<String> names, List<Tensor> tensors) {
        long[][] all = c.allGather(new long[] {tensors.size(), fingerprint(names, tensors)});
        List<Integer> differ = new ArrayList<>();
        for (int r = 1; r < all.length; r++) {
            if (all[r][0] != all[0][0] || all[r][1] != all[0][1]) {
                differ.add(r);
            }
        }
        if (!differ.isEmpty()) {
            StringBuilder sb = new StringBuilder("the ranks' " + what + " differ: rank 0 has " + all[0][0]
                    + " tensors");
            for (int r : differ) {
                sb.append(", rank ").append(r).append(" has ").append(all[r][0])
                        .append(all[r][0] == all[0][0] ? " with other names, dtypes or shapes" : "");
            }
            throw new IllegalStateException(sb.toString());
        }
    }
}
