package org.fixres4j.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/** Reads any weight file timm users have: {@code .safetensors}, or a {@code torch.save} {@code .pth}/{@code .bin}. */
public final class WeightFiles {
    private WeightFiles() {}

    /** The format of a file, from its first bytes (the extension is only a hint). */
    public enum Format {
        SAFETENSORS,
        TORCH_ZIP,
        TORCH_LEGACY
    }

    /** Detects the format; throws {@link WeightFormatException} naming the file if it is neither. */
    public static Format detect(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such weight file");
        }
        byte[] head = new byte[10];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return Format.TORCH_ZIP;
        }
        if (n >= 2 && (head[0] & 0xFF) == 0x80) {
            return Format.TORCH_LEGACY; // a pickle (protocol 2+): the legacy torch.save layout starts with one
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".safetensors") || (n >= 9 && head[8] == '{')) {
            return Format.SAFETENSORS;
        }
        throw new WeightFormatException(file + ": not a safetensors file nor a torch.save file (zip or legacy)");
    }

    /**
     * Reads model weights from any supported file (never executes code from it) and checks that every floating-point
     * value is finite.
     *
     * @throws NonFiniteWeightsException naming the file and the first tensor holding a NaN or infinity
     */
    public static StateDict read(Path file) throws IOException {
        StateDict sd = readUnchecked(file);
        sd.requireFinite(file.toString());
        return sd;
    }

    /** Reads a state dict from any supported file as it is (NaN and infinite values included). */
    public static StateDict readUnchecked(Path file) throws IOException {
        return switch (detect(file)) {
            case SAFETENSORS -> SafeTensors.read(file);
            case TORCH_ZIP, TORCH_LEGACY -> PthReader.read(file);
        };
    }
}
