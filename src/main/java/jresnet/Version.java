package jresnet;

/** jresnet's own version: the jar manifest's, or "dev" when running from a build folder. */
public final class Version {
    private Version() {}

    public static String current() {
        String version = Version.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }
}
