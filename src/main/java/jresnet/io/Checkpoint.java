package jresnet.io;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import jresnet.UserException;
import jresnet.tensor.HostArray;

/**
 * A checkpoint folder: weights.safetensors (Keras names and layouts), optimizer.safetensors (slots
 * named "<weight>.<slot>") and state.json (where training stands). It is written complete into a
 * temporary sibling folder and renamed into place, so the folder on disk is always a whole one.
 */
public final class Checkpoint {
    public static final String WEIGHTS = "weights.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "state.json";

    /**
     * The state is the parsed state.json; the caller binds it to its own record. The metadata is the
     * weights file's, as the run wrote it.
     */
    public record Contents(Map<String, HostArray> weights, Map<String, String> metadata, Map<String, HostArray> optimizer,
                           JsonObject state) {}

    private Checkpoint() {}

    public static void save(Path dir, Map<String, HostArray> weights, Map<String, HostArray> optimizer,
                            Object state, Map<String, String> metadata) throws IOException {
        Path tmp = AtomicFiles.createTempDirectory(dir);
        try {
            Safetensors.write(tmp.resolve(WEIGHTS), weights, metadata);
            Safetensors.write(tmp.resolve(OPTIMIZER), optimizer, metadata);
            AtomicFiles.writeString(tmp.resolve(STATE), Json.pretty(state));
            AtomicFiles.publishDirectory(tmp, dir);
        } catch (IOException e) {
            AtomicFiles.deleteRecursively(tmp);
            throw FileErrors.inside(dir, "write", e);
        } catch (RuntimeException e) {
            AtomicFiles.deleteRecursively(tmp);
            throw e;
        }
    }

    public static Contents load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new UserException(dir + ": no checkpoint folder here");
        for (String f : new String[] {WEIGHTS, OPTIMIZER, STATE}) {
            String why = FileErrors.notAFile(dir.resolve(f));
            if (why != null) {
                throw new UserException(dir.resolve(f) + ": " + why + " (a checkpoint holds " + WEIGHTS + ", " + OPTIMIZER
                        + " and " + STATE + ")");
            }
        }
        JsonObject state = Json.parseObject(Files.readString(dir.resolve(STATE)), dir.resolve(STATE).toString());
        Safetensors.File weights = Safetensors.read(dir.resolve(WEIGHTS));
        return new Contents(weights.tensors(), weights.metadata(), Safetensors.read(dir.resolve(OPTIMIZER)).tensors(), state);
    }
}
