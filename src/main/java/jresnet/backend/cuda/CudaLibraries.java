package jresnet.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import jresnet.UserException;

/**
 * Finds and loads the native libraries of the CUDA backend before any JCuda class touches them.
 *
 * <p>Two mismatches are bridged here. JCudnn 11.7.0 (the newest on Maven Central) is loaded by JCuda
 * 12.6.0's loader under the name {@code libJCudnn-12.6.0-linux-x86_64.so}, so its native is offered
 * under that name at the exact path the loader tries ({@code java.io.tmpdir}). And JCudnn/JCublas2 link
 * against libcudnn.so.8 / libcublas.so.12: where only libcudnn.so.9 / libcublas.so.13 exist, the
 * forwarding libraries of native-build/ are loaded by absolute path first; their SONAMEs then satisfy
 * the natives' dependencies.
 */
public final class CudaLibraries {

    /** One CUDA library the backend needs: the version JCuda links against, or its successor. */
    record Requirement(String name, String soname, String successorSoname, String installHint) {}

    static final Requirement DRIVER = new Requirement("driver", "libcuda.so.1", null,
            "install the NVIDIA driver (it provides libcuda.so.1) or add its directory to LD_LIBRARY_PATH");
    static final Requirement CUBLAS = new Requirement("cuBLAS", "libcublas.so.12", "libcublas.so.13",
            "install cuBLAS 12 (CUDA 12 toolkit, package libcublas-12-x) or cuBLAS 13 together with the forwarders "
                    + "that `mvn package` builds into target/native (needs gcc), or add its directory to LD_LIBRARY_PATH");
    static final Requirement CUDNN = new Requirement("cuDNN", "libcudnn.so.8", "libcudnn.so.9",
            "install cuDNN 8 for CUDA 12 (package libcudnn8) or cuDNN 9 together with the forwarders that "
                    + "`mvn package` builds into target/native (needs gcc), or add its directory to LD_LIBRARY_PATH");

    /** How one requirement was met: the file loaded and, when forwarded, the forwarder in front of it. */
    public record Resolution(String soname, Path library, Path forwarder) {
        public boolean forwarded() { return forwarder != null; }

        public String describe() {
            return forwarded()
                    ? soname + " forwarded by " + forwarder + " to " + library
                    : soname + " at " + library;
        }
    }

    /** What {@link #load()} loaded. */
    public record Loaded(Resolution driver, Resolution cublas, Resolution cudnn, Path jcudnnNative) {}

    private static final java.util.Map<String, Resolution> loadedLibraries = new java.util.HashMap<>();
    private static Path offeredJCudnn;

    private CudaLibraries() {}

    /**
     * Loads libcuda, cuBLAS and cuDNN (real or forwarded) and offers the JCudnn native, in that order;
     * after it, JCudaDriver, JCublas2 and JCudnn initialize normally. Idempotent.
     *
     * @throws UserException saying which library is missing and how to install it
     */
    public static synchronized Loaded load() {
        Resolution driver = loadDriver();
        Resolution cublas = loadCublas();
        Resolution cudnn = loadCudnn();
        return new Loaded(driver, cublas, cudnn, offeredJCudnn);
    }

    /** libcuda.so.1; after it JCudaDriver may be used. */
    static synchronized Resolution loadDriver() {
        return loadOnce(DRIVER);
    }

    /** libcublas.so.12 (or the forwarder to libcublas.so.13); after it JCublas2 may be used. */
    static synchronized Resolution loadCublas() {
        return loadOnce(CUBLAS);
    }

    /** libcudnn.so.8 (or the forwarder to libcudnn.so.9) and the JCudnn native; after it JCudnn may be used. */
    static synchronized Resolution loadCudnn() {
        Resolution cudnn = loadOnce(CUDNN);
        // JCudnn's loader will System.load this very path again, which the JVM treats as already loaded.
        if (offeredJCudnn == null) {
            Path file = offerJCudnnNative(Path.of(System.getProperty("java.io.tmpdir")));
            loadByPath(file, "the JCudnn native");
            offeredJCudnn = file;
        }
        return cudnn;
    }

    private static Resolution loadOnce(Requirement r) {
        Resolution done = loadedLibraries.get(r.soname());
        if (done != null) return done;
        Resolution resolution = resolve(r);
        loadByPath(resolution.library(), resolution.library().getFileName().toString());
        if (resolution.forwarded()) loadByPath(resolution.forwarder(), "the forwarding library " + r.soname());
        loadedLibraries.put(r.soname(), resolution);
        return resolution;
    }

    /** Where a requirement can be met, without loading anything. */
    static Resolution resolve(Requirement r) {
        Optional<Path> real = find(r.soname());
        if (real.isPresent()) return new Resolution(r.soname(), real.get(), null);
        if (r.successorSoname() != null) {
            Optional<Path> successor = find(r.successorSoname());
            Optional<Path> forwarder = forwarderDirectories().stream()
                    .map(d -> d.resolve(r.soname())).filter(Files::isRegularFile).findFirst();
            if (successor.isPresent() && forwarder.isPresent()) {
                return new Resolution(r.soname(), successor.get(), forwarder.get());
            }
            if (successor.isPresent()) {
                throw new UserException(r.name() + ": found " + successor.get() + " but no forwarding library "
                        + r.soname() + " in " + forwarderDirectories() + "; build it with `mvn package` on a machine "
                        + "with gcc, or set -Djresnet.native.dir to the folder holding it");
            }
        }
        throw new UserException(r.name() + ": " + r.soname()
                + (r.successorSoname() == null ? "" : " (or " + r.successorSoname() + ")")
                + " not found in " + searchDirectories() + " or the ldconfig cache; " + r.installHint());
    }

    /** The first file named soname in the library search path, the linker cache or the CUDA directories. */
    static Optional<Path> find(String soname) {
        for (Path dir : searchDirectories()) {
            Path candidate = dir.resolve(soname);
            if (Files.exists(candidate)) return Optional.of(candidate);
        }
        return linkerCache(soname);
    }

    static List<Path> searchDirectories() {
        Set<Path> dirs = new LinkedHashSet<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String entry : ld.split(":")) if (!entry.isEmpty()) dirs.add(Path.of(entry));
        }
        for (String entry : List.of("/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib/wsl/lib")) {
            dirs.add(Path.of(entry));
        }
        return new ArrayList<>(dirs);
    }

    /** ldconfig's cache, the way the dynamic linker finds libraries outside the default directories. */
    private static Optional<Path> linkerCache(String soname) {
        for (String ldconfig : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig")) {
            if (!Files.isExecutable(Path.of(ldconfig))) continue;
            try {
                Process p = new ProcessBuilder(ldconfig, "-p").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                p.waitFor();
                return out.lines().map(String::strip)
                        .filter(l -> l.startsWith(soname + " ") && l.contains("x86-64") && l.contains("=> "))
                        .map(l -> Path.of(l.substring(l.indexOf("=> ") + 3).strip()))
                        .findFirst();
            } catch (IOException e) {
                return Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /**
     * Folders that may hold the forwarders: -Djresnet.native.dir, $JRESNET_NATIVE_DIR, then next to our
     * classes: target/native for target/classes, native/ beside (or one up from) the jar.
     */
    static List<Path> forwarderDirectories() {
        List<Path> dirs = new ArrayList<>();
        String property = System.getProperty("jresnet.native.dir");
        if (property != null) dirs.add(Path.of(property));
        String env = System.getenv("JRESNET_NATIVE_DIR");
        if (env != null) dirs.add(Path.of(env));
        try {
            Path code = Path.of(CudaLibraries.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path parent = code.toAbsolutePath().getParent();
            if (parent != null) {
                dirs.add(parent.resolve("native"));
                if (parent.getParent() != null) dirs.add(parent.getParent().resolve("native"));
            }
        } catch (URISyntaxException | NullPointerException | SecurityException e) {
            // no code source (unusual class loaders): only the explicit settings apply
        }
        return dirs;
    }

    /**
     * Writes JCudnn's native, from the jcudnn-natives jar on the class path, to dir under the file name
     * JCuda's loader asks for; leaves an identical file in place. Returns the file.
     */
    static Path offerJCudnnNative(Path dir) {
        String version = jcudnnNativesVersion();
        String resource = "/lib/libJCudnn-" + version + "-linux-x86_64.so";
        Path file = dir.resolve(offeredJCudnnFileName());
        try (InputStream in = CudaLibraries.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UserException("the JCudnn native " + resource + " is not on the class path; "
                        + "the jcudnn-natives-" + version + "-linux-x86_64 jar belongs in lib/ beside jresnet.jar");
            }
            byte[] bytes = in.readAllBytes();
            if (Files.isRegularFile(file) && Arrays.equals(Files.readAllBytes(file), bytes)) return file;
            Files.createDirectories(dir);
            Path partial = Files.createTempFile(dir, "jresnet-jcudnn", ".part");
            Files.write(partial, bytes);
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return file;
        } catch (IOException e) {
            throw new UserException("cannot write the JCudnn native to " + file + " (" + e.getMessage()
                    + "); point -Djava.io.tmpdir at a writable folder", e);
        }
    }

    /** The name JCuda's loader looks for: JCudnn's natives named after the JCuda version. */
    static String offeredJCudnnFileName() {
        return "libJCudnn-" + jcuda.JCudaVersion.get() + "-linux-x86_64.so";
    }

    static String jcudnnNativesVersion() {
        String resource = "/META-INF/maven/org.jcuda/jcudnn-natives/pom.properties";
        try (InputStream in = CudaLibraries.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UserException("the jcudnn-natives jar (" + resource + ") is not on the class path");
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void loadByPath(Path library, String what) {
        try {
            System.load(library.toAbsolutePath().toString());
        } catch (UnsatisfiedLinkError e) {
            throw new UserException("cannot load " + what + " from " + library + ": " + e.getMessage(), e);
        }
    }
}
