package jresnet.io.tensorboard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import jresnet.TestSeeds;
import jresnet.UserException;
import org.junit.jupiter.api.Test;

class EventCodecTest {
    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    /** Assembled by hand from event.proto and summary.proto, so the field numbers are pinned. */
    private static final byte[] SCALAR_EVENT = bytes(
            0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F,  // wall_time = 1.5 (field 1, fixed64)
            0x10, 0x03,                          // step = 3 (field 2, varint)
            0x2A, 0x0A,                          // summary (field 5), 10 bytes
            0x0A, 0x08,                          //   value (field 1), 8 bytes
            0x0A, 0x01, 'a',                     //     tag = "a" (field 1)
            0x15, 0, 0, 0, 0x40);                //     simple_value = 2.0f (field 2, fixed32)

    @Test
    void scalarEventEncodesToTheHandAssembledBytes() {
        Event event = Event.summary(1.5, 3, List.of(new SummaryValue.Scalar("a", 2.0f)));
        assertArrayEquals(SCALAR_EVENT, EventEncoder.encode(event));
        assertEquals(event, EventDecoder.decode(SCALAR_EVENT));
    }

    @Test
    void histogramEncodesToTheHandAssembledBytes() {
        Histogram histogram = new Histogram(1, 2, 3, 4, 5, new double[] {1.5, 2}, new double[] {1, 2});
        byte[] encoded = EventEncoder.encode(Event.summary(0, 0, List.of(
                new SummaryValue.HistogramValue("h", histogram))));
        byte[] expected = bytes(
                0x09, 0, 0, 0, 0, 0, 0, 0, 0,            // wall_time = 0
                0x10, 0x00,                              // step = 0
                0x2A, 0x58,                              // summary, 88 bytes
                0x0A, 0x56,                              //   value, 86 bytes
                0x0A, 0x01, 'h',                         //     tag = "h"
                0x2A, 0x51,                              //     histo (field 5), 81 bytes
                0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F,      //       min = 1 (field 1)
                0x11, 0, 0, 0, 0, 0, 0, 0x00, 0x40,      //       max = 2 (field 2)
                0x19, 0, 0, 0, 0, 0, 0, 0x08, 0x40,      //       num = 3 (field 3)
                0x21, 0, 0, 0, 0, 0, 0, 0x10, 0x40,      //       sum = 4 (field 4)
                0x29, 0, 0, 0, 0, 0, 0, 0x14, 0x40,      //       sum_squares = 5 (field 5)
                0x32, 0x10,                              //       bucket_limit (field 6), packed, 16 bytes
                0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0, 0, 0, 0, 0, 0, 0x00, 0x40,
                0x3A, 0x10,                              //       bucket (field 7), packed, 16 bytes
                0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0x00, 0x40);
        assertArrayEquals(expected, encoded);
    }

    @Test
    void fileVersionEventRoundTrips() {
        Event event = Event.fileVersion(1_700_000_000.25);
        Event decoded = EventDecoder.decode(EventEncoder.encode(event));
        assertEquals(event, decoded);
        assertEquals("brain.Event:2", decoded.fileVersion());
    }

    @Test
    void randomEventsRoundTrip() {
        long seed = TestSeeds.next();
        Random random = new Random(seed);
        for (int trial = 0; trial < 50; trial++) {
            float[] values = new float[1 + random.nextInt(500)];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            long step = random.nextLong();
            Event event = Event.summary(random.nextDouble() * 2e9, step, List.of(
                    new SummaryValue.Scalar("s/" + trial, random.nextFloat()),
                    new SummaryValue.HistogramValue("h/" + trial, Histogram.of(values, 1 + random.nextInt(40)))));
            assertEquals(event, EventDecoder.decode(EventEncoder.encode(event)), "seed " + seed);
        }
    }

    @Test
    void unpackedAndSplitRepeatedDoublesAreJoined() {
        // bucket_limit as two unpacked elements and bucket as two packed chunks: both legal protobuf.
        byte[] histo = bytes(
                0x31, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F,
                0x31, 0, 0, 0, 0, 0, 0, 0x00, 0x40,
                0x3A, 0x08, 0, 0, 0, 0, 0, 0, 0x08, 0x40,
                0x3A, 0x08, 0, 0, 0, 0, 0, 0, 0x10, 0x40);
        byte[] value = concat(bytes(0x0A, 0x01, 'h', 0x2A, histo.length), histo);
        byte[] summary = concat(bytes(0x0A, value.length), value);
        byte[] event = concat(bytes(0x2A, summary.length), summary);
        SummaryValue decoded = EventDecoder.decode(event).values().get(0);
        Histogram histogram = assertInstanceOf(SummaryValue.HistogramValue.class, decoded).histogram();
        assertArrayEquals(new double[] {1, 2}, histogram.bucketLimits());
        assertArrayEquals(new double[] {3, 4}, histogram.bucketCounts());
    }

    @Test
    void unknownFieldsAreSkippedAndUnknownValueKindsKeptByTag() {
        byte[] value = bytes(0x0A, 0x01, 'i', 0x22, 0x02, 0x08, 0x01);  // tag "i", image {height: 1}
        byte[] summary = concat(bytes(0x0A, value.length), value);
        byte[] event = concat(bytes(0x10, 0x07, 0x30, 0x05, 0x2A, summary.length), summary);  // + field 6 varint
        Event decoded = EventDecoder.decode(event);
        assertEquals(7, decoded.step());
        assertEquals(List.of(new SummaryValue.Other("i")), decoded.values());
    }

    @Test
    void truncatedEventIsRejectedWithItsPosition() {
        byte[] cut = Arrays.copyOf(SCALAR_EVENT, SCALAR_EVENT.length - 2);
        UserException e = assertThrows(UserException.class, () -> EventDecoder.decode(cut));
        assertTrue(e.getMessage().contains("malformed"), e.getMessage());
        assertTrue(e.getMessage().contains("at byte"), e.getMessage());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
