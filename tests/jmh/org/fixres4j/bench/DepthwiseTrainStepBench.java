package org.fixres4j.bench;

import java.util.Arrays;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.Torch;

/**
 * One EfficientNet training step (zero_grad, forward in train mode, a scalar loss, backward) at batch 8 on the CPU,
 * with {@link EfficientNet#nativeDepthwise(boolean)} off (libtorch's depthwise convolution and its backward) and on
 * (the native kernels through {@code DepthwiseAutograd}), interleaved step by step in one process so that a shared
 * machine's load hits both alike; prints the median and the minimum of each.
 *
 * <p>Run (after {@code mvn test-compile}): {@code java -cp target/test-classes:target/classes:$(cat cp.txt)
 * org.fixres4j.bench.DepthwiseTrainStepBench [model] [res] [nchw|nhwc] [steps] [threads]} with {@code cp.txt} from
 * {@code mvn dependency:build-classpath -Dmdep.outputFile=cp.txt}; model is an architecture name or {@code small}
 * (the demo's layout: efficientnet_b0 at width 0.25, depth 0.25, 10 classes). Defaults: small 64 nchw 40 1.
 */
public final class DepthwiseTrainStepBench {
    private DepthwiseTrainStepBench() {}

    public static void main(String[] args) {
        String model = args.length > 0 ? args[0] : "small";
        int res = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        boolean channelsLast = args.length > 2 && args[2].equals("nhwc");
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 40;
        int threads = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        int batch = 8;
        Torch.ensureLoaded();
        torch.set_num_threads(threads);
        torch.manual_seed(0);
        EfficientNetSpec spec = model.equals("small") ? EfficientNetSpec.custom("small", 0.25, 0.25, false, 10)
                : EfficientNetSpec.of(model);
        try (EfficientNet net = ModelRegistry.create(spec)) {
            net.initTimm();
            if (channelsLast) {
                net.toChannelsLast();
            }
            net.train(true);
            Tensor x = torch.randn(batch, 3, res, res);
            x.retainReference();
            long[][] ns = new long[2][steps];
            for (int i = -3; i < steps; i++) {
                for (int k = 0; k < 2; k++) {
                    int on = (i & 1) == 0 ? k : 1 - k; // alternate which path goes first
                    net.nativeDepthwise(on == 1);
                    try (PointerScope scope = new PointerScope()) {
                        long t0 = System.nanoTime();
                        net.zero_grad(true);
                        net.forward(x).square().mean().backward();
                        if (i >= 0) {
                            ns[on][i] = System.nanoTime() - t0;
                        }
                    }
                }
            }
            x.releaseReference();
            for (int on = 0; on < 2; on++) {
                long[] v = ns[on].clone();
                Arrays.sort(v);
                System.out.printf("%s %d px %s batch %d, %d thread(s), depthwise %s: median %.1f ms, min %.1f ms%n",
                        model, res, channelsLast ? "channels-last" : "NCHW", batch, threads,
                        on == 1 ? "native" : "libtorch", v[steps / 2] / 1e6, v[0] / 1e6);
            }
        }
    }
}
