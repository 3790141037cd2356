package org.fixres4j.data;

import java.util.Objects;
import java.util.function.UnaryOperator;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * How an evaluation on the CPU shares the cores between the {@link BatchLoader}'s decode threads and the forward
 * pass, and how large a forward pass is.
 *
 * <p><b>The thread split.</b> Decoding a JPEG of about 500x375 and preprocessing it costs about a tenth of what the
 * forward pass of EfficientNet-B0 costs per image (on a 2-vCPU Sapphire Rapids VM: about 650 images/s per thread
 * against about 60 images/s for the model on both). So the model gets every core as libtorch intra-op threads (the
 * fused depthwise kernel's pool follows libtorch's count), and the loader gets one thread per eight cores (at least
 * one), which is busy about a tenth of the time; on more than four cores its threads are taken from the model's,
 * so that they never share a core. The loader's consumer thread, the one that runs the model, loads samples itself
 * whenever it would otherwise wait for a batch ({@link BatchLoader.Builder#consumerHelps(boolean)}), so the cores are
 * not idle at the start of an epoch either. On two cores, one loader thread and two compute threads ran eval end to
 * end 12% faster than one and one (the loader's thread rarely runs, the model's second thread always does).
 *
 * <p><b>Loading during the forward pass, or between.</b> Where the loader's thread shares a core with one of
 * libtorch's OpenMP threads, it can pre-empt that thread, and the team's other threads then wait at the next
 * barrier. The alternative, {@link BatchLoader.Builder#overlap(boolean) overlap(false)}, loads only in the gaps
 * between forward passes, on the loader's threads and the model's thread together (about 17 ms a batch of 32 on two
 * cores, against about 220 ms for the forward pass). Measured on a 2-vCPU Sapphire Rapids VM as the launcher runs it
 * (glibc's malloc keeping freed memory, so that the forward pass no longer faults its activations in;
 * docs/PERFORMANCE.md), batch 32, both cores, in the same session: loading between forward passes ran eval end to
 * end at 135.8 images/s against 127.2 overlapped in float32 (the 400 images' forward passes took 2.72 s against
 * 3.12 s, for 0.22 s more waiting), and 186.4 against 181.3 in bfloat16; on one core (batch 8) 65.2 against 59.2.
 * So the loader overlaps the forward pass only where it has cores of its own ({@link #overlaps}). While the forward
 * pass still page-faulted (glibc's default), the two were even: the loader's thread ran in the kernel's share of the
 * forward pass. The logits are the same either way: the split changes when images are loaded, not the forward pass.
 *
 * <p><b>Streams.</b> In bfloat16 on two or more compute threads, eval runs each batch as one slice per thread at once
 * ({@link org.fixres4j.model.BatchStreams}, {@link #streams}) instead of one pass with libtorch's threads inside each
 * operator: the bf16 convolutions are fast enough that the serial gaps between the pass's ~300 operator calls held two
 * threads to about 1.6x one. Float32 keeps one pass, so that its logits stay timm's (one pass was also the faster at
 * batch 8 there; streams were 7% faster at batch 32).
 *
 * <p><b>Forward passes in chunks.</b> On the CPU the activations of a large batch outgrow the caches: at one thread,
 * EfficientNet-B0 at 224 runs faster at batch 8 than at batch 32. {@link #chunked(UnaryOperator, int)} runs a batch
 * through the model a few images at a time and concatenates the logits. It is not eval's default: libtorch's kernels
 * do not promise the same result for a row whatever the batch around it (on a small EfficientNet at 64 px, chunks of
 * two gave logits one unit in the last place away from one pass over a batch of four), and eval's logits must not
 * depend on how it runs. At two compute threads, where eval runs on two cores, chunks gain nothing measurable
 * (docs/PERFORMANCE.md); {@code fixres bench eval --chunk} measures them.
 */
public final class EvalPipeline {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    private EvalPipeline() {}

    /**
     * A split of {@code cores} between the loader and the model.
     *
     * @param loaderThreads the loader's decode and preprocessing threads
     * @param computeThreads libtorch's intra-op threads for the forward pass (the fused depthwise kernel uses as many)
     * @param overlap whether the loader's threads load while the forward pass runs ({@link
     *     BatchLoader.Builder#overlap(boolean)}), or only in the gaps between forward passes
     */
    public record Split(int loaderThreads, int computeThreads, boolean overlap) {
        /** Checks that both counts are at least one. */
        public Split {
            if (loaderThreads < 1 || computeThreads < 1) {
                throw new IllegalArgumentException("a split needs at least one loader and one compute thread, got "
                        + loaderThreads + " and " + computeThreads);
            }
        }

        /** A split whose loader loads while the forward pass runs. */
        public Split(int loaderThreads, int computeThreads) {
            this(loaderThreads, computeThreads, true);
        }
    }

    /**
     * Whether a loader of {@code loaderThreads} should load during the forward passes of {@code computeThreads} on
     * {@code cores} cores: only where they do not share a core; else loading waits for the gaps between forward
     * passes (see the class comment).
     */
    public static boolean overlaps(int loaderThreads, int computeThreads, int cores) {
        return loaderThreads + computeThreads <= cores;
    }

    /**
     * The split of {@code cores} for an evaluation: one loader thread per eight cores (at least one); the model gets
     * every core up to four, and the cores the loader does not take above four. One core: 1 + 1, two: 1 + 2, four:
     * 1 + 4, eight: 1 + 7, sixteen: 2 + 14. The loader loads during forward passes only on more than four cores,
     * where it has cores of its own ({@link #overlaps}).
     */
    public static Split split(int cores) {
        if (cores < 1) {
            throw new IllegalArgumentException("cores must be >= 1, got " + cores);
        }
        int loader = Math.max(1, cores / 8);
        int compute = cores <= 4 ? cores : cores - loader;
        return new Split(loader, compute, overlaps(loader, compute, cores));
    }

    /**
     * How many {@link org.fixres4j.model.BatchStreams streams} a CPU forward pass of the fast path runs on, for
     * {@code computeThreads} libtorch threads: {@code requested} when given (at most {@code computeThreads}); else, in
     * bfloat16 with two or more threads, one stream per thread (EfficientNet-B0 on a 2-vCPU Intel Xeon (Sapphire
     * Rapids) VM: 6-10% faster than one pass on both threads at batch 8, 13% at batch 32), and one stream (one pass,
     * libtorch's threads inside each operator) otherwise: float32's logits are timm's whatever the thread count, and a
     * batch cut into slices could change their last bits.
     *
     * @throws IllegalArgumentException for a requested count below one
     */
    public static int streams(boolean bf16, int computeThreads, Integer requested) {
        if (requested != null) {
            if (requested < 1) {
                throw new IllegalArgumentException("--streams must be at least 1, got " + requested);
            }
            return Math.min(requested, Math.max(1, computeThreads));
        }
        return bf16 && computeThreads >= 2 ? computeThreads : 1;
    }

    /**
     * {@code forward} applied to {@code chunk} images at a time of its input's first dimension, the outputs
     * concatenated along it. No chunk holds a single image: a chunk of 1 means 2, a batch no larger than {@code
     * chunk + 1} goes through in one call, and a last chunk of one image joins the one before it. The logits may differ
     * in the last bit from one pass over the whole batch (see above). The caller's {@code PointerScope} owns the
     * result, as it would own {@code forward}'s.
     */
    public static UnaryOperator<Tensor> chunked(UnaryOperator<Tensor> forward, int chunk) {
        Objects.requireNonNull(forward, "forward");
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        }
        // never a chunk of one image: libtorch may compute a single row another way (for the classifier, say) and
        // its logits can then differ in the last bit from the same row in a larger batch (seen with chunks of one)
        int c = Math.max(2, chunk);
        return x -> {
            long n = x.size(0);
            if (n <= c + 1) {
                return forward.apply(x);
            }
            TensorVector parts = new TensorVector();
            for (long i = 0; i < n; ) {
                long len = n - i <= c + 1 ? n - i : c;
                // each chunk's temporaries end with its scope; the vector keeps its logits
                try (PointerScope scope = new PointerScope()) {
                    parts.push_back(forward.apply(x.narrow(0, i, len)));
                }
                i += len;
            }
            return torch.cat(parts);
        };
    }
}
