package jresnet.io.tensorboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class Crc32cTest {
    private static final byte[] CHECK_INPUT = "123456789".getBytes(StandardCharsets.US_ASCII);

    @Test
    void crcOfTheStandardCheckInputIsTheCastagnoliCheckValue() {
        assertEquals(0xE3069283, Crc32c.crc(CHECK_INPUT));
    }

    @Test
    void maskRotatesRightBy15AndAddsTheTensorFlowDelta() {
        // ((0xE3069283 >>> 15) | (0xE3069283 << 17)) + 0xa282ead8, computed by hand in 32 bits.
        assertEquals(0xC78AB0E5, Crc32c.maskedCrc(CHECK_INPUT));
    }

    @Test
    void crcOfASliceEqualsTheCrcOfTheSliceAlone() {
        byte[] padded = "xx123456789yyy".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xE3069283, Crc32c.crc(padded, 2, 9));
    }
}
