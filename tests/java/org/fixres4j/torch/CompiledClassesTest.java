package org.fixres4j.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Handle;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.commons.ClassRemapper;
import org.objectweb.asm.commons.Remapper;

/**
 * Rules about the compiled classes (target/classes), checked on the bytecode rather than by convention.
 *
 * <p><b>The loading rule.</b> libtorch must be loaded by {@link Torch#ensureLoaded()} before anything initialises a
 * class of the preset (org.bytedeco.pytorch): with a cold JavaCPP cache and a system libtorch, the preset's own
 * loading crashes the JVM. The JVM initialises a class only (JVMS 5.5) when code executes {@code new},
 * {@code getstatic}, {@code putstatic} or {@code invokestatic} on it (or a method handle of those kinds), when a
 * subclass is initialised, or by reflection. Calling an instance method on a preset object initialises nothing (the
 * object's class was initialised when it was made), and nor does a preset type in a signature. A class's methods run
 * only once the class is initialised. So it is enough that every class whose code has such an initialising
 * instruction on a preset class (or on one of the classes of rule 2) either
 * <ol>
 *   <li>starts its static initialiser with {@code Torch.ensureLoaded()} (before it, only reads and writes of its own
 *       static fields and {@code Class.desiredAssertionStatus}), or</li>
 *   <li>cannot have such an initialiser (it extends a preset type, so the preset initialises before it; or javac made
 *       it, like a switch map) and cannot be initialised from outside FixRes4J (no public or protected constructor,
 *       static method or non-constant static field): then whatever initialises it has an initialising instruction on
 *       it, and falls under this rule itself, or</li>
 *   <li>is an interface whose code has no initialising instruction on a preset class (interfaces have no static
 *       initialiser of their own to guard them).</li>
 * </ol>
 * Reflection is out of its reach: FixRes4J does not create preset classes reflectively.
 *
 * <p><b>The library rule.</b> The library jar leaves out org.fixres4j.cli, org.fixres4j.bench and org.fixres4j.app (they are in the cli
 * jar only) and picocli is not passed on to users: no other class may name them.
 */
class CompiledClassesTest {
    private static final String PRESET = "org/bytedeco/pytorch/";
    private static final String LOADER = "org/fixres4j/torch/Torch";

    /**
     * What one class file says about itself: every type it names anywhere, the classes its code can initialise, whether
     * code outside FixRes4J can initialise it, and its static initialiser's verdict (null: starts with the loader).
     */
    private record ClassInfo(String name, int access, String superName, String[] interfaces, Set<String> references,
                             Set<String> initialises, boolean openToCallers, String clinitVerdict) {
        boolean isInterface() {
            return (access & Opcodes.ACC_INTERFACE) != 0;
        }

        boolean isSynthetic() {
            return (access & Opcodes.ACC_SYNTHETIC) != 0;
        }
    }

    private static Map<String, ClassInfo> classes;

    @BeforeAll
    static void readClasses() throws IOException, URISyntaxException {
        Path root = Path.of(Torch.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isRegularFile(root.resolve(LOADER + ".class")), "compiled classes at " + root);
        classes = new LinkedHashMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class")).sorted()::iterator) {
                try (InputStream in = Files.newInputStream(f)) {
                    ClassInfo c = read(new ClassReader(in));
                    classes.put(c.name(), c);
                }
            }
        }
        assertTrue(classes.size() > 100, "found only " + classes.size() + " classes under " + root);
    }

    private static boolean initialisingHandle(Object o) {
        if (!(o instanceof Handle h)) {
            return false;
        }
        int tag = h.getTag();
        return tag == Opcodes.H_INVOKESTATIC || tag == Opcodes.H_NEWINVOKESPECIAL || tag == Opcodes.H_GETSTATIC
                || tag == Opcodes.H_PUTSTATIC;
    }

    private static ClassInfo read(ClassReader reader) {
        String self = reader.getClassName();
        boolean publicClass = (reader.getAccess() & Opcodes.ACC_PUBLIC) != 0;
        Set<String> refs = new TreeSet<>();
        Set<String> inits = new TreeSet<>();
        String[] clinit = {"no static initialiser"};
        boolean[] open = {false};
        Remapper collector = new Remapper() {
            @Override
            public String map(String internalName) {
                refs.add(internalName);
                return internalName;
            }
        };
        ClassVisitor inspector = new ClassVisitor(Opcodes.ASM9) {
            @Override
            public org.objectweb.asm.FieldVisitor visitField(int access, String name, String descriptor,
                                                             String signature, Object value) {
                if (publicClass && (access & Opcodes.ACC_STATIC) != 0 && value == null
                        && (access & (Opcodes.ACC_PUBLIC | Opcodes.ACC_PROTECTED)) != 0) {
                    open[0] = true;
                }
                return null;
            }

            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                             String[] exceptions) {
                if (publicClass && (access & (Opcodes.ACC_PUBLIC | Opcodes.ACC_PROTECTED)) != 0
                        && (name.equals("<init>") || (access & Opcodes.ACC_STATIC) != 0)) {
                    open[0] = true;
                }
                MethodVisitor code = new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int opcode, String owner, String mname, String desc, boolean itf) {
                        if (opcode == Opcodes.INVOKESTATIC) {
                            inits.add(owner);
                        }
                    }

                    @Override
                    public void visitFieldInsn(int opcode, String owner, String fname, String desc) {
                        if (opcode == Opcodes.GETSTATIC || opcode == Opcodes.PUTSTATIC) {
                            inits.add(owner);
                        }
                    }

                    @Override
                    public void visitTypeInsn(int opcode, String type) {
                        if (opcode == Opcodes.NEW) {
                            inits.add(type);
                        }
                    }

                    @Override
                    public void visitInvokeDynamicInsn(String iname, String desc, Handle bsm, Object... args) {
                        for (Object a : args) {
                            if (initialisingHandle(a)) {
                                inits.add(((Handle) a).getOwner());
                            }
                        }
                    }

                    @Override
                    public void visitLdcInsn(Object value) {
                        if (initialisingHandle(value)) {
                            inits.add(((Handle) value).getOwner());
                        }
                    }
                };
                if (!name.equals("<clinit>")) {
                    return code;
                }
                clinit[0] = "static initialiser does not call Torch.ensureLoaded()";
                return new MethodVisitor(Opcodes.ASM9, code) {
                    private boolean decided;

                    private void before(String what) {
                        if (!decided) {
                            decided = true;
                            clinit[0] = "static initialiser runs " + what + " before Torch.ensureLoaded()";
                        }
                    }

                    @Override
                    public void visitMethodInsn(int opcode, String owner, String mname, String desc, boolean itf) {
                        super.visitMethodInsn(opcode, owner, mname, desc, itf);
                        if (decided) {
                            return;
                        }
                        if (opcode == Opcodes.INVOKESTATIC && owner.equals(LOADER) && mname.equals("ensureLoaded")
                                && desc.equals("()V")) {
                            decided = true;
                            clinit[0] = null;
                        } else if (!(owner.equals("java/lang/Class") && mname.equals("desiredAssertionStatus"))) {
                            before(owner + "." + mname);
                        }
                    }

                    @Override
                    public void visitFieldInsn(int opcode, String owner, String fname, String desc) {
                        super.visitFieldInsn(opcode, owner, fname, desc);
                        if (!owner.equals(self)) {
                            before("an access to " + owner + "." + fname);
                        }
                    }

                    @Override
                    public void visitTypeInsn(int opcode, String type) {
                        super.visitTypeInsn(opcode, type);
                        if (opcode == Opcodes.NEW) {
                            before("new " + type);
                        }
                    }

                    @Override
                    public void visitInvokeDynamicInsn(String iname, String desc, Handle bsm, Object... args) {
                        super.visitInvokeDynamicInsn(iname, desc, bsm, args);
                        before("invokedynamic " + iname);
                    }
                };
            }
        };
        reader.accept(new ClassRemapper(inspector, collector), 0);
        refs.remove(self);
        inits.remove(self);
        return new ClassInfo(self, reader.getAccess(), reader.getSuperName(), reader.getInterfaces(), refs, inits,
                open[0], clinit[0]);
    }

    private static final Map<String, Boolean> EXTENDS_PRESET = new HashMap<>();

    /** Whether initialising this class initialises a preset class first (a preset superclass or superinterface). */
    private static boolean extendsPreset(String name) {
        if (name == null || name.startsWith("java/")) {
            return false;
        }
        if (name.startsWith(PRESET)) {
            return true;
        }
        Boolean known = EXTENDS_PRESET.get(name);
        if (known != null) {
            return known;
        }
        ClassInfo c = classes.get(name);
        boolean result = false;
        if (c != null) {
            result = extendsPreset(c.superName());
            for (String i : c.interfaces()) {
                result |= extendsPreset(i);
            }
        }
        EXTENDS_PRESET.put(name, result);
        return result;
    }

    /** Classes that cannot guard themselves with a static initialiser (rule 2). */
    private static boolean unguardable(ClassInfo c) {
        return extendsPreset(c.name()) || c.isSynthetic();
    }

    private static final Map<String, Boolean> PRESET_LOADS = new HashMap<>();

    /**
     * Whether initialising this preset class loads native code: its static initialiser calls JavaCPP's Loader (every
     * Pointer class of the preset does), or initialises a preset class that does, or its superclass does. The enums
     * nested in {@code global.torch} (ScalarType, MemoryFormat, ...) do not: plain Java.
     */
    private static boolean presetLoads(String name) {
        Boolean known = PRESET_LOADS.get(name);
        if (known != null) {
            return known;
        }
        PRESET_LOADS.put(name, true); // a cycle counts as loading, until proven otherwise below
        boolean result;
        try (InputStream in = ClassLoader.getSystemResourceAsStream(name + ".class")) {
            if (in == null) {
                result = true;
            } else {
                ClassReader r = new ClassReader(in);
                boolean[] loads = {false};
                Set<String> others = new TreeSet<>();
                r.accept(new ClassVisitor(Opcodes.ASM9) {
                    @Override
                    public MethodVisitor visitMethod(int access, String mname, String d, String sig, String[] ex) {
                        if (!mname.equals("<clinit>")) {
                            return null;
                        }
                        return new MethodVisitor(Opcodes.ASM9) {
                            @Override
                            public void visitMethodInsn(int op, String owner, String m, String desc, boolean itf) {
                                if (owner.equals("org/bytedeco/javacpp/Loader")) {
                                    loads[0] = true;
                                } else if (op == Opcodes.INVOKESTATIC) {
                                    others.add(owner);
                                }
                            }

                            @Override
                            public void visitFieldInsn(int op, String owner, String f, String desc) {
                                others.add(owner);
                            }

                            @Override
                            public void visitTypeInsn(int op, String type) {
                                if (op == Opcodes.NEW) {
                                    others.add(type);
                                }
                            }
                        };
                    }
                }, ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
                others.remove(name);
                result = loads[0] || (r.getSuperName() != null && r.getSuperName().startsWith(PRESET)
                        && presetLoads(r.getSuperName()))
                        || others.stream().anyMatch(o -> o.startsWith(PRESET) && presetLoads(o));
            }
        } catch (IOException e) {
            result = true;
        }
        PRESET_LOADS.put(name, result);
        return result;
    }

    /** Whether initialising a class of this name may load libtorch before its own code runs. */
    private static boolean reachesPreset(String name, Set<String> seen) {
        if (name.startsWith(PRESET)) {
            return presetLoads(name);
        }
        ClassInfo c = classes.get(name);
        if (c == null || !unguardable(c) || !seen.add(name)) {
            return false;
        }
        return extendsPreset(name) || c.initialises().stream().anyMatch(r -> reachesPreset(r, seen));
    }

    @Test
    void everyClassThatCanReachThePresetLoadsItThroughTorchFirst() {
        List<String> violations = new ArrayList<>();
        int guarded = 0;
        int covered = 0;
        for (ClassInfo c : classes.values()) {
            if (c.name().equals(LOADER)) {
                continue;
            }
            String example = c.initialises().stream().filter(r -> reachesPreset(r, new java.util.HashSet<>()))
                    .findFirst().orElse(null);
            if (example == null && !extendsPreset(c.name())) {
                continue;
            }
            String what = c.name().replace('/', '.') + (example == null ? ""
                    : " (initialises " + example.replace('/', '.') + ")");
            if (c.isInterface()) {
                violations.add(what + ": an interface, which has no static initialiser to load libtorch first");
            } else if (unguardable(c)) {
                if (c.openToCallers()) {
                    violations.add(what + ": extends a libtorch type or is synthetic, so it cannot load libtorch "
                            + "itself, yet callers outside can initialise it (make its constructors and static "
                            + "members package-private and create it through a class that loads libtorch)");
                } else {
                    covered++;
                }
            } else if (c.clinitVerdict() != null) {
                violations.add(what + ": " + c.clinitVerdict());
            } else {
                guarded++;
            }
        }
        assertEquals(List.of(), violations, "give each class `static { org.fixres4j.torch.Torch.ensureLoaded(); }` "
                + "as its first member, before any static field");
        List<String> needless = new ArrayList<>();
        for (ClassInfo c : classes.values()) {
            if (c.clinitVerdict() == null && !c.name().equals(LOADER) && !unguardable(c)
                    && c.initialises().stream().noneMatch(r -> reachesPreset(r, new java.util.HashSet<>()))) {
                needless.add(c.name().replace('/', '.'));
            }
        }
        // a guard where nothing needs one loads libtorch (seconds, ~450 MB on a first run) for code that never uses it
        assertEquals(List.of(), needless, "these classes load libtorch in their static initialiser but never touch it: "
                + "remove the guard");
        // the rule had something to check: the model, the loaders, the trainers all use libtorch
        assertTrue(guarded > 10, "only " + guarded + " guarded classes found");
        assertTrue(covered > 0, "no class extending a preset type found (EfficientNet is a Module)");
    }

    @Test
    void theLibraryNeedsNeitherTheCommandLineNorPicocli() {
        List<String> violations = new ArrayList<>();
        for (ClassInfo c : classes.values()) {
            if (c.name().startsWith("org/fixres4j/cli/") || c.name().startsWith("org/fixres4j/bench/")
                    || c.name().startsWith("org/fixres4j/app/")) {
                continue;
            }
            for (String r : c.references()) {
                if (r.startsWith("org/fixres4j/cli/") || r.startsWith("org/fixres4j/bench/")
                        || r.startsWith("org/fixres4j/app/") || r.startsWith("picocli/")) {
                    violations.add(c.name() + " -> " + r);
                }
            }
        }
        assertEquals(List.of(), violations, "library classes must not need what only the cli jar carries");
    }
}
