// libFuzzer harness for the DJI telemetry SRT reader: every input goes
// through DJISRT.parse (a whole .SRT file) and, as the text of one subtitle
// packet, through DJISRT.parseText. The reader must never trap (ASan/libFuzzer
// report any trap, overflow or bad access). What traps here:
// - a file that yields neither a record nor a problem;
// - more records than lines, or a problem on a line the input does not have;
// - a record with half a position, a position out of range or DJI's 0,0
//   "no fix", a heading outside 0..<360, a negative video offset, or a
//   local time that is not a valid civil time.
// Built only with MUCKWATCH_FUZZ set; run with Fuzz/run.sh, seeds in Fuzz/corpus/dji-srt/.
import MuckwatchCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Lines as the reader counts them: LF, CRLF or a lone CR ends one.
    var lines = 1
    var i = 0
    while i < bytes.count {
        if bytes[i] == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
        if bytes[i] == 0x0A || bytes[i] == 0x0D { lines += 1 }
        i += 1
    }
    let (records, problems) = DJISRT.parse(bytes)
    precondition(!records.isEmpty || !problems.isEmpty, "\(bytes.count) bytes gave neither a record nor a problem")
    precondition(records.count <= lines, "\(records.count) records from \(lines) lines")
    for problem in problems {
        precondition((0...lines).contains(problem.line), "problem on line \(problem.line) of \(lines): \(problem)")
        precondition(!problem.message.isEmpty, "a problem with no message")
    }
    for record in records { check(record) }

    let one = DJISRT.parseText(String(decoding: bytes, as: UTF8.self), startMillis: 0, endMillis: 40, index: 1)
    check(one)
    precondition(one.index == 1 && one.startMillis == 0 && one.endMillis == 40, "parseText changed the block's place")
    return 0
}

func check(_ r: DJISRTRecord) {
    precondition((r.lat == nil) == (r.lon == nil), "half a position: \(String(describing: r.lat)), \(String(describing: r.lon))")
    if let lat = r.lat, let lon = r.lon {
        precondition(abs(lat) <= 90 && abs(lon) <= 180, "position \(lat), \(lon) out of range")
        precondition(lat != 0 || lon != 0, "DJI's 0,0 'no fix' read as a position")
    }
    if let heading = r.headingDeg { precondition(heading >= 0 && heading < 360, "heading \(heading) outside 0..<360") }
    precondition(r.startMillis >= 0 && r.endMillis >= 0, "negative video offset \(r.startMillis) --> \(r.endMillis)")
    if let t = r.localTime {
        precondition((1...12).contains(t.month) && (1...31).contains(t.day) && (0..<24).contains(t.hour)
                     && (0..<60).contains(t.minute) && (0..<60).contains(t.second) && (0..<1000).contains(t.millis),
                     "local time \(t) is not a civil time")
    }
    for key in ["home_lat", "home_lon"] {
        if let text = r.camera[key] {
            precondition(Double(text).map { abs($0) <= (key == "home_lat" ? 90 : 180) } ?? false, "\(key) \(text)")
        }
    }
}
