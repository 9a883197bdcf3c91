package jresnet.backend;

/** A backend could not get device memory even after returning its cached blocks. */
public class DeviceOutOfMemoryException extends RuntimeException {
    public DeviceOutOfMemoryException(String message) { super(message); }
}
