package org.fixres4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.kernels.Backends;
import org.fixres4j.kernels.CudaDepthwiseSwitch;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.Amp;
import org.fixres4j.torch.AmpScope;
import org.fixres4j.torch.DeviceSpec;
import org.fixres4j.torch.DeviceTensors;

/**
 * {@code fixres bench model --device cuda[:N]}: the paths of {@link ModelBench} on a CUDA device, timed so that the
 * numbers are the device's: every timed call ends with a device synchronisation ({@link DeviceTensors#synchronize}),
 * so a call's latency covers its kernels and not only their queuing (a CUDA forward returns as soon as its kernels
 * are queued). The input is made on the device once per batch size; nothing crosses the bus while timing.
 *
 * <p>Paths: the plain module (NCHW), the plain module in channels-last, the BN-folded fast path with libtorch's
 * depthwise convolution (cuDNN), the fast path as {@link FastEfficientNet#fuse(EfficientNet)} builds it (depthwise per
 * {@link CudaDepthwiseSwitch#current()}: cuDNN unless {@code -Dfixres.cuda.depthwise} selects FixRes4J's kernels), and,
 * where FixRes4J's CUDA kernels are built, the fast path with every depthwise layer on them; with {@code --amp} the
 * plain module under the device's autocast and the fast path in that precision. libtorch's CPU threads do not matter
 * here: each row records 0 threads, and the report has no thread-scaling table.
 */
public final class CudaModelBench {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    private CudaModelBench() {}

    /** {@link #run(String, Supplier, int, int[], double, Amp, DeviceSpec)} for a timm model with seeded weights. */
    public static Map<String, Object> run(String model, int res, int[] batches, double secondsPerRow, Amp amp,
                                          DeviceSpec device) {
        torch.manual_seed(0); // on the host: the same weights as the CPU benchmark's
        return run(ModelRegistry.resolve(model).name(), () -> ModelRegistry.create(model), res, batches,
                secondsPerRow, amp, device);
    }

    /**
     * Times every path for each batch size on {@code device} (checked: {@link DeviceSpec#check()}) and returns the
     * report in {@link ModelBench}'s shape ({@link ModelBench#table} prints it), with {@code device} and
     * {@code timing} added.
     */
    @SuppressWarnings("try")
    public static Map<String, Object> run(String name, Supplier<EfficientNet> factory, int res, int[] batches,
                                          double secondsPerRow, Amp amp, DeviceSpec device) {
        if (!device.isCuda()) {
            throw new IllegalArgumentException("CudaModelBench runs on a CUDA device, got " + device);
        }
        device.check();
        amp.checkDevice(device.toString());
        if (res < 32 || batches.length == 0 || !(secondsPerRow > 0)) {
            throw new IllegalArgumentException("need res >= 32, batches and a positive time");
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, Object> speedups = new LinkedHashMap<>();
        Map<String, Object> ampSpeedups = new LinkedHashMap<>();
        CudaDepthwiseSwitch sw = CudaDepthwiseSwitch.current();
        Map<String, Object> kernelErrors = new LinkedHashMap<>();
        boolean ours = Backends.cudaKernels().available();
        try (EfficientNet plain = factory.get();
             EfficientNet channelsLast = factory.get()) {
            int inChannels = plain.spec().inChannels();
            plain.eval();
            channelsLast.eval();
            DeviceTensors.moveModule(plain, device);
            DeviceTensors.moveModule(channelsLast, device);
            channelsLast.toChannelsLast();
            try (FastEfficientNet cudnn = FastEfficientNet.fuse(plain, false);
                 FastEfficientNet switched = FastEfficientNet.fuse(plain);
                 FastEfficientNet fused = ours ? FastEfficientNet.fuse(plain, true) : null;
                 FastEfficientNet fastAmp = amp.enabled() ? FastEfficientNet.fuse(plain, amp) : null) {
                for (int b : batches) {
                    try (PointerScope scope = new PointerScope()) {
                        Tensor x = torch.randn(b, inChannels, res, res).to(device.torchDevice(),
                                torch.ScalarType.Float);
                        List<String> names = new ArrayList<>(List.of("plain", "plain, channels-last",
                                "fast, libtorch depthwise (cuDNN; BN folded, channels-last, InferenceMode)",
                                "fast, depthwise per " + sw));
                        List<Supplier<Tensor>> paths = new ArrayList<>(List.of(() -> plain.forward(x),
                                () -> channelsLast.forward(x), () -> cudnn.forward(x), () -> switched.forward(x)));
                        if (fused != null && works(fused, x, device, kernelErrors, b)) {
                            names.add("fast, FixRes4J CUDA depthwise kernel (every layer)");
                            paths.add(() -> fused.forward(x));
                        }
                        int ampAt = paths.size();
                        if (fastAmp != null) {
                            names.add("plain, " + amp.label() + " autocast");
                            paths.add(() -> AmpScope.forward(amp, device.toString(), plain::forward, x));
                            names.add("fast, " + amp.label() + ", libtorch depthwise");
                            paths.add(() -> fastAmp.forward(x));
                        }
                        List<Supplier<Tensor>> synced = new ArrayList<>();
                        for (Supplier<Tensor> p : paths) {
                            synced.add(() -> {
                                Tensor y = p.get();
                                DeviceTensors.synchronize(device);
                                return y;
                            });
                        }
                        ModelBench.Timing[] ms = ModelBench.interleavedTimings(synced.size() * secondsPerRow, b,
                                synced);
                        double plainMs = ms[0].msPerItem();
                        for (int i = 0; i < ms.length; i++) {
                            rows.add(ModelBench.row(names.get(i), b, 0, ms[i], plainMs)); // threads 0: device
                        }
                        String key = "batch " + b;
                        speedups.put(key, plainMs / ms[3].msPerItem());
                        if (fastAmp != null) {
                            Map<String, Object> sp = new LinkedHashMap<>();
                            sp.put("plain", plainMs / ms[ampAt].msPerItem());
                            sp.put("fast", ms[2].msPerItem() / ms[ampAt + 1].msPerItem());
                            ampSpeedups.put(key, sp);
                        }
                    }
                }
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("benchmark", "model");
        report.put("model", name);
        report.put("res", res);
        report.put("dtype", amp.enabled() ? "float32 and " + amp.label() + ", " + device : "float32, " + device);
        report.put("device", device.toString());
        report.put("machine", Machine.describe());
        report.put("seconds_per_row", secondsPerRow);
        report.put("timing", "each call ends with a device synchronisation (cudaDeviceSynchronize through libtorch)");
        report.put("rows", rows);
        report.put("fast_speedup", speedups);
        report.put("cuda_depthwise_switch", sw.toString());
        report.put("cuda_kernels", ours);
        if (!kernelErrors.isEmpty()) {
            report.put("cuda_kernels_errors", kernelErrors); // the kernels' row left out, and why
        }
        if (amp.enabled()) {
            report.put("amp", amp.label());
            report.put("amp_speedup", ampSpeedups);
        }
        Long peak = ModelBench.peakRssBytes();
        report.put("peak_rss_mb", peak == null ? null : peak / 1e6);
        report.put("peak_rss_source", peak == null ? "not available (no /proc/self/status)"
                : "VmHWM of /proc/self/status: host memory of the Java process (device memory is not counted)");
        return report;
    }

    /**
     * Whether the fast path with every depthwise layer on FixRes4J's CUDA kernels runs at this batch size: one
     * synchronised forward before timing, so that a kernel that refuses a layer drops this row (its reason recorded
     * under {@code batch b}) instead of stopping the whole benchmark.
     */
    @SuppressWarnings("try")
    private static boolean works(FastEfficientNet fused, Tensor x, DeviceSpec device, Map<String, Object> errors,
                                 int batch) {
        try (PointerScope scope = new PointerScope(); org.bytedeco.pytorch.NoGradGuard g =
                new org.bytedeco.pytorch.NoGradGuard()) {
            fused.forward(x);
            DeviceTensors.synchronize(device);
            return true;
        } catch (RuntimeException e) {
            errors.put("batch " + batch, String.valueOf(e.getMessage()));
            return false;
        }
    }
}
