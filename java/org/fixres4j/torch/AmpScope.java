package org.fixres4j.torch;

import java.util.function.UnaryOperator;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * libtorch's autocast turned on for one {@link Amp} mode and device type on the calling thread (what
 * {@code torch.autocast(device_type, dtype)} does in Python): made by {@link Amp#autocast(String)}, closed in
 * try-with-resources. Opening saves the thread's autocast state for the device type (enabled, dtype) and closing
 * restores it, so scopes nest; the cache of cast weights is cleared when the outermost scope closes. Close it on the
 * thread that opened it.
 */
public final class AmpScope implements AutoCloseable {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    private final Amp amp;
    private final DeviceType type;
    private final boolean wasEnabled;
    private final ScalarType previous;
    private final Thread owner = Thread.currentThread();
    private boolean closed;

    private AmpScope(Amp amp, DeviceType type) {
        this.amp = amp;
        this.type = type;
        if (amp.enabled()) {
            wasEnabled = torch.is_autocast_enabled(type);
            previous = torch.get_autocast_dtype(type);
            torch.set_autocast_dtype(type, scalarType(amp));
            torch.set_autocast_enabled(type, true);
            torch.increment_nesting();
        } else {
            wasEnabled = false;
            previous = null;
        }
    }

    static AmpScope open(Amp amp, boolean cuda) {
        return new AmpScope(amp, cuda ? DeviceType.CUDA : DeviceType.CPU);
    }

    /** The mode this scope applies. */
    public Amp amp() {
        return amp;
    }

    /** The libtorch type of a mode: BFloat16, Half, or Float for {@link Amp#NONE}. */
    public static ScalarType scalarType(Amp amp) {
        return switch (amp) {
            case BF16 -> ScalarType.BFloat16;
            case FP16 -> ScalarType.Half;
            case NONE -> ScalarType.Float;
        };
    }

    /** {@code t} itself when it is float32, else a float32 copy (logits for the loss, for reading). */
    public static Tensor toFloat(Tensor t) {
        return t.scalar_type().value == ScalarType.Float.value ? t : t.to(ScalarType.Float);
    }

    /**
     * {@code f} applied to {@code x} under autocast for {@code amp} on {@code device}, the result in float32; for
     * {@link Amp#NONE} simply {@code f.apply(x)}.
     */
    public static Tensor forward(Amp amp, String device, UnaryOperator<Tensor> f, Tensor x) {
        if (!amp.enabled()) {
            return f.apply(x);
        }
        try (AmpScope s = amp.autocast(device)) {
            return toFloat(f.apply(x));
        }
    }

    /** Restores the thread's previous autocast state for this device type; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("an AmpScope must be closed on the thread that opened it (autocast is "
                    + "thread-local)");
        }
        closed = true;
        if (amp.enabled()) {
            if (torch.decrement_nesting() == 0) {
                torch.clear_cache();
            }
            torch.set_autocast_enabled(type, wasEnabled);
            torch.set_autocast_dtype(type, previous);
        }
    }
}
