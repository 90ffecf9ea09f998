/// Licence plates as cameras, trackers and clerks write them.
public enum Plate {
    /// The plate in one canonical spelling (see `Polygon+Geometry.swift`'s
    /// sibling implementation; placeholder until written).
    public static func normalize(_ text: String) -> String { text }
}
