package jresnet.models;

import java.util.LinkedHashMap;
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
        Supplier<Model> s = MODELS.get(name);
        if (s != null) return s.get();
        Matcher m = TUTORIAL.matcher(name);
        if (m.matches()) {
            int[] blocks = java.util.Arrays.stream(m.group(2).split("\\.")).mapToInt(Integer::parseInt).toArray();
            int width = Integer.parseInt(m.group(3));
            if (blocks.length > 4 || width < 1 || java.util.Arrays.stream(blocks).anyMatch(b -> b < 1)) {
                throw new UserException("model '" + name + "': 1 to 4 stages of at least one block, width at least 1");
            }
            return m.group(1).equals("resnet") ? TutorialNets.resnet(blocks, width, 4, name)
                    : TutorialNets.plain(blocks, width, 4, name);
        }
        throw new UserException("unknown model '" + name + "' (known: " + String.join(", ", MODELS.keySet())
                + ", or tutorial-resnet-B1.B2...-wW / tutorial-plain-...)");
    }

    public static java.util.Set<String> names() { return MODELS.keySet(); }
}
