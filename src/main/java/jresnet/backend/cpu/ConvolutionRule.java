package jresnet.backend.cpu;

import jresnet.backend.ConvGeometry;

/** Which algorithm computes a convolution pass: im2col + SGEMM, or {@link Winograd} where it applies. */
interface ConvolutionRule {
    enum Pass { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    /** Whether {@code pass} of the convolution {@code g} (its forward geometry) runs through Winograd. */
    boolean winograd(Pass pass, ConvGeometry g);

    /** The rule in words, for {@code bench}. */
    String describe();

    /**
     * The backend's rule, a fixed one (the same kernels, so the same rounding, on every run of a machine):
     * Winograd F(4x4, 3x3) for 3 x 3 stride-1 passes whose input and output both have at least
     * {@link #WINOGRAD_MIN_CHANNELS} channels, at every vector width. It measured faster than im2col +
     * SGEMM in all three passes of every such resnet20 shape with 256- and 128-bit vectors on the Zen 3
     * host of docs/performance.md (1.2-2.0x faster than F(2x2, 3x3), the rule before it), and with
     * 512-bit vectors on the Xeon host there, in every pass of resnet20's and resnet30's shapes from
     * 8 x 8 pixels up (1.6-2.6x); level with im2col on resnet30's 4 x 4 x 512 layers (0.9-1.1x). It was
     * slower on the 3- and 8-channel stems, where the transforms cost as much as the GEMMs.
     */
    ConvolutionRule MEASURED = new ConvolutionRule() {
        @Override public boolean winograd(Pass pass, ConvGeometry g) {
            return Winograd.supports(g) && Math.min(g.inC(), g.outC()) >= WINOGRAD_MIN_CHANNELS;
        }

        @Override public String describe() {
            return "Winograd F(4x4, 3x3) for 3 x 3 stride-1 passes with at least " + WINOGRAD_MIN_CHANNELS
                    + " input and output channels, im2col + SGEMM otherwise";
        }
    };

    /** Fewest channels (in and out) at which Winograd measured faster; the stems' 3 and 8 did not. */
    int WINOGRAD_MIN_CHANNELS = 16;

    /** im2col + SGEMM for everything. */
    ConvolutionRule IM2COL = new ConvolutionRule() {
        @Override public boolean winograd(Pass pass, ConvGeometry g) { return false; }

        @Override public String describe() { return "im2col + SGEMM"; }
    };

    /** Winograd F(4x4, 3x3) wherever it applies (3 x 3, stride 1). */
    ConvolutionRule WINOGRAD = new ConvolutionRule() {
        @Override public boolean winograd(Pass pass, ConvGeometry g) { return Winograd.supports(g); }

        @Override public String describe() { return "Winograd F(4x4, 3x3) for every 3 x 3 stride-1 pass, im2col + SGEMM otherwise"; }
    };
}
