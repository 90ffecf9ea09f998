// libFuzzer harness for the MISB ST 0601 KLV decoder: every input goes
// through MISB0601.scan as one buffer of concatenated packets, as a KLV
// stream delivers it. The decoder must never trap (ASan/libFuzzer report any
// trap, overflow or bad access: a declared length read past the buffer is
// one). What traps here:
// - a non-empty input that yields no item (neither a packet nor a problem);
// - more items than input bytes;
// - a problem that points outside the input or covers no byte, or top-level
//   problems out of order;
// - a decoded angle or position outside what its tag can encode, or more
//   raw item bytes kept than the input has.
// Built only with MUCKWATCH_FUZZ set; run with Fuzz/run.sh, seeds in Fuzz/corpus/misb0601/.
import MuckwatchCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let items = MISB0601.scan(bytes)
    precondition(bytes.isEmpty || !items.isEmpty, "\(bytes.count) bytes gave neither a packet nor a problem")
    precondition(items.count <= bytes.count, "\(items.count) items from \(bytes.count) bytes")
    var lastOffset = -1
    for item in items {
        switch item {
        case .packet(let packet):
            check(packet, size: size)
        case .bad(let problem):
            check(problem, size: size)
            precondition(problem.offset > lastOffset, "problem at byte \(problem.offset) after one at \(lastOffset)")
            lastOffset = problem.offset
            if let untrusted = problem.untrusted { check(untrusted, size: size) }
        }
    }
    return 0
}

func check(_ problem: MISB0601.Problem, size: Int) {
    precondition(problem.offset >= 0 && problem.length > 0 && problem.length <= size - problem.offset,
                 "problem covers bytes \(problem.offset)..<\(problem.offset + problem.length) of \(size): \(problem)")
}

func inRange(_ value: Double?, _ range: ClosedRange<Double>, _ field: String) {
    if let value { precondition(range.contains(value), "\(field) \(value) is outside \(range)") }
}

func check(_ p: MISB0601Packet, size: Int) {
    inRange(p.sensorLat, -90...90, "sensorLat")
    inRange(p.sensorLon, -180...180, "sensorLon")
    inRange(p.frameCenterLat, -90...90, "frameCenterLat")
    inRange(p.frameCenterLon, -180...180, "frameCenterLon")
    inRange(p.platformHeadingDeg, 0...360, "platformHeadingDeg")
    inRange(p.platformPitchDeg, -20...20, "platformPitchDeg")
    inRange(p.platformRollDeg, -50...50, "platformRollDeg")
    inRange(p.sensorAltM, -900...19_000, "sensorAltM")
    inRange(p.frameCenterElevationM, -900...19_000, "frameCenterElevationM")
    inRange(p.sensorHFOVDeg, 0...180, "sensorHFOVDeg")
    inRange(p.sensorVFOVDeg, 0...180, "sensorVFOVDeg")
    inRange(p.sensorRelAzimuthDeg, 0...360, "sensorRelAzimuthDeg")
    inRange(p.sensorRelElevationDeg, -180...180, "sensorRelElevationDeg")
    inRange(p.sensorRelRollDeg, 0...360, "sensorRelRollDeg")
    inRange(p.slantRangeM, 0...5_000_000, "slantRangeM")
    precondition((p.time == nil) == (p.timeMicros == nil), "time and timeMicros disagree")
    if let micros = p.timeMicros { precondition(micros >= 0, "negative time stamp \(micros)") }
    if let version = p.version { precondition((0...255).contains(version), "version \(version)") }
    let kept = p.otherItems.reduce(0) { $0 + $1.bytes.count }
    precondition(kept <= size, "\(kept) raw item bytes kept from \(size) input bytes")
    for problem in p.problems { check(problem, size: size) }
}
