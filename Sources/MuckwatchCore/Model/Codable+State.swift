// Instants as the pipeline's state snapshot writes them (see
// `Pipeline.snapshot()`): the milliseconds, read back exactly.

extension Instant: Codable {
    public init(from decoder: any Decoder) throws {
        millis = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(millis)
    }
}
