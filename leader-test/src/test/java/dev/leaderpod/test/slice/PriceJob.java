package dev.leaderpod.test.slice;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnlyContext;

/** A leader-only job: returns the fencing token it ran with, or null when skipped. */
class PriceJob {

    @LeaderOnly
    public Long publishPrices() {
        return LeaderOnlyContext.fencingToken();
    }
}
