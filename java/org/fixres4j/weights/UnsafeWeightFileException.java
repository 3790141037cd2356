package org.fixres4j.weights;

/**
 * A pickle in a {@code .pth} file refers to a Python global outside the reader's allow-list (for example
 * {@code posix.system}, {@code builtins.eval} or a model class). Nothing is ever executed: the reader stops at the
 * reference. {@link #global()} names the offending {@code module.name}.
 */
public class UnsafeWeightFileException extends WeightFormatException {
    private static final long serialVersionUID = 1L;

    private final String global;

    /** For the offending global {@code module.name}, with context. */
    public UnsafeWeightFileException(String global, String context) {
        super("refusing to load: the pickle references the global '" + global + "', which is not on the allow-list of"
                + " tensor-only weight files (nothing was executed)" + (context == null || context.isEmpty() ? ""
                : "; " + context));
        this.global = global;
    }

    private UnsafeWeightFileException(String global, String message, Throwable cause) {
        super(message, cause);
        this.global = global;
    }

    /** The same refusal with the file named first in the message. */
    public UnsafeWeightFileException in(java.nio.file.Path file) {
        return new UnsafeWeightFileException(global, file + ": " + getMessage(), this);
    }

    /** The offending global, as {@code module.name}. */
    public String global() {
        return global;
    }
}
