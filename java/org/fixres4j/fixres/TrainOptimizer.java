package org.fixres4j.fixres;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.fixres4j.weights.TensorData;
import org.fixres4j.weights.TorchTensors;

/**
 * SGD and RMSprop written out with libtorch tensor operations, so that their whole state is a set of named tensors
 * that a checkpoint saves and restores exactly (bit for bit), which libtorch's optimizers do not expose through the
 * Java preset. The update rules are PyTorch's ({@code torch.optim}):
 * <ul>
 *   <li><b>SGD</b> (dampening 0): {@code d = g + wd * p}; {@code buf = d} at the first step, then
 *       {@code buf = momentum * buf + d}; with Nesterov {@code d = d + momentum * buf}, else {@code d = buf};
 *       {@code p -= lr * d}.</li>
 *   <li><b>RMSprop</b> (not centred): {@code d = g + wd * p}; {@code sq = alpha * sq + (1 - alpha) * d^2}
 *       ({@code sq} starts at 0); {@code avg = sqrt(sq) + eps}; with momentum {@code buf = momentum * buf + d / avg},
 *       {@code p -= lr * buf}, else {@code p -= lr * d / avg}.</li>
 * </ul>
 * Weight decay applies to the parameters named in {@code decayed}; timm's training recipe leaves biases and
 * BatchNorm (every 1-D tensor) undecayed, FixRes's fine-tuning decays all it trains. The parameters are the live
 * tensors of a model; {@link #step(double)} updates them in place under {@code NoGradGuard}. Not thread-safe.
 */
public final class TrainOptimizer {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    /** The update rule. */
    public enum Kind {
        SGD,
        RMSPROP;

        /** {@code sgd} or {@code rmsprop} (case-insensitive). */
        public static Kind parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "sgd" -> SGD;
                case "rmsprop" -> RMSPROP;
                default -> throw new IllegalArgumentException("optimizer must be sgd or rmsprop, got '" + s + "'");
            };
        }
    }

    /**
     * Hyper-parameters; in reports (Jackson) {@code kind} in lower case, then momentum, weight_decay, nesterov, and
     * alpha and eps for RMSprop only.
     *
     * @param kind SGD or RMSprop
     * @param momentum momentum (SGD: 0.9 in FixRes and timm)
     * @param weightDecay L2 weight decay added to the gradient (FixRes: 1e-4)
     * @param nesterov Nesterov momentum (SGD only)
     * @param alpha RMSprop's smoothing constant (PyTorch 0.99; timm's EfficientNet recipe 0.9)
     * @param eps RMSprop's epsilon (PyTorch 1e-8; timm's EfficientNet recipe 1e-3)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"kind", "momentum", "weight_decay", "nesterov", "alpha", "eps"})
    public record Settings(@JsonIgnore Kind kind, double momentum, double weightDecay, boolean nesterov,
                           @JsonIgnore double alpha, @JsonIgnore double eps) {
        public Settings {
            Objects.requireNonNull(kind, "kind");
            if (!(momentum >= 0 && momentum < 1) || !(weightDecay >= 0) || !(alpha > 0 && alpha < 1)
                    || !(eps > 0)) {
                throw new IllegalArgumentException("bad optimizer settings: momentum " + momentum + ", weight decay "
                        + weightDecay + ", alpha " + alpha + ", eps " + eps);
            }
        }

        /** SGD with momentum 0.9 and the given weight decay (FixRes's optimizer). */
        public static Settings sgd(double weightDecay) {
            return new Settings(Kind.SGD, 0.9, weightDecay, false, 0.9, 1e-3);
        }

        /** The optimizer's name in reports: {@code sgd} or {@code rmsprop}. */
        @JsonProperty("kind")
        public String kindName() {
            return kind.name().toLowerCase(Locale.ROOT);
        }

        /** RMSprop's alpha in reports; null (left out) for SGD, which has none. */
        @JsonProperty("alpha")
        @JsonInclude(JsonInclude.Include.NON_NULL)
        public Double rmspropAlpha() {
            return kind == Kind.RMSPROP ? alpha : null;
        }

        /** RMSprop's eps in reports; null (left out) for SGD, which has none. */
        @JsonProperty("eps")
        @JsonInclude(JsonInclude.Include.NON_NULL)
        public Double rmspropEps() {
            return kind == Kind.RMSPROP ? eps : null;
        }
    }

    private final Settings settings;
    private final Map<String, Tensor> params;
    private final Map<String, Boolean> decayed = new LinkedHashMap<>();
    private final Map<String, Tensor> momentum = new LinkedHashMap<>();
    private final Map<String, Tensor> square = new LinkedHashMap<>();
    private long steps;

    /**
     * @param params the trained parameters by name (live tensors that require grad)
     * @param decayed the names that get weight decay
     */
    public TrainOptimizer(Settings settings, Map<String, Tensor> params, List<String> decayed) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.params = new LinkedHashMap<>(params);
        for (String k : this.params.keySet()) {
            this.decayed.put(k, decayed.contains(k));
        }
        for (Tensor t : this.params.values()) {
            t.retainReference();
        }
    }

    public Settings settings() {
        return settings;
    }

    /** The trained parameters' names, in order. */
    public List<String> names() {
        return List.copyOf(params.keySet());
    }

    /**
     * The trained parameters' gradients, in order (handles in the caller's scope): what a data-parallel run averages
     * over the ranks between backward and {@link #step}. A parameter without a gradient is an error, since every rank
     * must reduce the same list.
     */
    List<Tensor> gradients() {
        List<Tensor> out = new java.util.ArrayList<>();
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            Tensor g = e.getValue().grad();
            if (g == null || !g.defined()) {
                throw new IllegalStateException(e.getKey() + " is trained but got no gradient");
            }
            out.add(g);
        }
        return out;
    }

    /** Steps taken so far. */
    public long steps() {
        return steps;
    }

    /** Clears every parameter's gradient (sets it to zero when defined). */
    public void zeroGrad() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (Tensor p : params.values()) {
                Tensor grad = p.grad();
                if (grad.defined()) {
                    grad.zero_();
                }
            }
        }
    }

    /** One update with learning rate {@code lr}; parameters without a gradient are skipped (as PyTorch does). */
    public void step(double lr) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                String name = e.getKey();
                Tensor p = e.getValue();
                Tensor grad = p.grad();
                if (!grad.defined()) {
                    continue;
                }
                Tensor d = grad;
                if (settings.weightDecay() > 0 && decayed.get(name)) {
                    d = grad.add(p, new Scalar(settings.weightDecay()));
                }
                if (settings.kind() == Kind.SGD) {
                    if (settings.momentum() > 0) {
                        Tensor buf = momentum.get(name);
                        if (buf == null) {
                            buf = d.clone().retainReference();
                            momentum.put(name, buf);
                        } else {
                            buf.mul_(new Scalar(settings.momentum())).add_(d);
                        }
                        d = settings.nesterov() ? d.add(buf, new Scalar(settings.momentum())) : buf;
                    }
                    p.sub_(d, new Scalar(lr));
                } else {
                    Tensor sq = square.get(name);
                    if (sq == null) {
                        sq = d.mul(new Scalar(0.0)).retainReference(); // zeros of d's shape and dtype
                        square.put(name, sq);
                    }
                    sq.mul_(new Scalar(settings.alpha())).addcmul_(d, d, new Scalar(1 - settings.alpha()));
                    Tensor avg = sq.sqrt().add_(new Scalar(settings.eps()));
                    if (settings.momentum() > 0) {
                        Tensor buf = momentum.get(name);
                        if (buf == null) {
                            buf = d.mul(new Scalar(0.0)).retainReference();
                            momentum.put(name, buf);
                        }
                        buf.mul_(new Scalar(settings.momentum())).addcdiv_(d, avg, new Scalar(1.0));
                        p.sub_(buf, new Scalar(lr));
                    } else {
                        p.addcdiv_(d, avg, new Scalar(-lr));
                    }
                }
            }
        }
        steps++;
    }

    /**
     * The state as tensors: {@code momentum_buffer.<param>} and {@code square_avg.<param>} (host copies, whatever
     * device the parameters train on), plus {@code steps} (int64 scalar).
     */
    public Map<String, TensorData> stateTensors() {
        Map<String, TensorData> m = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            for (Map.Entry<String, Tensor> e : momentum.entrySet()) {
                m.put("momentum_buffer." + e.getKey(), TorchTensors.fromTorch(e.getValue()));
            }
            for (Map.Entry<String, Tensor> e : square.entrySet()) {
                m.put("square_avg." + e.getKey(), TorchTensors.fromTorch(e.getValue()));
            }
        }
        m.put("steps", TensorData.ofLongs(new long[0], steps));
        return m;
    }

    /**
     * Restores {@link #stateTensors()}.
     *
     * @throws IllegalArgumentException if a tensor names a parameter this optimizer does not train, or its shape
     *                                  differs
     */
    public void loadState(Map<String, TensorData> state) {
        clearState();
        for (Map.Entry<String, TensorData> e : state.entrySet()) {
            String k = e.getKey();
            if (k.equals("steps")) {
                steps = e.getValue().toLongArray()[0];
                continue;
            }
            Map<String, Tensor> into;
            String name;
            if (k.startsWith("momentum_buffer.")) {
                into = momentum;
                name = k.substring("momentum_buffer.".length());
            } else if (k.startsWith("square_avg.")) {
                into = square;
                name = k.substring("square_avg.".length());
            } else {
                throw new IllegalArgumentException("unknown optimizer state entry " + k);
            }
            Tensor p = params.get(name);
            if (p == null) {
                throw new IllegalArgumentException("optimizer state for " + name + ", which is not trained");
            }
            long[] shape = p.sizes().vec().get();
            if (!java.util.Arrays.equals(shape, e.getValue().shape())) {
                throw new IllegalArgumentException("optimizer state " + k + " has shape "
                        + java.util.Arrays.toString(e.getValue().shape()) + ", the parameter "
                        + java.util.Arrays.toString(shape));
            }
            // a checkpoint holds host tensors: the state goes where its parameter lives (a CUDA device, or the CPU)
            Tensor t = org.fixres4j.torch.DeviceTensors.like(TorchTensors.toTorch(e.getValue()), p);
            into.put(name, t.retainReference());
        }
    }

    private void clearState() {
        for (Tensor t : momentum.values()) {
            t.releaseReference();
        }
        for (Tensor t : square.values()) {
            t.releaseReference();
        }
        momentum.clear();
        square.clear();
        steps = 0;
    }

    /** Frees the state tensors and the hold on the parameters. */
    public void close() {
        clearState();
        for (Tensor t : params.values()) {
            t.releaseReference();
        }
        params.clear();
    }
}
