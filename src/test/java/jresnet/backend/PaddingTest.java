package jresnet.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jresnet.tensor.Shape;
import org.junit.jupiter.api.Test;

/** TensorFlow "same" padding, checked against values computed by hand from TF's rule. */
class PaddingTest {
    private static void check(int n, int k, int s, int out, int before, int after) {
        ConvGeometry g = ConvGeometry.of(Shape.of(1, n, n, 1), k, k, 1, s, Padding.SAME);
        assertEquals(out, g.outH(), "out");
        assertEquals(before, g.padTop(), "before");
        assertEquals(after, g.padBottom(), "after");
        assertEquals(before, g.padLeft());
        assertEquals(after, g.padRight());
    }

    @Test void threeByThreeStrideOneIsSymmetric() { check(32, 3, 1, 32, 1, 1); }

    /** out = 16, total = 15·2 + 3 − 32 = 1: nothing before, one row after. */
    @Test void threeByThreeStrideTwoOnEvenSizePadsBottomRight() { check(32, 3, 2, 16, 0, 1); }

    /** out = 8, total = 7·2 + 3 − 15 = 2: one each side. */
    @Test void threeByThreeStrideTwoOnOddSize() { check(15, 3, 2, 8, 1, 1); }

    @Test void oneByOneStrideTwoNeedsNoPadding() { check(32, 1, 2, 16, 0, 0); }

    /** out = 3, total = 2·3 + 5 − 8 = 3: one before, two after. */
    @Test void fiveByFiveStrideThree() { check(8, 5, 3, 3, 1, 2); }

    @Test void validPooling() {
        ConvGeometry g = ConvGeometry.of(Shape.of(2, 4, 4, 7), 4, 4, 7, 4, Padding.VALID);
        assertEquals(1, g.outH());
        assertEquals(0, g.padTop() + g.padBottom());
        assertEquals(2, Padding.VALID.outputSize(9, 4, 4));
    }
}
