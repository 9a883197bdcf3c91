package jresnet.backend.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jresnet.UserException;

/** The kernels of kernels/*.cu, compiled by native-build/build.sh into one fatbin the jar carries. */
final class KernelModule implements AutoCloseable {
    static final String RESOURCE = "/jresnet/kernels/jresnet.fatbin";
    static final String SIGNATURES = "/jresnet/kernels/jresnet.signatures";

    private final CUmodule module = new CUmodule();
    private final KernelSignatures signatures = KernelSignatures.parse(new String(resource(SIGNATURES), UTF_8));
    private final Map<String, CUfunction> functions = new HashMap<>();

    /** Loads the module into the current context. */
    KernelModule() {
        byte[] image = image();
        CudaCheck.driver(cuModuleLoadData(module, image), "cuModuleLoadData(" + RESOURCE + ", " + image.length + " bytes)");
    }

    static boolean present() {
        return KernelModule.class.getResource(RESOURCE) != null;
    }

    static byte[] image() {
        return resource(RESOURCE);
    }

    private static byte[] resource(String name) {
        try (InputStream in = KernelModule.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new UserException("the CUDA kernels " + name + " are not in the jar: it was built without "
                        + "nvcc; rebuild with the CUDA toolkit's nvcc on PATH (mvn package runs native-build/build.sh)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    CUfunction function(String name) {
        return functions.computeIfAbsent(name, n -> {
            CUfunction f = new CUfunction();
            CudaCheck.driver(cuModuleGetFunction(f, module, n), "cuModuleGetFunction(" + n + ")");
            return f;
        });
    }

    /**
     * Launches a kernel on stream. Arguments: CudaTensor / Pointer (device pointers; null for a null
     * pointer), Integer, Long, Float.
     */
    void launch(String name, int gridX, int gridY, int blockX, int blockY, CUstream stream, Object... args) {
        signatures.check(name, args);
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) params[i] = parameter(args[i]);
        int status = cuLaunchKernel(function(name), gridX, gridY, 1, blockX, blockY, 1, 0, stream,
                Pointer.to(params), null);
        CudaCheck.driver(status, "launch " + name + " grid (" + gridX + ", " + gridY + ") block (" + blockX + ", " + blockY + ")");
    }

    private static Pointer parameter(Object arg) {
        if (arg == null) return Pointer.to(new long[] {0});
        if (arg instanceof CudaTensor t) return Pointer.to(t.ptr());
        if (arg instanceof Pointer p) return Pointer.to(p);
        if (arg instanceof Integer v) return Pointer.to(new int[] {v});
        if (arg instanceof Long v) return Pointer.to(new long[] {v});
        if (arg instanceof Float v) return Pointer.to(new float[] {v});
        throw new IllegalArgumentException("unsupported kernel argument " + arg.getClass());
    }

    @Override public void close() {
        CudaCheck.driver(cuModuleUnload(module), "cuModuleUnload(" + RESOURCE + ")");
    }
}
