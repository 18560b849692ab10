/// The program's version, as `digest --version` prints it and run reports could name it.
public enum DailyDigestVersion {
    public static let current = "0.5.0"
}
