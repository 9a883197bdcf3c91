package jresnet.backend.cpu;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * From how many panels of C {@link Sgemm} packs the rows of A, measured once per machine and kept in a
 * {@link TuningStore} (the cache folder, for the command line), keyed by CPU model, vector width, FMA
 * and JVM. Measured, not derived from the vector width, because the break-even moves with the CPU:
 * with 256-bit vectors, packing 128-column products was 15% faster than A in place on the Xeon
 * (Sapphire Rapids) host and 14% slower on the Zen 5 host; packing 64-column ones was 27% slower
 * there. At 512 bits on the Zen 5 host the two are within about 10% either way, and the JVM that
 * measures decides (docs/performance.md).
 * The packed and in-place kernels add the same products in the same order, so the choice moves speed
 * only: a result is the same bits whichever it is, on a machine with or without the cache.
 *
 * The JVM counts as much as the CPU: on Temurin 25 at 256 bits the kernel on packed rows ran at half
 * the speed of the one on A in place at every width, where on OpenJDK 17 the two were within 10% at
 * 256 columns and packing paid at 2048 (Zen 5 host, docs/performance.md), so no width is taken to
 * favour packing unmeasured.
 *
 * <p>The measurement times, on the calling thread, the two product shapes a convolution of that
 * width runs (an im2col block, K = 9 · N, and one Winograd point, K = N), packed and in place, in
 * alternation; packing is taken from the narrowest candidate width where it was faster on the two
 * together, else from the widest unless it was clearly slower there ({@link #CLEARLY_SLOWER}), else
 * never (timed twice before that). It takes one to three seconds, once per machine and JVM: the cache
 * file keeps the choice and the time ratios it was made from.
 */
final class SgemmTuning {
    /** C widths, in panels, from the narrowest: where the two kernels were close on the hosts measured (64-512 columns). */
    static final List<Integer> CANDIDATE_PANELS = List.of(8, 16, 32);
    /** The widest candidate: a product wider than this packs A's rows wherever any does. */
    static final int WIDEST_CANDIDATE = CANDIDATE_PANELS.get(CANDIDATE_PANELS.size() - 1);
    /** The choice where packing measured clearly slower at the widest candidate: A's rows are never packed. */
    static final int NEVER = Integer.MAX_VALUE;
    /**
     * Packed time over in-place time at the widest candidate above which packing is never chosen. Up to it
     * the widest candidate packs: the wider C is, the more packing pays (1.25x at 2048 columns on OpenJDK
     * 17, where 256 columns measured 0.95-1.08), while a JVM that compiles the packed kernel badly ran it
     * at twice the time at every width (Temurin 25, 256 bits).
     */
    static final double CLEARLY_SLOWER = 1.25;
    /** Rows per product (as many as a convolution's im2col block holds) and products per timing. */
    private static final int BLOCK_ROWS = 128 / Sgemm.MR * Sgemm.MR, BLOCKS = 8;
    /**
     * Until both kernels are compiled by C2 (it compiles in the background; timing one while the other
     * still runs in C1 code would decide for it), then rounds per shape.
     */
    private static final long WARMUP_NANOS = 500_000_000L;
    private static final int WARMUP_ROUNDS = 2, TIMED_ROUNDS = 5;
    private static final String FROM_PANELS = "packed_rows_from_panels", NEVER_TEXT = "never";

    /** The choice and where it came from, for {@code bench}. */
    record Choice(int fromPanels, String source) {}

    private SgemmTuning() {}

    /** Panels of C from which the rows of A are packed on this machine. */
    static int packedRowsFromPanels() { return Holder.CHOICE.fromPanels(); }

    /** "rows of A packed for C of 256+ columns (measured on this machine, cached in ...)", or never packed. */
    static String describe() {
        Choice choice = Holder.CHOICE;
        return choice.fromPanels() == NEVER
                ? "rows of A never packed (packing measured clearly slower at " + WIDEST_CANDIDATE * Sgemm.LANES + " columns; " + choice.source() + ")"
                : "rows of A packed for C of " + choice.fromPanels() * Sgemm.LANES + "+ columns (" + choice.source() + ")";
    }

    /** Where the first measurement is kept; set before it ({@link CpuBackend}'s constructor). */
    private static volatile TuningStore store = TuningStore.NONE;

    /**
     * Measures now, or reads what {@code keeper} kept, unless this JVM already has its choice; a CPU
     * backend calls it when built, so that the measurement runs on an idle machine, not in a step.
     */
    static void chooseWith(TuningStore keeper) {
        store = keeper;
        if (Sgemm.PAIRED_PANELS) packedRowsFromPanels(); // without them A's rows are never packed
    }

    /** Measured on first use, then final: the kernels are compiled with it as a constant. */
    private static final class Holder {
        static final Choice CHOICE = choose(store, machineKey());
    }

    /**
     * The choice {@code keeper} kept for {@code key}, or a fresh measurement, kept there. A kept text
     * that cannot be parsed or is for another key is measured again and replaced (it is rebuilt,
     * never made by a user).
     */
    static Choice choose(TuningStore keeper, String key) {
        String name = "sgemm-" + digest(key) + ".properties";
        Integer cached = parse(keeper.read(name), key);
        if (cached != null) return new Choice(cached, "measured on this machine before, cached in " + keeper.location(name));
        Measured measured = measure();
        return new Choice(measured.fromPanels(), "measured on this machine, " + keeper.write(name, format(key, measured)));
    }

    /**
     * CPU model, vector width, FMA, the kernels' blocking and JVM: what the kernels' speed depends on
     * (a build that blocks differently measures again).
     */
    static String machineKey() {
        return cpuModel() + "; " + Vectors.BITS + "-bit vectors" + (Vectors.FUSED_MULTIPLY_ADD ? ", FMA" : ", no FMA")
                + "; passes up to " + Sgemm.KC + "/" + Sgemm.KC_STRIDED + " deep, B blocks of " + Sgemm.B_BLOCK_BYTES / 1024 + " KiB"
                + ", packed A " + Sgemm.A_STEP + " floats a step" + (Sgemm.INTERLEAVED_PAIRS ? ", B pairs interleaved" : "")
                + "; packing tried up to " + WIDEST_CANDIDATE + " panels, never past " + CLEARLY_SLOWER + "x"
                + "; " + System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version");
    }

    private static String cpuModel() {
        try {
            // Linux: the first processor's model name, family, model and stepping (identical cores)
            String first = Files.readString(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8).split("\n\\s*\n", 2)[0];
            StringBuilder model = new StringBuilder();
            for (String line : first.split("\n")) {
                String[] field = line.split(":", 2);
                String name = field[0].trim();
                if (field.length == 2 && List.of("vendor_id", "model name", "cpu family", "model", "stepping").contains(name)) {
                    model.append(model.length() == 0 ? "" : ", ").append(name).append(' ').append(field[1].trim());
                }
            }
            if (model.length() > 0) return model.toString();
        } catch (IOException | RuntimeException e) {
            // not Linux: the JVM's own description below
        }
        String windows = System.getenv("PROCESSOR_IDENTIFIER");
        return (windows != null ? windows : System.getProperty("os.name")) + ", " + System.getProperty("os.arch")
                + ", " + Runtime.getRuntime().availableProcessors() + " processors";
    }

    private static Integer parse(String text, String key) {
        if (text == null) return null;
        Properties cached = new Properties();
        try {
            cached.load(new StringReader(text));
        } catch (IOException | IllegalArgumentException e) {
            return null; // malformed: measured again and replaced
        }
        if (!key.equals(cached.getProperty("machine"))) return null;
        String kept = cached.getProperty(FROM_PANELS, "").trim();
        if (kept.equals(NEVER_TEXT)) return NEVER;
        try {
            int panels = Integer.parseInt(kept);
            return CANDIDATE_PANELS.contains(panels) ? panels : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String format(String key, Measured measured) {
        Properties entry = new Properties();
        entry.setProperty("machine", key);
        boolean never = measured.fromPanels() == NEVER;
        entry.setProperty(FROM_PANELS, never ? NEVER_TEXT : Integer.toString(measured.fromPanels()));
        entry.setProperty("packed_rows_from_columns", never ? NEVER_TEXT : Integer.toString(measured.fromPanels() * Sgemm.LANES));
        measured.packedTimeShares().forEach((panels, share) -> entry.setProperty(
                "packed_over_in_place_time_at_" + panels * Sgemm.LANES + "_columns", String.format(Locale.ROOT, "%.3f", share)));
        entry.setProperty("measured_at", Instant.now().toString());
        StringWriter text = new StringWriter();
        try {
            entry.store(text, "jresnet: from how many panels of C SGEMM packs the rows of A on this machine; delete this file to measure again");
        } catch (IOException e) {
            throw new IllegalStateException(e); // a StringWriter does not fail
        }
        return text.toString();
    }

    private static String digest(String key) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** Times the candidates from the narrowest, up to the first where packing was faster; {@link #fromPanels} decides. */
    static Measured measure() {
        warmUp(CANDIDATE_PANELS.get(0));
        Map<Integer, Double> shares = new LinkedHashMap<>();
        for (int panels : CANDIDATE_PANELS) {
            double share = packedTimeShare(panels);
            // never packing is kept for good, so one slow stretch of the machine must not decide it
            if (panels == WIDEST_CANDIDATE && share > CLEARLY_SLOWER) share = Math.min(share, packedTimeShare(panels));
            shares.put(panels, share);
            if (share < 1) break;
        }
        return new Measured(fromPanels(shares), shares);
    }

    /**
     * From packed time over in-place time per candidate: the narrowest candidate where packing was
     * faster, else the widest unless packing was {@link #CLEARLY_SLOWER} there, else {@link #NEVER}.
     */
    static int fromPanels(Map<Integer, Double> shares) {
        for (Map.Entry<Integer, Double> share : shares.entrySet()) {
            if (share.getValue() < 1) return share.getKey();
        }
        Double widest = shares.get(WIDEST_CANDIDATE);
        return widest != null && widest <= CLEARLY_SLOWER ? WIDEST_CANDIDATE : NEVER;
    }

    /** {@link #measure}'s answer and what it saw. */
    record Measured(int fromPanels, Map<Integer, Double> packedTimeShares) {}

    private static void warmUp(int panels) {
        Product product = new Product(panels * Sgemm.LANES, 9 * panels * Sgemm.LANES);
        for (long start = System.nanoTime(); System.nanoTime() - start < WARMUP_NANOS; ) {
            product.time(true);
            product.time(false);
        }
    }

    /** Packed time over in-place time, the mean over the two shapes. */
    private static double packedTimeShare(int panels) {
        int n = panels * Sgemm.LANES;
        double packedShare = 0;
        for (int k : new int[] {9 * n, n}) {
            Product product = new Product(n, k);
            long packed = Long.MAX_VALUE, inPlace = Long.MAX_VALUE;
            for (int round = 0; round < WARMUP_ROUNDS + TIMED_ROUNDS; round++) {
                // alternated, so that a slower stretch of the machine falls on both
                long p = product.time(true), q = product.time(false);
                if (round >= WARMUP_ROUNDS) {
                    packed = Math.min(packed, p);
                    inPlace = Math.min(inPlace, q);
                }
            }
            packedShare += (double) packed / inPlace;
        }
        return packedShare / 2;
    }

    /**
     * BLOCKS products of BLOCK_ROWS x k by k x n, as a convolution runs them block by block. B's
     * elements are all equal, so it is packed alike for A's rows packed and in place.
     */
    private record Product(int n, int k, float[] a, float[] packedB, float[] c) {
        Product(int n, int k) {
            this(n, k, filled(BLOCKS * BLOCK_ROWS * k, 0.5f), filled(Sgemm.packedSize(k, n), 0.25f), new float[BLOCK_ROWS * n]);
        }

        /** Nanoseconds for all the blocks, A's rows packed or read in place. */
        long time(boolean packing) {
            long start = System.nanoTime();
            for (int block = 0; block < BLOCKS; block++) {
                Sgemm.multiply(BLOCK_ROWS, n, k, a, block * BLOCK_ROWS * k, k, 1, packedB, 0, c, 0, n, false, packing);
            }
            return System.nanoTime() - start;
        }

        private static float[] filled(int size, float value) {
            float[] values = new float[size];
            Arrays.fill(values, value);
            return values;
        }
    }
}
