package dev.leaderpod.leaderonly;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.leaderonly.SelfInvocationScanner.Finding;
import dev.leaderpod.leaderonly.SelfInvocationScanner.Signature;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.asm.Type;
import org.springframework.util.ReflectionUtils;

/**
 * Which receivers and arguments the self-invocation scanner recognises: {@code this} with arguments that are plain
 * loads or constants, as its Javadoc promises; a call on anything else must not be reported, and what it cannot
 * analyse it leaves alone rather than guess.
 */
class SelfInvocationScannerArgumentsTest {

    @Test
    void reportsCallsOnThisWhoseArgumentsAreLocalsConstantsOrStaticFields() {
        assertThat(callersOf(Receivers.class))
                .contains(
                        "nullArgument()",
                        "doubleOne()",
                        "zero()",
                        "byteConstant()",
                        "shortConstant()",
                        "intLocal(int)",
                        "staticField()");
    }

    @Test
    void reportsACallOfTheSuperclassesGatedMethodThroughSuper() {
        assertThat(scan(Overriding.class)).contains(new Finding("viaSuper()", "purge(Object)", false));
    }

    @Test
    void doesNotReportACallOnAnotherInstanceReturnedByAMethodOfThisOne() {
        assertThat(callersOf(Receivers.class)).doesNotContain("onReturnedInstance()");
    }

    @Test
    void doesNotMistakeThisPassedAsAnArgumentForTheReceiver() {
        // The receiver is 'other' in both; 'this' sits where a scanner that lost track of a branch or of an array
        // creation would look for the receiver.
        assertThat(callersOf(Receivers.class))
                .doesNotContain(
                        "conditionalArgument(Receivers, boolean, Object)", "arrayArgument(Receivers, int, int)");
    }

    @Test
    void leavesCallsWithComputedArgumentsAlone() {
        // A documented limit: only plain loads and constants are followed. Widening it must update the Javadoc.
        assertThat(callersOf(Receivers.class)).doesNotContain("computedArguments(int, Object)");
    }

    @Test
    void seesCallsOfUpToThirtyOneArgumentsAndSkipsWiderOnesWithoutLosingTheRestOfTheClass() {
        assertThat(callersOf(Wide.class)).containsExactlyInAnyOrder("callsWide31(" + ints(31) + ")", "callsNarrow()");
    }

    private static String simpleName(String className) {
        return className.substring(Math.max(className.lastIndexOf('.'), className.lastIndexOf('$')) + 1);
    }

    private static String ints(int count) {
        return String.join(", ", java.util.Collections.nCopies(count, "int"));
    }

    private static List<String> callersOf(Class<?> type) {
        return scan(type).stream().map(Finding::caller).toList();
    }

    private static List<Finding> scan(Class<?> type) {
        Set<Signature> gated = Arrays.stream(ReflectionUtils.getAllDeclaredMethods(type))
                .filter(method -> method.isAnnotationPresent(LeaderOnly.class))
                .map(method -> new Signature(method.getName(), Type.getMethodDescriptor(method)))
                .collect(Collectors.toSet());
        return SelfInvocationScanner.scan(
                type,
                gated,
                signature -> signature.name() + "("
                        + Arrays.stream(Type.getArgumentTypes(signature.descriptor()))
                                .map(argument -> simpleName(argument.getClassName()))
                                .collect(Collectors.joining(", "))
                        + ")");
    }

    @SuppressWarnings("unused")
    static class Receivers {
        static final Object NONE = new Object();
        private Receivers next;

        @LeaderOnly
        public void purge(Object what) {}

        @LeaderOnly
        public void purgeBoth(Object first, Object second) {}

        @LeaderOnly
        public void count(int n) {}

        @LeaderOnly
        public void rate(double r) {}

        public Receivers next() {
            return next;
        }

        public void nullArgument() {
            purge(null);
        }

        public void doubleOne() {
            rate(1.0);
        }

        public void zero() {
            count(0);
        }

        public void byteConstant() {
            count(100);
        }

        public void shortConstant() {
            count(1000);
        }

        public void intLocal(int n) {
            count(n);
        }

        public void staticField() {
            purge(NONE);
        }

        public void onReturnedInstance() {
            next().purge(null);
        }

        public void conditionalArgument(Receivers other, boolean flag, Object x) {
            other.purge(flag ? this : x);
        }

        public void arrayArgument(Receivers other, int rows, int columns) {
            other.purgeBoth(this, new int[rows][columns]);
        }

        public void computedArguments(int n, Object o) {
            count(n++);
            count(-n);
            purge("item " + n);
            purge((String) o);
        }
    }

    static class Overriding extends Receivers {
        @Override
        public void purge(Object what) {}

        public void viaSuper() {
            super.purge(null);
        }
    }

    @SuppressWarnings("unused")
    static class Wide {
        @LeaderOnly
        public void wide31(
                int a0,
                int a1,
                int a2,
                int a3,
                int a4,
                int a5,
                int a6,
                int a7,
                int a8,
                int a9,
                int a10,
                int a11,
                int a12,
                int a13,
                int a14,
                int a15,
                int a16,
                int a17,
                int a18,
                int a19,
                int a20,
                int a21,
                int a22,
                int a23,
                int a24,
                int a25,
                int a26,
                int a27,
                int a28,
                int a29,
                int a30) {}

        @LeaderOnly
        public void wide32(
                int a0,
                int a1,
                int a2,
                int a3,
                int a4,
                int a5,
                int a6,
                int a7,
                int a8,
                int a9,
                int a10,
                int a11,
                int a12,
                int a13,
                int a14,
                int a15,
                int a16,
                int a17,
                int a18,
                int a19,
                int a20,
                int a21,
                int a22,
                int a23,
                int a24,
                int a25,
                int a26,
                int a27,
                int a28,
                int a29,
                int a30,
                int a31) {}

        @LeaderOnly
        public void narrow() {}

        public void callsWide32(
                int a0,
                int a1,
                int a2,
                int a3,
                int a4,
                int a5,
                int a6,
                int a7,
                int a8,
                int a9,
                int a10,
                int a11,
                int a12,
                int a13,
                int a14,
                int a15,
                int a16,
                int a17,
                int a18,
                int a19,
                int a20,
                int a21,
                int a22,
                int a23,
                int a24,
                int a25,
                int a26,
                int a27,
                int a28,
                int a29,
                int a30,
                int a31) {
            wide32(
                    a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21,
                    a22, a23, a24, a25, a26, a27, a28, a29, a30, a31);
        }

        public void callsWide31(
                int a0,
                int a1,
                int a2,
                int a3,
                int a4,
                int a5,
                int a6,
                int a7,
                int a8,
                int a9,
                int a10,
                int a11,
                int a12,
                int a13,
                int a14,
                int a15,
                int a16,
                int a17,
                int a18,
                int a19,
                int a20,
                int a21,
                int a22,
                int a23,
                int a24,
                int a25,
                int a26,
                int a27,
                int a28,
                int a29,
                int a30) {
            wide31(
                    a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21,
                    a22, a23, a24, a25, a26, a27, a28, a29, a30);
        }

        public void callsNarrow() {
            narrow();
        }
    }
}
