package dev.leaderpod.leaderonly;

/** A {@code @LeaderOnly} bean or method that cannot be gated as declared; stops start-up. */
class LeaderOnlyDeclarationException extends IllegalStateException {

    private final String problem;
    private final String action;

    LeaderOnlyDeclarationException(String problem, String action) {
        super(problem + " " + action);
        this.problem = problem;
        this.action = action;
    }

    /** What is wrong, naming the bean and the method. */
    String getProblem() {
        return problem;
    }

    /** How to fix it. */
    String getAction() {
        return action;
    }
}
