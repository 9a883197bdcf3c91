package jresnet.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcudnn.JCudnn;
import jresnet.UserException;

/**
 * Checks, in order, what CUDA training needs: driver and devices, cuBLAS, cuDNN, the kernels module.
 * Every failed check says precisely what to do. Never throws, also on machines without anything CUDA.
 */
public final class Doctor {
    /** The kernels carry cubins for sm_80 and sm_90 and PTX for compute_80: older devices cannot run them. */
    static final int MIN_COMPUTE_CAPABILITY = 80;

    private final List<String> lines = new ArrayList<>();
    private boolean ok = true;
    private CUdevice device;

    private Doctor() {}

    /** Prints the report; exit status 0 only when CUDA training can run (for scripts without the CLI). */
    public static void main(String[] args) {
        DoctorReport report = run();
        report.lines().forEach(System.out::println);
        System.exit(report.ok() ? 0 : 1);
    }

    public static DoctorReport run() {
        Doctor d = new Doctor();
        d.checkAll();
        return new DoctorReport(d.ok, d.lines);
    }

    private void checkAll() {
        CUcontext context = new CUcontext();
        boolean driver = check("driver", this::driverAndDevices);
        CUdevice found = device;
        boolean current = driver && found != null && check("context", () -> {
            CudaCheck.driver(cuDevicePrimaryCtxRetain(context, found), "cuDevicePrimaryCtxRetain");
            CudaCheck.driver(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            return null;
        });
        // The device-dependent parts of the next checks need a current context.
        device = current ? found : null;
        check("cuBLAS", this::cublas);
        check("cuDNN", this::cudnn);
        check("kernels", this::kernels);
        if (current) {
            check("context release", () -> {
                CudaCheck.driver(cuDevicePrimaryCtxRelease(found), "cuDevicePrimaryCtxRelease");
                return null;
            });
        }
    }

    /** Runs one check: its result line, or its failure with the fix. Returns whether it passed. */
    private boolean check(String name, Check check) {
        try {
            String line = check.run();
            if (line != null) lines.add("ok    " + name + ": " + line);
            return true;
        } catch (UserException e) {
            String message = e.getMessage();
            // Library errors start with the library's name already.
            if (message.startsWith(name + ": ")) message = message.substring(name.length() + 2);
            lines.add("FAIL  " + name + ": " + message);
        } catch (RuntimeException | LinkageError e) {
            lines.add("FAIL  " + name + ": " + unexpected(e));
        }
        ok = false;
        return false;
    }

    /**
     * A failure the checks have no words of their own for: the kind of failure, then the library's own
     * message. A Java class name would mean nothing to someone setting up CUDA.
     */
    static String unexpected(Throwable e) {
        String kind = e instanceof UnsatisfiedLinkError ? "a native library did not load"
                : e instanceof LinkageError ? "a library's Java classes did not load"
                : e instanceof UncheckedIOException ? "a file could not be read"
                : "the library failed";
        // an UncheckedIOException's own message is its cause's class name and message
        Throwable described = e instanceof UncheckedIOException ? e.getCause() : e;
        while (described.getMessage() == null && described.getCause() != null) described = described.getCause();
        String message = described.getMessage();
        return message == null || message.isBlank() ? kind + " (no further detail)" : kind + ": " + message;
    }

    private interface Check {
        String run();
    }

    private String driverAndDevices() {
        CudaLibraries.Resolution driver = CudaLibraries.loadDriver();
        int status = cuInit(0);
        if (status != 0) {
            throw new UserException("cuInit failed with error " + status + " although " + driver.library()
                    + " is present: check that the NVIDIA kernel module is loaded (nvidia-smi works) and that "
                    + "/dev/nvidia* is visible (containers: --gpus all)");
        }
        int[] version = {0};
        CudaCheck.driver(cuDriverGetVersion(version), "cuDriverGetVersion");
        int[] count = {0};
        CudaCheck.driver(cuDeviceGetCount(count), "cuDeviceGetCount");
        String summary = driver.library() + ", CUDA driver API " + version[0] / 1000 + "." + version[0] % 1000 / 10;
        if (count[0] == 0) {
            throw new UserException(summary + ", but no CUDA device is visible: check nvidia-smi and CUDA_VISIBLE_DEVICES");
        }
        lines.add("ok    driver: " + summary + ", " + count[0] + " device(s)");
        for (int i = 0; i < count[0]; i++) {
            CUdevice d = new CUdevice();
            CudaCheck.driver(cuDeviceGet(d, i), "cuDeviceGet(" + i + ")");
            byte[] name = new byte[256];
            CudaCheck.driver(cuDeviceGetName(name, name.length, d), "cuDeviceGetName(" + i + ")");
            int[] major = {0}, minor = {0};
            CudaCheck.driver(cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d),
                    "cuDeviceGetAttribute(" + i + ")");
            CudaCheck.driver(cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d),
                    "cuDeviceGetAttribute(" + i + ")");
            long[] memory = {0};
            CudaCheck.driver(cuDeviceTotalMem(memory, d), "cuDeviceTotalMem(" + i + ")");
            String line = "device " + i + ": " + cString(name) + ", compute capability " + major[0] + "." + minor[0]
                    + ", " + String.format("%.1f GiB", memory[0] / (double) (1L << 30));
            if (major[0] * 10 + minor[0] < MIN_COMPUTE_CAPABILITY) {
                lines.add("FAIL  " + line + ": the kernels need compute capability 8.0 or newer");
                if (i == 0) ok = false;
            } else {
                lines.add("ok    " + line);
            }
            if (i == 0) device = d;
        }
        return null;
    }

    private String cublas() {
        CudaLibraries.Resolution r = CudaLibraries.loadCublas();
        if (device == null) return r.describe() + " (its version needs a device)";
        cublasHandle handle = new cublasHandle();
        CudaCheck.cublas(JCublas2.cublasCreate(handle), "cublasCreate");
        try {
            int[] version = {0};
            CudaCheck.cublas(JCublas2.cublasGetVersion(handle, version), "cublasGetVersion");
            return r.describe() + ", version " + version[0] / 10000 + "." + version[0] % 10000 / 100 + "." + version[0] % 100;
        } finally {
            CudaCheck.cublas(JCublas2.cublasDestroy(handle), "cublasDestroy");
        }
    }

    private String cudnn() {
        CudaLibraries.Resolution r = CudaLibraries.loadCudnn();
        long version = JCudnn.cudnnGetVersion();
        // cuDNN 8 encodes major*1000 + minor*100 + patch; cuDNN 9 major*10000 + minor*100 + patch.
        long major = version >= 90000 ? version / 10000 : version / 1000;
        long minor = version >= 90000 ? version % 10000 / 100 : version % 1000 / 100;
        String line = r.describe() + ", version " + major + "." + minor + "." + version % 100;
        if (major < 8) {
            throw new UserException(line + ": cuDNN 8 or newer is needed (did the forwarder find libcudnn.so.9's functions?)");
        }
        return line;
    }

    private String kernels() {
        byte[] image = KernelModule.image();
        String line = KernelModule.RESOURCE.substring(KernelModule.RESOURCE.lastIndexOf('/') + 1) + " in the jar (" + image.length + " bytes)";
        if (device == null) return line + " present; loading it needs a device";
        try (KernelModule module = new KernelModule()) {
            module.function("adam_update");
        }
        return line + " loaded";
    }

    private static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) end++;
        return new String(bytes, 0, end, StandardCharsets.US_ASCII);
    }
}
