package org.fixres4j.report;

import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bytedeco.javacpp.Loader;

/**
 * The versions of the native libraries a run used, for provenance. Each comes from the artifact itself, never from
 * the manifest of the jar it was shaded into (whose Implementation-Version is FixRes4J's): a JavaCPP preset's version
 * from its {@code META-INF/maven/org.bytedeco/<artifact>/pom.properties} (JavaCPP's {@link Loader#getVersion}),
 * libtorch's from the loaded library's own build configuration ({@code torch::show_config()}, its
 * {@code TORCH_VERSION}).
 */
public final class SoftwareVersions {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    private static final Pattern TORCH_VERSION = Pattern.compile("TORCH_VERSION=([0-9][^,\\s]*)");

    private SoftwareVersions() {}

    /** JavaCPP's version ({@code 1.5.13}), or {@code unknown}. */
    public static String javacpp() {
        try {
            String v = Loader.getVersion();
            return v == null ? "unknown" : v;
        } catch (IOException | RuntimeException | LinkageError e) {
            return "unknown";
        }
    }

    /** The version of the JavaCPP preset {@code artifact} ({@code pytorch} -> {@code 2.10.0-1.5.13}), or unknown. */
    public static String preset(String artifact, String anyClassOfIt) {
        try {
            Class<?> c = Class.forName(anyClassOfIt, false, SoftwareVersions.class.getClassLoader());
            String v = Loader.getVersion("org.bytedeco", artifact, c);
            return v == null ? "unknown" : v;
        } catch (ClassNotFoundException | IOException | RuntimeException | LinkageError e) {
            return "unknown";
        }
    }

    /** The PyTorch preset's version. */
    public static String pytorchPreset() {
        return preset("pytorch", "org.bytedeco.pytorch.global.torch");
    }

    /**
     * libtorch's version: the loaded library's {@code TORCH_VERSION} when libtorch is loaded (it reports what really
     * runs), else the preset's version without its JavaCPP suffix ({@code 2.10.0-1.5.13 -> 2.10.0}).
     */
    public static String libtorch() {
        String loaded = loadedLibtorch();
        return loaded != null ? loaded : libtorchOfPreset(pytorchPreset());
    }

    /** The version in {@code torch::show_config()} of the loaded libtorch, or null (not loaded, not found). */
    static String loadedLibtorch() {
        try {
            if (!org.fixres4j.torch.Torch.isLoaded()) {
                return null;
            }
            try (org.bytedeco.javacpp.BytePointer p = org.bytedeco.pytorch.global.torch.show_config()) {
                return parseTorchVersion(p.getString());
            }
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }

    /** {@code TORCH_VERSION=x.y.z} of a {@code show_config()} text, or null. */
    static String parseTorchVersion(String config) {
        if (config == null) {
            return null;
        }
        Matcher m = TORCH_VERSION.matcher(config);
        return m.find() ? m.group(1) : null;
    }

    /** The part of a preset version before the JavaCPP suffix, or {@code unknown}. */
    static String libtorchOfPreset(String presetVersion) {
        if (presetVersion == null || presetVersion.equals("unknown")) {
            return "unknown";
        }
        int dash = presetVersion.indexOf('-');
        return dash > 0 ? presetVersion.substring(0, dash) : presetVersion;
    }
}
