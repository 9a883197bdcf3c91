package jresnet.models;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jresnet.UserException;
import jresnet.nn.Model;

/**
 * Models by their command-line names. Besides the named ones, "tutorial-resnet-B1.B2...-wW" and
 * "tutorial-plain-B1.B2...-wW" build the tutorial's networks with other blocks per stage and base
 * width (e.g. tutorial-resnet-1.1-w8, a tiny net for experiments and tests).
 */
public final class ModelZoo {
    private static final Map<String, Supplier<Model>> MODELS = new LinkedHashMap<>();
    private static final Pattern TUTORIAL = Pattern.compile("tutorial-(resnet|plain)-(\\d+(?:\\.\\d+)*)-w(\\d+)");

    static {
        MODELS.put("resnet30", TutorialNets::resnet30);
        MODELS.put("plain30", TutorialNets::plain30);
        for (int depth : new int[] {20, 32, 44, 56, 110}) {
            MODELS.put("resnet" + depth, () -> HeNets.resnet(depth));
            MODELS.put("plain" + depth, () -> HeNets.plain(depth));
        }
    }

    private ModelZoo() {}

    public static Model create(String name) {
        String unknown = whyUnknown(name);
        if (unknown != null) throw new UserException(unknown);
        Supplier<Model> s = MODELS.get(name);
        if (s != null) return s.get();
        Matcher m = TUTORIAL.matcher(name);
        m.matches();
        int[] blocks = Arrays.stream(m.group(2).split("\\.")).mapToInt(Integer::parseInt).toArray();
        int width = Integer.parseInt(m.group(3));
        boolean residual = m.group(1).equals("resnet");
        requireBuildable(name, blocks, width, residual);
        return residual ? TutorialNets.resnet(blocks, width, 4, name) : TutorialNets.plain(blocks, width, 4, name);
    }

    /**
     * Why {@code name} names no network, in words; null where it names one. A check of the name
     * alone, so that a command line refuses it as a bad flag value before building anything.
     */
    public static String whyUnknown(String name) {
        if (MODELS.containsKey(name)) return null;
        Matcher m = TUTORIAL.matcher(name);
        if (!m.matches()) {
            return "unknown model '" + name + "' (known: " + String.join(", ", MODELS.keySet())
                    + ", or tutorial-resnet-B1.B2...-wW / tutorial-plain-...)";
        }
        String[] stages = m.group(2).split("\\.");
        int[] counts = new int[stages.length + 1]; // the blocks of each stage, then the width
        for (int i = 0; i < counts.length; i++) {
            String digits = i < stages.length ? stages[i] : m.group(3);
            try {
                counts[i] = Integer.parseInt(digits);
            } catch (NumberFormatException tooLarge) {
                return "model '" + name + "': " + digits + " is too large for a block count or width";
            }
        }
        if (stages.length > 4 || Arrays.stream(counts).anyMatch(c -> c < 1)) {
            return "model '" + name + "': 1 to 4 stages of at least one block, width at least 1";
        }
        return null;
    }

    /** Rough heap cost of one layer object of the graph (names, shapes, links), besides its weights. */
    private static final long LAYER_BYTES = 2048;

    /**
     * A parametric network's weights and layers are counted before it is built: a name with a huge
     * depth or width would otherwise exhaust the heap (or overflow an array size) while building.
     * The count follows {@link TutorialNets}: per block two 3x3 convolutions (and a 1x1 shortcut
     * where a residual stage downsamples), each followed by batch normalization.
     */
    private static void requireBuildable(String name, int[] blocks, int width, boolean residual) {
        TutorialSize size = TutorialSize.of(blocks, width, residual);
        if (size.largestTensor() > Integer.MAX_VALUE) {
            throw new UserException(String.format(Locale.ROOT, "model '%s': a weight tensor would hold %.3g values, more than "
                    + "one array can (%,d); choose a smaller width", name, size.largestTensor(), Integer.MAX_VALUE));
        }
        double bytes = size.params() * Float.BYTES + size.layers() * LAYER_BYTES;
        long heap = Runtime.getRuntime().maxMemory();
        if (bytes > heap) {
            throw new UserException(String.format(Locale.ROOT, "model '%s': %.3g parameters in %.3g layers need about %.1f GiB "
                    + "to build, the Java heap holds %.1f GiB; choose fewer blocks or a smaller width, or a larger heap "
                    + "(JRESNET_JAVA_OPTS=-Xmx...)", name, size.params(), size.layers(), bytes / (1L << 30), heap / (double) (1L << 30)));
        }
    }

    /** Counts of a tutorial network, in doubles so that no name overflows them. */
    record TutorialSize(double params, double layers, double largestTensor) {
        static TutorialSize of(int[] blocks, int width, boolean residual) {
            double in = width, params = 4 * 3 + 28.0 * width + 4.0 * width, largestTensor = 27.0 * width, layers = 5;
            for (int stage = 0; stage < blocks.length; stage++) {
                double f = width * Math.pow(2, stage);
                double block = 9 * f * f + f + 4 * f + 9 * f * f + f + 4 * f;
                double firstBlock = 9 * in * f + f + 4 * f + 9 * f * f + f + 4 * f;
                boolean downsamples = stage > 0;
                if (residual && downsamples) firstBlock += in * f + f;
                params += firstBlock + (blocks[stage] - 1) * block;
                layers += (residual ? 7.0 : 6.0) * blocks[stage] + (residual && downsamples ? 1 : 0);
                largestTensor = Math.max(largestTensor, Math.max(9 * in * f, 9 * f * f));
                in = f;
            }
            double spatial = 32 / Math.pow(2, blocks.length - 1) / 4;
            params += spatial * spatial * in * 10 + 10;
            largestTensor = Math.max(largestTensor, spatial * spatial * in * 10);
            return new TutorialSize(params, layers, largestTensor);
        }
    }

    public static java.util.Set<String> names() { return MODELS.keySet(); }

    /** The key of a weights file's metadata that names the model it was saved from. */
    public static final String WEIGHTS_MODEL_KEY = "model";

    /**
     * Refuses weights whose metadata names another network than {@code model} ({@link #savedFromAnother}).
     */
    public static void requireWeightsOf(Model model, Map<String, String> metadata, String source) {
        String savedFrom = metadata.get(WEIGHTS_MODEL_KEY);
        if (savedFromAnother(model, savedFrom)) {
            throw new UserException(source + ": holds weights of " + savedFrom + " (its metadata says so), not of "
                    + model.name() + "; give --model " + savedFrom + " or weights saved from " + model.name());
        }
    }

    /**
     * Whether weights whose metadata names {@code savedFrom} are of another network than {@code model}:
     * a net and its plain twin have the same tensor names and shapes (shortcuts by subsampling hold no
     * weights), so {@link Model#setWeights}'s check of names and shapes alone would take resnet20's
     * weights for plain20. A name that builds the same layers (another spelling of a tutorial name) is
     * the same network; an unknown one, or none, leaves the check to names and shapes.
     */
    public static boolean savedFromAnother(Model model, String savedFrom) {
        if (savedFrom == null || savedFrom.equals(model.name())) return false;
        Model other;
        try {
            other = create(savedFrom);
        } catch (UserException unknown) {
            return false;
        }
        return !sameNetwork(other, model);
    }

    /** Whether two models have the same layers, names and shapes, whatever each model is called. */
    public static boolean sameNetwork(Model a, Model b) {
        return a.summary().replace(a.name(), b.name()).equals(b.summary());
    }
}
