package dev.leaderpod.leaderonly;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.springframework.asm.ClassReader;
import org.springframework.asm.ClassVisitor;
import org.springframework.asm.Handle;
import org.springframework.asm.MethodVisitor;
import org.springframework.asm.Opcodes;
import org.springframework.asm.SpringAsmInfo;
import org.springframework.asm.Type;

/**
 * Finds, in a bean's bytecode, calls of its own gated methods on {@code this} from methods that are not gated:
 * such calls bypass the proxy, so they run without a leadership check. Best effort and cheap: it reads only the
 * classes that have gated methods, and recognises the receiver {@code this} only when the arguments are plain loads
 * or constants ({@code this.purge()}, {@code this.purge(id)}), and method references {@code this::purge}. A call
 * through an injected self-reference ({@code self.purge()}) is not reported. Calls from a lambda written inside a
 * gated method are not reported either: they usually run within that call.
 */
final class SelfInvocationScanner {

    /**
     * A self-invocation that bypasses the proxy.
     *
     * @param caller the calling method, as {@code Type.method(...)}
     * @param callee the gated method called, as {@code Type.method(...)}
     * @param methodReference whether it is a method reference ({@code this::callee}) rather than a call
     */
    record Finding(String caller, String callee, boolean methodReference) {}

    /** A method of the scanned hierarchy, by name and descriptor. */
    record Signature(String name, String descriptor) {}

    private static final int THIS = 1;
    private static final int SIMPLE = 2;
    private static final int OTHER = 3;
    private static final int WINDOW = 32;

    private SelfInvocationScanner() {}

    /**
     * @param userClass the bean's class; it and its superclasses (below {@code Object}) are read
     * @param gated the gated methods of the bean
     * @param describe renders a signature of {@code userClass}'s hierarchy for messages
     */
    static List<Finding> scan(
            Class<?> userClass, Set<Signature> gated, java.util.function.Function<Signature, String> describe) {
        Set<String> owners = new HashSet<>();
        List<Class<?>> hierarchy = new ArrayList<>();
        for (Class<?> type = userClass; type != null && type != Object.class; type = type.getSuperclass()) {
            owners.add(Type.getInternalName(type));
            hierarchy.add(type);
        }
        Set<Finding> findings = new LinkedHashSet<>();
        for (Class<?> type : hierarchy) {
            ClassLoader loader = type.getClassLoader();
            if (loader == null) {
                continue;
            }
            try (InputStream bytes = loader.getResourceAsStream(Type.getInternalName(type) + ".class")) {
                if (bytes != null) {
                    new ClassReader(bytes)
                            .accept(
                                    new Scanner(owners, gated, describe, findings),
                                    ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
                }
            } catch (IOException | RuntimeException e) {
                // Best effort: an unreadable or unusual class file is simply not scanned.
            }
        }
        return List.copyOf(findings);
    }

    private static final class Scanner extends ClassVisitor {
        private final Set<String> owners;
        private final Set<Signature> gated;
        private final java.util.function.Function<Signature, String> describe;
        private final Set<Finding> findings;
        private final Set<String> gatedNames = new HashSet<>();

        Scanner(
                Set<String> owners,
                Set<Signature> gated,
                java.util.function.Function<Signature, String> describe,
                Set<Finding> findings) {
            super(SpringAsmInfo.ASM_VERSION);
            this.owners = owners;
            this.gated = gated;
            this.describe = describe;
            this.findings = findings;
            gated.forEach(signature -> gatedNames.add(signature.name()));
        }

        @Override
        public MethodVisitor visitMethod(
                int access, String name, String descriptor, String signature, String[] exceptions) {
            if ((access & Opcodes.ACC_STATIC) != 0 || (access & Opcodes.ACC_ABSTRACT) != 0) {
                return null;
            }
            Signature caller = new Signature(name, descriptor);
            if (gated.contains(caller) || isLambdaInGatedMethod(name)) {
                return null; // already checked on entry
            }
            return new CallVisitor(caller);
        }

        /** javac names the body of a lambda written in method {@code m} {@code lambda$m$N}. */
        private boolean isLambdaInGatedMethod(String name) {
            if (!name.startsWith("lambda$")) {
                return false;
            }
            int end = name.indexOf('$', "lambda$".length());
            return end > 0 && gatedNames.contains(name.substring("lambda$".length(), end));
        }

        private final class CallVisitor extends MethodVisitor {
            private final Signature caller;
            /** What pushed the most recent stack values: THIS, a SIMPLE value, or OTHER (anything else). */
            private final Deque<Integer> recent = new ArrayDeque<>();

            CallVisitor(Signature caller) {
                super(SpringAsmInfo.ASM_VERSION);
                this.caller = caller;
            }

            private void push(int kind) {
                recent.addLast(kind);
                if (recent.size() > WINDOW) {
                    recent.removeFirst();
                }
            }

            /** Whether the receiver below {@code arguments} simple values is {@code this}. */
            private boolean receiverIsThis(int arguments) {
                if (recent.size() < arguments + 1) {
                    return false;
                }
                Iterator<Integer> fromTop = recent.descendingIterator();
                for (int i = 0; i < arguments; i++) {
                    if (fromTop.next() == OTHER) {
                        return false;
                    }
                }
                return fromTop.next() == THIS;
            }

            @Override
            public void visitVarInsn(int opcode, int varIndex) {
                boolean load = opcode >= Opcodes.ILOAD && opcode <= Opcodes.ALOAD;
                push(load ? (opcode == Opcodes.ALOAD && varIndex == 0 ? THIS : SIMPLE) : OTHER);
            }

            @Override
            public void visitInsn(int opcode) {
                push(opcode >= Opcodes.ACONST_NULL && opcode <= Opcodes.DCONST_1 ? SIMPLE : OTHER);
            }

            @Override
            public void visitIntInsn(int opcode, int operand) {
                push(opcode == Opcodes.NEWARRAY ? OTHER : SIMPLE);
            }

            @Override
            public void visitLdcInsn(Object value) {
                push(SIMPLE);
            }

            @Override
            public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
                push(opcode == Opcodes.GETSTATIC ? SIMPLE : OTHER);
            }

            @Override
            public void visitTypeInsn(int opcode, String type) {
                push(OTHER);
            }

            @Override
            public void visitJumpInsn(int opcode, org.springframework.asm.Label label) {
                push(OTHER);
            }

            @Override
            public void visitIincInsn(int varIndex, int increment) {
                push(OTHER);
            }

            @Override
            public void visitTableSwitchInsn(
                    int min, int max, org.springframework.asm.Label dflt, org.springframework.asm.Label... labels) {
                push(OTHER);
            }

            @Override
            public void visitLookupSwitchInsn(
                    org.springframework.asm.Label dflt, int[] keys, org.springframework.asm.Label[] labels) {
                push(OTHER);
            }

            @Override
            public void visitMultiANewArrayInsn(String descriptor, int numDimensions) {
                push(OTHER);
            }

            @Override
            public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
                Signature callee = new Signature(name, descriptor);
                if ((opcode == Opcodes.INVOKEVIRTUAL || opcode == Opcodes.INVOKESPECIAL)
                        && owners.contains(owner)
                        && gated.contains(callee)
                        && receiverIsThis(Type.getArgumentTypes(descriptor).length)) {
                    findings.add(new Finding(describe.apply(caller), describe.apply(callee), false));
                }
                push(OTHER);
            }

            @Override
            public void visitInvokeDynamicInsn(
                    String name, String descriptor, Handle bootstrap, Object... bootstrapArguments) {
                if (bootstrap.getOwner().equals("java/lang/invoke/LambdaMetafactory")
                        && bootstrapArguments.length > 1
                        && bootstrapArguments[1] instanceof Handle target
                        && (target.getTag() == Opcodes.H_INVOKEVIRTUAL || target.getTag() == Opcodes.H_INVOKESPECIAL)
                        && owners.contains(target.getOwner())
                        && !target.getName().startsWith("lambda$")
                        && gated.contains(new Signature(target.getName(), target.getDesc()))
                        && Type.getArgumentTypes(descriptor).length == 1
                        && receiverIsThis(0)) {
                    findings.add(new Finding(
                            describe.apply(caller),
                            describe.apply(new Signature(target.getName(), target.getDesc())),
                            true));
                }
                push(OTHER);
            }
        }
    }
}
