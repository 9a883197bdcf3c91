package jresnet.backend.cpu;

import jresnet.backend.ConvGeometry;

/** Which algorithm computes a convolution pass: im2col + SGEMM, or {@link Winograd} of one size where it applies. */
interface ConvolutionRule {
    enum Pass { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    enum Algorithm { IM2COL, WINOGRAD_2X2, WINOGRAD_4X4 }

    /** The algorithm of {@code pass} of the convolution {@code g} (its forward geometry). */
    Algorithm algorithm(Pass pass, ConvGeometry g);

    /** The rule in words, for {@code bench}. */
    String describe();

    /**
     * The backend's rule, a fixed one (the same kernels, so the same rounding, on every run of a machine):
     * Winograd F(2x2, 3x3) for 3 x 3 stride-1 passes whose input and output both have at least
     * {@link #WINOGRAD_MIN_CHANNELS} channels, on vectors of at most 256 bits. It measured faster than
     * im2col + SGEMM in all three passes of every such resnet20 and resnet30 shape with 256- and
     * 128-bit vectors on the Zen 3 host of docs/performance.md, and slower on the 3- and 8-channel
     * stems (the transforms cost as much as the GEMMs there). F(4x4, 3x3) measured faster still
     * (1.2-1.9x per pass at 16-64 channels) but is not the rule yet: in about one JVM in six its hot
     * code ended up compiled without the Vector-API intrinsics for good (a resnet8 step allocating
     * 45 MB of boxed vectors instead of 70 KB, CpuBackendMemoryTest), which F(2x2) never did in the
     * same trials. 512-bit vectors keep im2col + SGEMM: no AVX-512 host has measured Winograd there.
     */
    ConvolutionRule MEASURED = new ConvolutionRule() {
        @Override public Algorithm algorithm(Pass pass, ConvGeometry g) {
            return Vectors.BITS <= 256 && Winograd.supports(g) && Math.min(g.inC(), g.outC()) >= WINOGRAD_MIN_CHANNELS
                    ? Algorithm.WINOGRAD_2X2 : Algorithm.IM2COL;
        }

        @Override public String describe() {
            return Vectors.BITS <= 256
                    ? "Winograd F(2x2, 3x3) for 3 x 3 stride-1 passes with at least " + WINOGRAD_MIN_CHANNELS
                            + " input and output channels, im2col + SGEMM otherwise"
                    : "im2col + SGEMM";
        }
    };

    /** Fewest channels (in and out) at which Winograd measured faster; the stems' 3 and 8 did not. */
    int WINOGRAD_MIN_CHANNELS = 16;

    /** im2col + SGEMM for everything. */
    ConvolutionRule IM2COL = new ConvolutionRule() {
        @Override public Algorithm algorithm(Pass pass, ConvGeometry g) { return Algorithm.IM2COL; }

        @Override public String describe() { return "im2col + SGEMM"; }
    };

    /** Winograd F(2x2, 3x3) wherever it applies (3 x 3, stride 1). */
    ConvolutionRule WINOGRAD_2X2 = everywhere(Algorithm.WINOGRAD_2X2, "F(2x2, 3x3)");

    /** Winograd F(4x4, 3x3) wherever it applies (3 x 3, stride 1). */
    ConvolutionRule WINOGRAD_4X4 = everywhere(Algorithm.WINOGRAD_4X4, "F(4x4, 3x3)");

    private static ConvolutionRule everywhere(Algorithm winograd, String size) {
        return new ConvolutionRule() {
            @Override public Algorithm algorithm(Pass pass, ConvGeometry g) {
                return Winograd.supports(g) ? winograd : Algorithm.IM2COL;
            }

            @Override public String describe() { return "Winograd " + size + " for every 3 x 3 stride-1 pass, im2col + SGEMM otherwise"; }
        };
    }
}
