package org.fixres4j.classify;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.model.ModelFile;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EvalPreprocessing;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.torch.Amp;
import org.fixres4j.torch.AmpScope;
import org.fixres4j.model.ModelSource;
import org.fixres4j.model.PretrainedConfig;
import org.fixres4j.kernels.Backends;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.CudaPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.preprocess.Sample;
import org.fixres4j.torch.CudaStreams;
import org.fixres4j.torch.DeviceSpec;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.SampleTransform;

/**
 * An image classifier for applications: load an EfficientNet with timm weights once, then {@link #classify} image
 * files or decoded images from any number of threads. Preprocessing is the model's own timm eval transform (or a
 * FixRes test resolution when given), bit-exact with Pillow; inference runs the BN-folded fast path under
 * {@code InferenceMode}; images are batched internally ({@link Options#batchSize}).
 *
 * <p><b>Ownership.</b> A classifier closes only what it created: {@link #load} builds the model from the weight file,
 * so {@link #close()} frees the model and its fused copy; {@link #of} wraps a model the caller built, so
 * {@link #close()} frees only the fused copy it made and the caller's model stays usable (the caller closes it, after
 * the classifier). {@link DecodedImage}s passed to {@link #classifyImages} and {@link #logits} stay the caller's.
 * After {@link #close()} every method that runs the model throws {@link IllegalStateException}; closing twice is a
 * no-op.
 *
 * <pre>{@code
 * try (Classifier c = Classifier.load("tf_efficientnet_b0.ap_in1k", Path.of("model.safetensors"),
 *         new Classifier.Options().resolution(320))) {          // FixRes: test at 320
 *     List<Classifier.Prediction> top5 = c.classify(Path.of("cat.jpg"), 5);
 * }
 * }</pre>
 */
public final class Classifier implements AutoCloseable {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    /** One class of a prediction: index, name, softmax probability. */
    public record Prediction(int index, String label, double probability) {}

    /** How a classifier preprocesses and runs; defaults are the model's pretrained config. */
    public static final class Options {
        EvalPreprocessing.Overrides preprocessing = EvalPreprocessing.Overrides.NONE;
        int batchSize = 8;
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        int streams = 1;
        boolean fast = true;
        Amp amp = Amp.NONE;
        boolean channelsLast;
        boolean strict = true;
        List<String> classNames;
        DeviceSpec device = DeviceSpec.CPU;

        /**
         * Where the model runs: {@code "cpu"} (default), {@code "cuda"} or {@code "cuda:N"}. The value is parsed here
         * ({@link IllegalArgumentException} for a bad one); whether the device is usable is checked when the
         * classifier is made ({@link org.fixres4j.torch.DeviceUnavailableException}, naming why).
         */
        public Options device(String device) {
            this.device = DeviceSpec.parse(device);
            return this;
        }

        /** {@link #device(String)} with a parsed value. */
        public Options device(DeviceSpec device) {
            this.device = Objects.requireNonNull(device, "device");
            return this;
        }

        /** Test resolution (default: the config's input size); a FixRes-chosen resolution goes here. */
        public Options resolution(int res) {
            EvalPreprocessing.checkResolution(res, "resolution");
            preprocessing = preprocessing.withResolution(res);
            return this;
        }

        /** timm's crop_pct (default: the config's). */
        public Options cropPct(double p) {
            EvalPreprocessing.checkCropPct(p, "crop_pct");
            preprocessing = preprocessing.withCropPct(p);
            return this;
        }

        public Options interpolation(Interpolation i) {
            preprocessing = preprocessing.withInterpolation(Objects.requireNonNull(i));
            return this;
        }

        public Options normalization(Normalization n) {
            preprocessing = preprocessing.withNormalization(Objects.requireNonNull(n));
            return this;
        }

        /** Use the FixRes repository's test transform (height rule, bilinear) instead of timm's. */
        public Options fixresResize(boolean on) {
            preprocessing = preprocessing.withResizeMode(on ? EvalPreprocessing.ResizeMode.FIXRES
                    : EvalPreprocessing.ResizeMode.TIMM);
            return this;
        }

        /** All the preprocessing overrides at once (replacing those set before). */
        public Options preprocessing(EvalPreprocessing.Overrides o) {
            this.preprocessing = Objects.requireNonNull(o);
            return this;
        }

        /** Images per forward pass (default 8). */
        public Options batchSize(int n) {
            if (n < 1 || n > 4096) {
                throw new IllegalArgumentException("batch size must be in 1..4096, got " + n);
            }
            this.batchSize = n;
            return this;
        }

        /** Threads of the preprocessing kernel (default: all processors). */
        public Options threads(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("threads must be >= 1, got " + n);
            }
            this.threads = n;
            return this;
        }

        /**
         * On the CPU, with the fast path: cut each forward batch into {@code n} slices run at once, each on its own
         * thread with one libtorch thread ({@link org.fixres4j.model.BatchStreams}); default 1, one pass with
         * libtorch's threads as the application set them. In bfloat16 on a Sapphire Rapids VM, 2 streams ran
         * EfficientNet-B0 6-10% faster than one pass on two threads at batch 8 (a 2-vCPU Intel Xeon (Sapphire Rapids)
         * VM, docs/PERFORMANCE.md). A batch with fewer than two images per stream runs as one pass. A slice's logits
         * can differ in the last bits from the whole batch's.
         */
        public Options streams(int n) {
            if (n < 1 || n > 256) {
                throw new IllegalArgumentException("streams must be in 1..256, got " + n);
            }
            this.streams = n;
            return this;
        }

        /** Whether to run the BN-folded fast path (default) or the plain module. */
        public Options fast(boolean on) {
            this.fast = on;
            return this;
        }

        /**
         * Run the plain module in channels-last memory format (weights and input NHWC); off by default. The fast
         * path is channels-last anyway, so this matters with {@code fast(false)}. With {@link #of} it converts the
         * caller's model in place ({@link EfficientNet#toChannelsLast()}).
         */
        public Options channelsLast(boolean on) {
            this.channelsLast = on;
            return this;
        }

        /**
         * Reduced precision (default {@link Amp#NONE}, float32: timm's logits): {@link Amp#BF16} runs the fast path in
         * bfloat16 ({@link FastEfficientNet#fuse(EfficientNet, Amp)}) or the plain module under libtorch's autocast;
         * logits are float32 either way. {@link Amp#FP16} needs a CUDA {@link #device}: loading refuses it on the CPU.
         */
        public Options amp(Amp a) {
            this.amp = java.util.Objects.requireNonNull(a, "amp"); // checked against the device when loading
            return this;
        }

        /** Strict weight loading (default): every key present, no extra, same shapes. */
        public Options strict(boolean on) {
            this.strict = on;
            return this;
        }

        Options copy() {
            Options o = new Options();
            o.preprocessing = preprocessing;
            o.batchSize = batchSize;
            o.threads = threads;
            o.streams = streams;
            o.fast = fast;
            o.channelsLast = channelsLast;
            o.strict = strict;
            o.classNames = classNames;
            o.device = device;
            o.amp = amp;
            return o;
        }

        /** Class names (default: ImageNet's when the model has 1000 classes, else "class N"). */
        public Options classNames(List<String> names) {
            this.classNames = List.copyOf(names);
            return this;
        }
    }

    private final EfficientNet model;
    private final FastEfficientNet fastModel;
    /** The fast path's streams on the CPU ({@link Options#streams}), or null: one pass. */
    private final org.fixres4j.model.BatchStreams streams;
    private final Amp amp;
    private final SampleTransform transform;
    private final OutputSpec spec;
    private final CpuPreprocessor preprocessor;
    private final DeviceSpec device;
    /** On CUDA: the fused kernel writing into the model's input on the device (null where it is not compiled in). */
    private final CudaPreprocessor cudaPreprocessor;
    private final int batchSize;
    private final int numClasses;
    private final List<String> labels;
    private final String name;
    private final boolean ownsModel;
    private volatile boolean closed;

    private Classifier(String name, EfficientNet model, PretrainedConfig config, Options o, boolean ownsModel) {
        this.device = o.device.check();
        this.name = name;
        this.model = model;
        this.ownsModel = ownsModel;
        this.numClasses = model.spec().numClasses();
        EvalPreprocessing pre = EvalPreprocessing.of(config, o.preprocessing);
        Normalization norm = pre.normalization();
        transform = pre.transform();
        spec = OutputSpec.nchwFloat(transform.outputWidth(), transform.outputHeight(), norm);
        preprocessor = new CpuPreprocessor(o.threads);
        batchSize = o.batchSize;
        model.eval();
        if (device.isCuda()) {
            model.to(device.torchDevice(), false);
        }
        if (o.channelsLast && !model.isChannelsLast()) {
            model.toChannelsLast();
        }
        amp = o.amp.checkDevice(device.toString());
        fastModel = o.fast ? FastEfficientNet.fuse(model, amp) : null;
        streams = fastModel != null && !device.isCuda() && o.streams > 1
                ? org.fixres4j.model.BatchStreams.of(o.streams, o.streams) : null;
        cudaPreprocessor = device.isCuda() && Backends.cudaKernels().available()
                ? new CudaPreprocessor(device.index()) : null;
        if (o.classNames != null) {
            if (o.classNames.size() != numClasses) {
                throw new IllegalArgumentException(o.classNames.size() + " class names for a model with "
                        + numClasses + " classes");
            }
            labels = o.classNames;
        } else if (numClasses == 1000) {
            labels = ImageNetClasses.names();
        } else {
            List<String> l = new ArrayList<>();
            for (int i = 0; i < numClasses; i++) {
                l.add("class " + i);
            }
            labels = l;
        }
    }

    /**
     * Loads a model by timm name ({@code tf_efficientnet_b0.ap_in1k}, {@code tf_efficientnet_b0_ap}, ...) and a
     * weight file ({@code .safetensors} or {@code torch.save} {@code .pth}); the class count comes from the weights.
     * A FixRes4J model file given with a name is read as {@link #load(ModelSource, Options)} reads it (the name must
     * describe the file's network).
     */
    public static Classifier load(String modelName, Path weights, Options options) throws IOException {
        return load(ModelSource.of(Objects.requireNonNull(modelName, "modelName"), weights), options);
    }

    /**
     * Loads a model file of {@code fixres train} / {@code finetune} (any safetensors with FixRes4J's metadata): the
     * network, its input configuration and class names come from the file, so no timm name is needed.
     *
     * @throws IllegalArgumentException if the file has no FixRes4J metadata (use {@link #load(String, Path, Options)})
     */
    public static Classifier load(Path weights, Options options) throws IOException {
        return load(ModelSource.of(null, weights), options);
    }

    /**
     * Loads the model of a {@link ModelSource}: its preprocessing is the source's (the file's metadata, else the timm
     * name's) with the options' overrides, its class names the file's unless the options name them.
     */
    public static Classifier load(ModelSource source, Options options) throws IOException {
        options.device.check(); // before reading any weights
        Torch.ensureLoaded();
        ModelFile.Loaded loaded = source.load(options.strict);
        try {
            Options o = options;
            if (o.classNames == null && !source.classNames().isEmpty()) {
                o = o.copy().classNames(source.classNames());
            }
            return new Classifier(source.name(), loaded.model(), source.config(), o, true);
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
    }

    /**
     * Wraps a model already built and loaded (e.g. after FixRes fine-tuning). The caller keeps ownership of
     * {@code model}: {@link #close()} does not close it (close it yourself, after the classifier). On a CUDA
     * {@link Options#device}, the caller's model is moved there.
     */
    public static Classifier of(EfficientNet model, PretrainedConfig config, Options options) {
        return new Classifier(config.name(), model, config, options, false);
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this Classifier (" + name + ") was closed");
        }
    }

    /** The model's name. */
    public String name() {
        return name;
    }

    /** The preprocessing this classifier applies. */
    public SampleTransform transform() {
        return transform;
    }

    /** Class names, index = class. */
    public List<String> labels() {
        return labels;
    }

    /** Top-k predictions of one image file. */
    public List<Prediction> classify(Path file, int topK) throws IOException {
        return classify(List.of(file), topK).get(0);
    }

    /** Top-k predictions of each file, in order; the exception names the first unreadable file. */
    public List<List<Prediction>> classify(List<Path> files, int topK) throws IOException {
        checkOpen();
        List<List<Prediction>> out = new ArrayList<>();
        for (int start = 0; start < files.size(); start += batchSize) {
            List<DecodedImage> images = new ArrayList<>();
            try {
                for (Path f : files.subList(start, Math.min(files.size(), start + batchSize))) {
                    images.add(ImageDecoder.decode(f));
                }
                out.addAll(classifyImages(images, topK));
            } finally {
                images.forEach(DecodedImage::close);
            }
        }
        return out;
    }

    /** Top-k predictions of decoded images (the caller keeps ownership). */
    public List<List<Prediction>> classifyImages(List<DecodedImage> images, int topK) {
        checkOpen();
        if (topK < 1) {
            throw new IllegalArgumentException("topK must be >= 1, got " + topK);
        }
        float[][] logits = logits(images);
        List<List<Prediction>> out = new ArrayList<>();
        for (float[] row : logits) {
            out.add(top(row, Math.min(topK, numClasses)));
        }
        return out;
    }

    /** Raw logits {@code [images.size()][numClasses]}, batched internally. */
    public float[][] logits(List<DecodedImage> images) {
        checkOpen();
        if (device.isCuda()) {
            synchronized (this) { // one CUDA preprocessor: its staging is not shared between threads
                return logitsOf(images);
            }
        }
        return logitsOf(images);
    }

    private float[][] logitsOf(List<DecodedImage> images) {
        float[][] out = new float[images.size()][];
        for (int start = 0; start < images.size(); start += batchSize) {
            int n = Math.min(batchSize, images.size() - start);
            try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
                List<Sample> samples = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    DecodedImage im = images.get(start + i);
                    samples.add(new Sample(im, transform.plan(im.width(), im.height(), null), i));
                }
                Tensor input = input(samples, n);
                // logits come back to the host once, at the end, as float32
                Tensor logits = forward(input).to(DeviceSpec.CPU.torchDevice(), torch.ScalarType.Float).contiguous();
                float[] flat = new float[n * numClasses];
                new FloatPointer(logits.data_ptr()).get(flat);
                for (int i = 0; i < n; i++) {
                    out[start + i] = java.util.Arrays.copyOfRange(flat, i * numClasses, (i + 1) * numClasses);
                }
            }
        }
        return out;
    }

    /**
     * The batch on the model's device: on the CPU through the CPU kernel; on CUDA the fused CUDA kernel writes the
     * pixels straight into the device tensor on libtorch's current stream (no float tensor on the host), or, in a
     * build without the CUDA kernels, the CPU kernel's batch is copied over.
     */
    private Tensor input(List<Sample> samples, int n) {
        if (device.isCpu()) {
            Tensor input = torch.zeros(spec.shape(n), new TensorOptions(torch.ScalarType.Float));
            preprocessor.run(samples, spec, input);
            return input;
        }
        org.bytedeco.pytorch.Device dev = device.torchDevice();
        if (cudaPreprocessor == null) {
            Tensor host = torch.zeros(spec.shape(n), new TensorOptions(torch.ScalarType.Float));
            preprocessor.run(samples, spec, host);
            return host.to(dev, torch.ScalarType.Float);
        }
        Tensor input = torch.empty(spec.shape(n), new TensorOptions(torch.ScalarType.Float)
                .device(new org.bytedeco.pytorch.DeviceOptional(dev)), new org.bytedeco.pytorch.MemoryFormatOptional());
        cudaPreprocessor.run(samples, spec, input, CudaStreams.currentAddress(device.index()));
        return input;
    }

    /**
     * The model on a batch already on its device, in the chosen precision: the fast path is folded in it; the plain
     * module runs under autocast for this device.
     */
    private Tensor forward(Tensor input) {
        if (fastModel == null) {
            return AmpScope.forward(amp, device.toString(), model::forward, input);
        }
        return streams != null ? streams.forward(fastModel::forward, input) : fastModel.forward(input);
    }

    /** The device the model runs on. */
    public DeviceSpec device() {
        return device;
    }

    /** The k most probable classes of one row of logits (softmax in double; ties: lower index first). */
    List<Prediction> top(float[] logits, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        Integer[] idx = new Integer[logits.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        java.util.Arrays.sort(idx, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a])
                : Integer.compare(a, b));
        List<Prediction> out = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            int c = idx[i];
            out.add(new Prediction(c, labels.get(c), Math.exp(logits[c] - max) / sum));
        }
        return out;
    }

    /**
     * Frees what this classifier created: the fused fast path, and the model when {@link #load} built it (a model
     * given to {@link #of} stays open). Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (cudaPreprocessor != null) {
            cudaPreprocessor.close();
        }
        if (streams != null) {
            streams.close();
        }
        if (fastModel != null) {
            fastModel.close();
        }
        if (ownsModel) {
            model.close();
        }
    }
}
