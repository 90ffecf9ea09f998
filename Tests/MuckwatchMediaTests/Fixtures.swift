import Foundation

/// A video checked in under Tests/Fixtures/media (see its SOURCES.md).
func mediaFixturePath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/media").appendingPathComponent(relative).path
}

