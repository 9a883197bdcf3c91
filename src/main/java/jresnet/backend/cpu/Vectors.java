package jresnet.backend.cpu;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * What this JVM offers the CPU kernels: the preferred float vector (512 bits with AVX-512, 256 with
 * AVX2, 128 with SSE or {@code -XX:MaxVectorSize=16}) and whether a fused multiply-add is an
 * instruction. Everything here is fixed per machine and JVM flags, so the kernels chosen from it, and
 * the rounding of every sum they make, are the same on every run (exact resume relies on that).
 * Also the small vector loops the op families share.
 */
final class Vectors {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int LANES = SPECIES.length();
    static final int BITS = SPECIES.vectorBitSize();
    /**
     * False where HotSpot runs without FMA ({@code -XX:UseAVX=0}, CPUs before Haswell/Piledriver):
     * there {@code FloatVector.fma} falls back to {@code Math.fma} per lane, which computes in
     * BigDecimal, so the kernels multiply and add instead.
     */
    static final boolean FUSED_MULTIPLY_ADD = hotSpotFlag("UseFMA", true);

    private Vectors() {}

    /** a·b + c, fused where the CPU has the instruction. */
    static FloatVector mulAdd(FloatVector a, FloatVector b, FloatVector c) {
        return FUSED_MULTIPLY_ADD ? a.fma(b, c) : a.mul(b).add(c);
    }

    private static boolean hotSpotFlag(String name, boolean otherwise) {
        try {
            HotSpotDiagnosticMXBean hotSpot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return hotSpot == null ? otherwise : Boolean.parseBoolean(hotSpot.getVMOption(name).getValue());
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            return otherwise; // not HotSpot, or a build without the flag
        }
    }

    /** dst[to, to + length) = src[from, from + length). */
    static void copy(float[] src, int from, float[] dst, int to, int length) {
        int i = 0;
        for (; i + LANES <= length; i += LANES) FloatVector.fromArray(SPECIES, src, from + i).intoArray(dst, to + i);
        for (; i < length; i++) dst[to + i] = src[from + i];
    }

    /** dst[to, to + length) = 0. */
    static void zero(float[] dst, int to, int length) {
        int i = 0;
        for (; i + LANES <= length; i += LANES) FloatVector.zero(SPECIES).intoArray(dst, to + i);
        for (; i < length; i++) dst[to + i] = 0f;
    }

    /** dst[to, to + length) += src[from, from + length). */
    static void addInto(float[] src, int from, float[] dst, int to, int length) {
        int i = 0;
        for (; i + LANES <= length; i += LANES) {
            FloatVector.fromArray(SPECIES, dst, to + i).add(FloatVector.fromArray(SPECIES, src, from + i)).intoArray(dst, to + i);
        }
        for (; i < length; i++) dst[to + i] += src[from + i];
    }

    /** Adds {@code bias} to each of {@code rows} rows of {@code channels} values from {@code offset}. */
    static void addToRows(float[] out, int offset, int rows, float[] bias, int channels) {
        for (int r = 0; r < rows; r++) {
            int base = offset + r * channels;
            for (int c = 0; c < channels; c++) out[base + c] += bias[c];
        }
    }
}
