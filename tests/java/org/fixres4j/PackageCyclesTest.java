package org.fixres4j;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The packages of {@code org.fixres4j} form layers that only point down: no two packages may depend on each other,
 * directly or through others. Dependencies are read from the compiled classes' constant pools (every class, field and
 * method type they name), so Javadoc links do not count and nothing escapes through a fully qualified name.
 */
class PackageCyclesTest {
    private static final Pattern OURS = Pattern.compile("org/fixres4j/([a-z0-9_]+)/");

    @Test
    void noCyclesBetweenPackages() throws IOException, URISyntaxException {
        Path classes = Path.of(org.fixres4j.torch.Torch.class.getProtectionDomain().getCodeSource().getLocation()
                .toURI());
        Map<String, Set<String>> deps = new TreeMap<>();
        try (Stream<Path> files = Files.walk(classes.resolve("org/fixres4j"))) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                String pkg = classes.relativize(f.getParent()).toString().replace('\\', '/');
                Matcher own = OURS.matcher(pkg + "/");
                if (!own.lookingAt()) {
                    continue; // org/fixres4j itself
                }
                String from = own.group(1);
                Set<String> to = deps.computeIfAbsent(from, k -> new TreeSet<>());
                for (String s : constantStrings(f)) {
                    Matcher m = OURS.matcher(s);
                    while (m.find()) {
                        if (!m.group(1).equals(from)) {
                            to.add(m.group(1));
                        }
                    }
                }
            }
        }
        assertTrue(deps.size() > 10, "found too few packages: " + deps.keySet());
        List<List<String>> cycles = stronglyConnected(deps);
        if (!cycles.isEmpty()) {
            StringBuilder b = new StringBuilder("packages that depend on each other:");
            for (List<String> c : cycles) {
                b.append("\n  ").append(c);
                for (String p : c) {
                    Set<String> inCycle = new TreeSet<>(deps.getOrDefault(p, Set.of()));
                    inCycle.retainAll(c);
                    b.append("\n    ").append(p).append(" -> ").append(inCycle);
                }
            }
            fail(b.toString());
        }
    }

    /** The UTF-8 constants of a class file: every class name, descriptor and signature it refers to. */
    static List<String> constantStrings(Path classFile) throws IOException {
        List<String> out = new ArrayList<>();
        try (InputStream in = Files.newInputStream(classFile); DataInputStream d = new DataInputStream(in)) {
            if (d.readInt() != 0xCAFEBABE) {
                throw new IOException(classFile + " is not a class file");
            }
            d.readUnsignedShort();
            d.readUnsignedShort();
            int count = d.readUnsignedShort();
            for (int i = 1; i < count; i++) {
                int tag = d.readUnsignedByte();
                switch (tag) {
                    case 1 -> out.add(d.readUTF());
                    case 3, 4 -> d.readInt();
                    case 5, 6 -> {
                        d.readLong();
                        i++; // 8-byte constants take two slots
                    }
                    case 7, 8, 16, 19, 20 -> d.readUnsignedShort();
                    case 9, 10, 11, 12, 17, 18 -> d.readInt();
                    case 15 -> {
                        d.readUnsignedByte();
                        d.readUnsignedShort();
                    }
                    default -> throw new IOException(classFile + ": unknown constant tag " + tag);
                }
            }
        }
        return out;
    }

    /** Tarjan's strongly connected components with more than one package, each sorted. */
    static List<List<String>> stronglyConnected(Map<String, Set<String>> deps) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<List<String>> out = new ArrayList<>();
        int[] counter = {0};
        for (String v : deps.keySet()) {
            if (!index.containsKey(v)) {
                visit(v, deps, index, low, stack, onStack, out, counter);
            }
        }
        return out;
    }

    private static void visit(String v, Map<String, Set<String>> deps, Map<String, Integer> index,
                              Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                              List<List<String>> out, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]);
        counter[0]++;
        stack.push(v);
        onStack.add(v);
        for (String w : deps.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                visit(w, deps, index, low, stack, onStack, out, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            List<String> comp = new ArrayList<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                comp.add(w);
            } while (!w.equals(v));
            if (comp.size() > 1) {
                comp.sort(null);
                out.add(comp);
            }
        }
    }

    @Test
    void findsACycleWhenThereIsOne() {
        Map<String, Set<String>> deps = new TreeMap<>();
        deps.put("a", Set.of("b"));
        deps.put("b", Set.of("c"));
        deps.put("c", Set.of("a"));
        deps.put("d", Set.of("a"));
        assertTrue(stronglyConnected(deps).equals(List.of(List.of("a", "b", "c"))), "" + stronglyConnected(deps));
    }
}
