package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;
import jresnet.train.Interrupts.Policy.Action;
import org.junit.jupiter.api.Test;

/** The double-signal rule, on a clock the test moves by hand. */
class InterruptsTest {
    private final AtomicLong now = new AtomicLong(5_000_000_000L);
    private final Interrupts.Policy policy = new Interrupts.Policy(now::get);

    /** GNU timeout: kill(child, TERM) then kill(0, TERM), microseconds apart, is one stop. */
    @Test void theSameStopDeliveredTwiceStillCheckpoints() {
        assertEquals(Action.STOP, policy.onSignal());
        now.addAndGet(50_000);
        assertEquals(Action.IGNORE, policy.onSignal());
        now.addAndGet(Interrupts.SAME_STOP_NANOS - 50_001);
        assertEquals(Action.IGNORE, policy.onSignal(), "still within the window of the first signal");
    }

    @Test void aLaterSecondSignalExitsAtOnce() {
        assertEquals(Action.STOP, policy.onSignal());
        now.addAndGet(Interrupts.SAME_STOP_NANOS);
        assertEquals(Action.EXIT_NOW, policy.onSignal());
    }

    /** The window counts from the first signal: repeats cannot stretch it forever. */
    @Test void repeatsDoNotExtendTheWindow() {
        assertEquals(Action.STOP, policy.onSignal());
        now.addAndGet(Interrupts.SAME_STOP_NANOS / 2);
        assertEquals(Action.IGNORE, policy.onSignal());
        now.addAndGet(Interrupts.SAME_STOP_NANOS / 2);
        assertEquals(Action.EXIT_NOW, policy.onSignal());
    }
}
