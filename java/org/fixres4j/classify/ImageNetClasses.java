package org.fixres4j.classify;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The 1000 ImageNet-1k class names in class-index order (sorted synsets: 0 = tench), as a resource of the jar
 * ({@code imagenet_classes.txt}, written by {@code make_imagenet_classes.py} from Debian's torchvision 0.14).
 */
public final class ImageNetClasses {
    private static volatile List<String> names;

    private ImageNetClasses() {}

    /** The 1000 names, index = class. */
    public static List<String> names() {
        List<String> n = names;
        if (n == null) {
            try (InputStream in = ImageNetClasses.class.getResourceAsStream("imagenet_classes.txt")) {
                if (in == null) {
                    throw new IllegalStateException("imagenet_classes.txt is missing from the jar");
                }
                List<String> list = new ArrayList<>(1000);
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (!line.isEmpty()) {
                        list.add(line);
                    }
                }
                if (list.size() != 1000) {
                    throw new IllegalStateException("imagenet_classes.txt has " + list.size() + " names, not 1000");
                }
                n = List.copyOf(list);
                names = n;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return n;
    }
}
