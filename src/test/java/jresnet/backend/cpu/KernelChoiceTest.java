package jresnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import jdk.incubator.vector.FloatVector;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.tensor.Shape;
import org.junit.jupiter.api.Test;

/**
 * The kernels follow the JVM's vector width and FMA support, so each Surefire execution (default,
 * -XX:UseAVX=2, -XX:MaxVectorSize=16 -XX:-UseFMA) really runs the CPU tests on the path its flags select.
 */
class KernelChoiceTest {
    private static String flag(String name) {
        return ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption(name).getValue();
    }

    @Test void widthAndTileFollowThePreferredSpecies() {
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        assertEquals(bits, Vectors.BITS);
        assertEquals(bits / Float.SIZE, Sgemm.LANES);
        assertEquals(bits >= 512 ? 8 : 6, Sgemm.MR);
        int useAvx = Integer.parseInt(flag("UseAVX"));
        if (useAvx < 3) assertTrue(bits <= 256, "UseAVX=" + useAvx + " yet " + bits + "-bit vectors");
        if (useAvx == 0 || Integer.parseInt(flag("MaxVectorSize")) == 16) assertEquals(128, bits);
        try (CpuBackend cpu = new CpuBackend(1)) {
            assertEquals(bits, cpu.vectorBits());
            assertTrue(cpu.kernelChoices().startsWith(bits + "-bit vectors"), cpu.kernelChoices());
        }
    }

    @Test void winogradTakesTheWideThreeByThreeStrideOneConvolutionsAtEveryWidth() {
        ConvolutionRule rule = ConvolutionRule.MEASURED;
        ConvGeometry wide = ConvGeometry.of(Shape.of(2, 16, 16, 32), 3, 3, 32, 1, Padding.SAME);
        for (ConvolutionRule.Pass pass : ConvolutionRule.Pass.values()) {
            assertTrue(rule.winograd(pass, wide), pass + " " + wide);
            assertFalse(rule.winograd(pass, ConvGeometry.of(Shape.of(2, 32, 32, 3), 3, 3, 16, 1, Padding.SAME)), "stem");
            assertFalse(rule.winograd(pass, ConvGeometry.of(Shape.of(2, 16, 16, 32), 3, 3, 64, 2, Padding.SAME)), "stride 2");
            assertFalse(rule.winograd(pass, ConvGeometry.of(Shape.of(2, 16, 16, 32), 1, 1, 64, 1, Padding.SAME)), "1 x 1");
        }
        try (CpuBackend cpu = new CpuBackend(1)) {
            assertTrue(cpu.kernelChoices().contains("Winograd F(4x4, 3x3)"), cpu.kernelChoices());
        }
    }

    @Test void multiplyAddIsFusedExactlyWhereTheJvmHasTheInstruction() {
        assertEquals(Boolean.parseBoolean(flag("UseFMA")), Vectors.FUSED_MULTIPLY_ADD);
        // 1 + 2^-23 squared: the fused result keeps the 2^-46 term that a rounded product loses.
        float x = 1 + 0x1p-23f;
        FloatVector v = FloatVector.broadcast(Vectors.SPECIES, x);
        float got = Vectors.mulAdd(v, v, FloatVector.broadcast(Vectors.SPECIES, -1 - 0x1p-22f)).lane(0);
        assertEquals(Vectors.FUSED_MULTIPLY_ADD ? 0x1p-46f : 0f, got);
    }
}
