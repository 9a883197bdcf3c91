package jresnet.models;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import jresnet.UserException;
import jresnet.nn.Model;

/** Models by their command-line names. */
public final class ModelZoo {
    private static final Map<String, Supplier<Model>> MODELS = new LinkedHashMap<>();

    static {
        MODELS.put("resnet30", TutorialNets::resnet30);
        MODELS.put("plain30", TutorialNets::plain30);
    }

    private ModelZoo() {}

    public static Model create(String name) {
        Supplier<Model> s = MODELS.get(name);
        if (s == null) throw new UserException("unknown model '" + name + "' (known: " + String.join(", ", MODELS.keySet()) + ")");
        return s.get();
    }

    public static java.util.Set<String> names() { return MODELS.keySet(); }
}
