public enum MuckwatchVersion {
    public static let string = "0.1.0"
}
