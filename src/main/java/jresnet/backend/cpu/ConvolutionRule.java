package jresnet.backend.cpu;

import jresnet.backend.ConvGeometry;

/** Which algorithm computes a convolution pass: im2col + SGEMM, or {@link Winograd} where it applies. */
interface ConvolutionRule {
    enum Pass { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    /** Whether {@code pass} of the convolution {@code g} (its forward geometry) runs through Winograd. */
    boolean winograd(Pass pass, ConvGeometry g);

    /** The rule in words, for {@code bench}. */
    String describe();

    /** im2col + SGEMM for everything. */
    ConvolutionRule IM2COL = new ConvolutionRule() {
        @Override public boolean winograd(Pass pass, ConvGeometry g) { return false; }

        @Override public String describe() { return "im2col + SGEMM"; }
    };

    /** Winograd F(2x2, 3x3) wherever it applies (3 x 3, stride 1). */
    ConvolutionRule WINOGRAD = new ConvolutionRule() {
        @Override public boolean winograd(Pass pass, ConvGeometry g) { return Winograd.supports(g); }

        @Override public String describe() { return "Winograd F(2x2, 3x3) for every 3 x 3 stride-1 pass, im2col + SGEMM otherwise"; }
    };
}
