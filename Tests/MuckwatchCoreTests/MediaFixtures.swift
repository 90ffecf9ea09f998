import Foundation

/// The media fixtures checked in under Tests/Fixtures/media (see its SOURCES.md):
/// KLV streams and DJI SRT files for the telemetry decoders.
enum MediaFixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/media")

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    static func data(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(relative)))
    }
}
