package dev.leaderpod.leaderonly;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.leaderonly.SelfInvocationScanner.Finding;
import dev.leaderpod.leaderonly.SelfInvocationScanner.Signature;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.asm.Type;

class SelfInvocationScannerTest {

    @Test
    void reportsCallsOnThisFromUngatedMethodsOnly() {
        List<Finding> findings = scan(Sample.class);

        assertThat(findings)
                .filteredOn(finding -> !finding.caller().startsWith("Sample.lambda$"))
                .containsExactlyInAnyOrder(
                        new Finding("Sample.callsThis()", "Sample.gated()", false),
                        new Finding("Sample.callsThisWithArguments(String)", "Sample.gatedWith(String, long)", false),
                        new Finding("Sample.<init>()", "Sample.gated()", false),
                        new Finding("Sample.methodReference(Executor)", "Sample.gated()", true));
        // javac compiles a lambda into lambda$<enclosing method>$<n>: only the one in the ungated method counts.
        assertThat(findings)
                .filteredOn(finding -> finding.caller().startsWith("Sample.lambda$"))
                .singleElement()
                .satisfies(finding -> {
                    assertThat(finding.caller()).startsWith("Sample.lambda$lambdaInUngatedMethod$");
                    assertThat(finding.callee()).isEqualTo("Sample.gated()");
                });
    }

    @Test
    void reportsCallsOfInheritedGatedMethodsFromSubclasses() {
        assertThat(scan(Child.class))
                .contains(new Finding("Child.childCalls()", "Child.gated()", false))
                .doesNotContain(new Finding("Child.callsSelf()", "Child.gated()", false));
    }

    private static List<Finding> scan(Class<?> type) {
        Set<Signature> gated = Arrays.stream(Sample.class.getDeclaredMethods())
                .filter(method -> method.isAnnotationPresent(LeaderOnly.class))
                .map(method -> new Signature(method.getName(), Type.getMethodDescriptor(method)))
                .collect(Collectors.toSet());
        return SelfInvocationScanner.scan(
                type,
                gated,
                signature -> type.getSimpleName() + "." + signature.name()
                        + "("
                        + Arrays.stream(Type.getArgumentTypes(signature.descriptor()))
                                .map(argument -> argument.getClassName()
                                        .substring(argument.getClassName().lastIndexOf('.') + 1))
                                .collect(Collectors.joining(", "))
                        + ")");
    }

    @SuppressWarnings("unused")
    static class Sample {
        private Sample self;

        Sample() {
            gated();
        }

        @LeaderOnly
        public void gated() {}

        @LeaderOnly
        public void gatedWith(String text, long number) {}

        public void callsThis() {
            gated();
        }

        public void callsThisWithArguments(String text) {
            gatedWith(text, 3L);
        }

        public void callsSelf() {
            self.gated();
            self.gatedWith("x", 1L);
        }

        @LeaderOnly
        public void gatedCaller() {
            gated();
            Runnable inline = () -> gated();
            inline.run();
        }

        public void lambdaInUngatedMethod(Executor executor) {
            executor.execute(() -> gated());
        }

        public void methodReference(Executor executor) {
            executor.execute(this::gated);
        }

        public void selfMethodReference(Executor executor) {
            executor.execute(self::gated);
        }

        public void onAnotherInstance(Sample other) {
            other.gated();
        }

        static void staticCaller(Sample sample) {
            sample.gated();
        }

        Method unrelated() throws NoSuchMethodException {
            return Sample.class.getMethod("gated");
        }
    }

    static class Child extends Sample {
        public void childCalls() {
            gated();
        }
    }
}
