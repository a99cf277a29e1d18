package dev.leaderpod.leaderonly;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains a refused {@code @LeaderOnly} declaration at start-up: which bean and method, what is wrong, the fix. */
public class LeaderOnlyFailureAnalyzer extends AbstractFailureAnalyzer<LeaderOnlyDeclarationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, LeaderOnlyDeclarationException cause) {
        return new FailureAnalysis(
                "@LeaderOnly cannot be applied as declared: " + cause.getProblem(),
                cause.getAction() + " See the @LeaderOnly section of the Leader Election Pod README.",
                cause);
    }
}
