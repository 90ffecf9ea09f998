// DJISRT.swift owns reading DJI drone telemetry subtitles: the `.SRT` files
// DJI drones write beside each clip, and the same text carried as a video's
// subtitle stream. It turns every subtitle block into a `DJISRTRecord`
// (video offsets, frame counter, the wall-clock time as written, position,
// altitudes, heading, camera settings) and reports what it could not read as
// `DJISRT.Problem`s. Pure Swift over bytes: no regular expressions, no
// Foundation, no C; no input can make it trap.
//
// DJI firmware has written many dialects over the years, all found in the
// wild and in the fixtures under Tests/Fixtures/media/srt:
//
// - FrameCnt (Mavic 3 and newer): `FrameCnt: 1, DiffTime: 20ms`, a date line
//   with milliseconds, `[latitude: ..] [longitude: ..] [rel_alt: .. abs_alt: ..]`.
// - SrtCnt (Air 2S, Mini 3, ...): `SrtCnt : 1, DiffTime : 33ms`, the same
//   bracketed fields, sometimes `[altitude: ..]` instead of rel_alt/abs_alt.
// - Mavic 2: `[latitude : ..] [longtitude : ..]` (sic), some files without
//   the SRT time-range line at all.
// - Legacy (Mavic Pro, Phantom 4, old firmware): `HOME(lon,lat) date`,
//   `GPS(lon,lat,satellites) BAROMETER:1.9` or `Hb:1.9 Hs:1.9`,
//   `ISO:100 Shutter:60 EV: Fnum:2.2`.
// - Mini / Phantom 4 Pro / P4 RTK: `F/2.8, SS 400, ISO 100, EV 0,
//   GPS (lon, lat, sats), HOME (lon, lat, altm), D 12m, H 85.80m, H.S .., V.S ..,
//   F.PRY (pitch°, roll°, yaw°), G.PRY (...)`.
// - Matrice 300: `GPS(lat,lon,0.0M) BAROMETER:0.3M`: latitude FIRST.

import MuckwatchCore

/// One subtitle block of a DJI telemetry SRT.
public struct DJISRTRecord: Sendable, Equatable {
    /// The block's number as written (or, for a block written without one,
    /// one more than the block before).
    public var index: Int
    /// Where the block sits in the video, from its `HH:MM:SS,mmm --> ...`
    /// line. Both are 0 for a block that has no time-range line (some Mavic 2
    /// firmware writes none); `parse` reports that as a problem.
    public var startMillis: Int64
    public var endMillis: Int64
    /// `FrameCnt` or `SrtCnt`: DJI's own counter, which need not start at 1.
    public var frameCount: Int?
    /// The date line as written. DJI writes the aircraft's (remote
    /// controller's) LOCAL civil time with no UTC offset, so it is kept as a
    /// civil time; `LocalTime.instant(utcOffsetSeconds:)` turns it into an
    /// instant with an offset the caller knows (the site's zone, or the
    /// container's creation time compared with it).
    public var localTime: LocalTime?
    /// Degrees, WGS 84. Both or neither: a missing half, a value out of
    /// range, or DJI's 0,0 for "no GPS fix" gives no position at all.
    public var lat: Double?
    public var lon: Double?
    /// Metres above the take-off point (`rel_alt`, `BAROMETER`, `Hb`, `H`).
    public var relativeAltM: Double?
    /// Metres above sea level as DJI reports it (`abs_alt`; and `altitude`,
    /// which DJI does not document but which matches the ground elevation at
    /// take-off in the samples, so it is read as absolute).
    public var absoluteAltM: Double?
    /// Aircraft yaw in degrees clockwise from north, 0..<360, where the
    /// dialect gives it (P4 RTK `F.PRY`).
    public var headingDeg: Double?
    /// Every other field, values exactly as written (units and all). Keys are
    /// DJI's names in lower case, with older firmware's aliases folded in:
    /// `shutter` (TV, SS), `fnum` (IR, F; note Mavic 2/Air write f/2.8 as
    /// `280`), `distance` (D), `h_speed` (H.S), `v_speed` (V.S),
    /// `satellites` (third GPS value, lon-first dialects), `gps_alt` (third GPS
    /// value, Matrice), `home_lat`/`home_lon`/`home_alt` (HOME), `pitch`/`roll`
    /// (F.PRY), `gimbal_pitch`/`gimbal_roll`/`gimbal_yaw` (G.PRY), and as
    /// they come: `iso`, `ev`, `ct`, `color_md`, `focal_len`, `dzoom_ratio`,
    /// `difftime`, `hs`, ...
    public var camera: [String: String]

    public init(index: Int, startMillis: Int64, endMillis: Int64, frameCount: Int? = nil,
                localTime: LocalTime? = nil, lat: Double? = nil, lon: Double? = nil,
                relativeAltM: Double? = nil, absoluteAltM: Double? = nil, headingDeg: Double? = nil,
                camera: [String: String] = [:]) {
        self.index = index
        self.startMillis = startMillis
        self.endMillis = endMillis
        self.frameCount = frameCount
        self.localTime = localTime
        self.lat = lat
        self.lon = lon
        self.relativeAltM = relativeAltM
        self.absoluteAltM = absoluteAltM
        self.headingDeg = headingDeg
        self.camera = camera
    }

    /// A civil date and time with no zone, as DJI writes it.
    public struct LocalTime: Sendable, Equatable, CustomStringConvertible {
        public var year: Int
        public var month: Int
        public var day: Int
        public var hour: Int
        public var minute: Int
        public var second: Int
        public var millis: Int

        public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millis: Int = 0) {
            self.year = year
            self.month = month
            self.day = day
            self.hour = hour
            self.minute = minute
            self.second = second
            self.millis = millis
        }

        /// The instant this civil time names where clocks run `utcOffsetSeconds`
        /// ahead of UTC (28800 for China Standard Time).
        public func instant(utcOffsetSeconds: Int) -> Instant {
            // Wrapping arithmetic: a caller may build any LocalTime, and a
            // nonsense one must give a nonsense instant, not a trap.
            let days = Int64(truncatingIfNeeded: RFC3339.daysFromCivil(year: year, month: month, day: day))
            let secondsOfDay = Int64(truncatingIfNeeded: hour) &* 3600 &+ Int64(truncatingIfNeeded: minute) &* 60
                &+ Int64(truncatingIfNeeded: second)
            let seconds = days &* 86_400 &+ secondsOfDay &- Int64(truncatingIfNeeded: utcOffsetSeconds)
            return Instant(millis: seconds &* 1000 &+ Int64(truncatingIfNeeded: millis))
        }

        /// `2021-12-25 12:27:52.373`, no zone.
        public var description: String {
            func pad(_ v: Int, _ width: Int) -> String {
                let s = String(v)
                return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
            }
            return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + " " + pad(hour, 2) + ":"
                + pad(minute, 2) + ":" + pad(second, 2) + "." + pad(millis, 3)
        }
    }
}

public enum DJISRT {
    /// Something in the text that could not be read, or was read with a
    /// caveat. The block it belongs to (if any) is still returned.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// 1-based line in the text given; 0 when it concerns the whole text.
        public var line: Int
        /// One sentence.
        public var message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }

        public var description: String { line > 0 ? "line \(line): \(message)" : message }
    }

    /// Every block of an SRT text (bytes as read from a file or a subtitle packet), with the problems met.
    public static func parse(_ bytes: [UInt8]) -> (records: [DJISRTRecord], problems: [Problem]) {
        var problems: [Problem] = []
        guard bytes.contains(where: { !isSpace($0) && $0 != cr && $0 != lf }) else {
            return ([], [Problem(line: 0, message: "The text is empty.")])
        }
        let chunks = splitBlocks(splitLines(bytes))
        var records: [DJISRTRecord] = []
        var lastIndex = 0
        var untimed: (firstLine: Int, firstIndex: Int, count: Int)?

        for chunk in chunks {
            guard let first = chunk.first else { continue }
            var k = 0
            var index: Int?
            if isIndexLine(first.bytes) {
                index = Int(text(first.bytes))
                k = 1
            }
            var times: (Int64, Int64)?
            var hadTimeLine = false
            if k < chunk.count, containsArrow(chunk[k].bytes) {
                hadTimeLine = true
                times = parseTimeRange(chunk[k].bytes)
                if times == nil {
                    problems.append(Problem(line: chunk[k].number,
                                            message: "The time range \"\(clip(chunk[k].bytes))\" cannot be read; the block gets start and end 0."))
                }
                k += 1
            }
            guard index != nil || hadTimeLine else {
                problems.append(Problem(line: first.number,
                                        message: "Text outside any subtitle block (no index or time-range line) is skipped."))
                continue
            }
            let blockIndex: Int
            if let index {
                blockIndex = index
            } else {
                blockIndex = lastIndex &+ 1
                problems.append(Problem(line: first.number,
                                        message: "A block has no index line; it is numbered \(blockIndex), after the block before it."))
            }
            lastIndex = blockIndex
            let textLines = Array(chunk[k...])
            guard !textLines.isEmpty else {
                problems.append(Problem(line: first.number, message: "Block \(blockIndex) has no text and is skipped."))
                continue
            }
            var fields = Fields()
            for line in textLines { fields.read(line) }
            let (start, end) = times ?? (0, 0)
            let record = fields.record(index: blockIndex, startMillis: start, endMillis: end)
            problems.append(contentsOf: fields.problems)
            guard fields.recognisedAny else {
                // Not telemetry (an ordinary subtitle, or noise that looked
                // like a block): a record of nothing would only mislead.
                problems.append(Problem(line: first.number,
                                        message: "Block \(blockIndex) has no DJI telemetry field that could be read and is skipped."))
                continue
            }
            if end < start {
                problems.append(Problem(line: chunk[max(0, k - 1)].number,
                                        message: "Block \(blockIndex) ends before it starts."))
            }
            if !hadTimeLine {
                if let u = untimed {
                    untimed = (u.firstLine, u.firstIndex, u.count + 1)
                } else {
                    untimed = (first.number, blockIndex, 1)
                }
            }
            records.append(record)
        }
        if let u = untimed {
            let others = u.count - 1
            problems.append(Problem(line: u.firstLine, message: others > 0
                ? "Block \(u.firstIndex) and \(others) later block(s) have no time-range line; they get start and end 0."
                : "Block \(u.firstIndex) has no time-range line; it gets start and end 0."))
        }
        if records.isEmpty {
            problems.append(Problem(line: 0, message: "No block of DJI telemetry was found."))
        }
        return (records, problems)
    }

    /// One subtitle packet's text (a video's subtitle stream gives one block's text per packet, without index/time lines): parse the text lines only.
    public static func parseText(_ text: String, startMillis: Int64, endMillis: Int64, index: Int) -> DJISRTRecord {
        var fields = Fields()
        for line in splitLines(Array(text.utf8)) where !line.bytes.isEmpty && !containsArrow(line.bytes) {
            fields.read(line)
        }
        return fields.record(index: index, startMillis: startMillis, endMillis: endMillis)
    }

    // MARK: - Lines and blocks

    struct Line {
        var number: Int
        var bytes: [UInt8]
    }

    /// Lines split at LF, CRLF or a lone CR, each trimmed of blanks and of a
    /// UTF-8 byte-order mark (files concatenated by tools carry one mid-file).
    static func splitLines(_ bytes: [UInt8]) -> [Line] {
        var lines: [Line] = []
        var start = 0
        var i = 0
        var number = 1
        while i < bytes.count {
            let c = bytes[i]
            if c == lf || c == cr {
                lines.append(Line(number: number, bytes: trimmed(bytes[start..<i])))
                if c == cr, i + 1 < bytes.count, bytes[i + 1] == lf { i += 1 }
                i += 1
                start = i
                number += 1
            } else {
                i += 1
            }
        }
        if start < bytes.count {
            lines.append(Line(number: number, bytes: trimmed(bytes[start..<bytes.count])))
        }
        return lines
    }

    /// Blocks are separated by blank lines; a block that runs straight into
    /// the next one (an index line followed by a time range, or a time range
    /// mid-block) is split there, so one lost blank line loses no block.
    static func splitBlocks(_ lines: [Line]) -> [[Line]] {
        var chunks: [[Line]] = []
        var current: [Line] = []
        for (i, line) in lines.enumerated() {
            if line.bytes.isEmpty {
                if !current.isEmpty { chunks.append(current) }
                current = []
                continue
            }
            if !current.isEmpty {
                let startsBlock: Bool
                if isIndexLine(line.bytes) {
                    startsBlock = i + 1 < lines.count && containsArrow(lines[i + 1].bytes)
                } else if containsArrow(line.bytes) {
                    startsBlock = !(current.count == 1 && isIndexLine(current[0].bytes))
                } else {
                    startsBlock = false
                }
                if startsBlock {
                    chunks.append(current)
                    current = []
                }
            }
            current.append(line)
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    static func isIndexLine(_ b: [UInt8]) -> Bool {
        !b.isEmpty && b.count <= 9 && b.allSatisfy(isDigit)
    }

    static func containsArrow(_ b: [UInt8]) -> Bool {
        findArrow(b) != nil
    }

    static func findArrow(_ b: [UInt8]) -> Int? {
        guard b.count >= 3 else { return nil }
        for i in 0...(b.count - 3) where b[i] == minus && b[i + 1] == minus && b[i + 2] == gt {
            return i
        }
        return nil
    }

    /// `HH:MM:SS,mmm --> HH:MM:SS,mmm`, tolerating `.` for `,`, short
    /// fractions and SRT's optional position coordinates after the end.
    static func parseTimeRange(_ b: [UInt8]) -> (Int64, Int64)? {
        guard let arrow = findArrow(b) else { return nil }
        let left = trimmed(b[0..<arrow])
        var right = trimmed(b[(arrow + 3)..<b.count])
        if let space = right.firstIndex(where: isSpace) { right = Array(right[0..<space]) }
        guard let start = parseTimestamp(left), let end = parseTimestamp(right) else { return nil }
        return (start, end)
    }

    static func parseTimestamp(_ b: [UInt8]) -> Int64? {
        var i = 0
        func number(maxDigits: Int) -> Int64? {
            let from = i
            var v: Int64 = 0
            while i < b.count, isDigit(b[i]), i - from < maxDigits {
                v = v * 10 + Int64(b[i] - zero)
                i += 1
            }
            return i > from ? v : nil
        }
        guard let h = number(maxDigits: 6), i < b.count, b[i] == colon else { return nil }
        i += 1
        // Matrice 300 firmware writes the minute's last second's end as
        // "00:00:60,000"; 60 is read as the next minute (or hour).
        guard let m = number(maxDigits: 2), m <= 60, i < b.count, b[i] == colon else { return nil }
        i += 1
        guard let s = number(maxDigits: 2), s <= 60 else { return nil }
        var ms: Int64 = 0
        if i < b.count, b[i] == comma || b[i] == dot {
            i += 1
            let from = i
            guard let f = number(maxDigits: 3) else { return nil }
            ms = f * [100, 10, 1][min(2, i - from - 1)]
        }
        guard i == b.count else { return nil }
        return ((h * 60 + m) * 60 + s) * 1000 + ms
    }

    // MARK: - The fields of one block

    /// What one block's text lines say, gathered before the position is
    /// judged (lat and lon may come from separate brackets, and HOME's order
    /// follows GPS's).
    struct Fields {
        var frameCount: Int?
        var localTime: DJISRTRecord.LocalTime?
        var latText: (text: String, line: Int)?
        var lonText: (text: String, line: Int)?
        var gpsLatFirst: Bool?
        var home: (values: [String], line: Int)?
        var relativeAltM: Double?
        var absoluteAltM: Double?
        var headingDeg: Double?
        var camera: [String: String] = [:]
        var problems: [Problem] = []
        var recognisedAny = false

        mutating func read(_ line: Line) {
            let s = withoutTags(line.bytes)
            var residual: [UInt8] = []
            residual.reserveCapacity(s.count)
            var i = 0
            scan: while i < s.count {
                let c = s[i]
                if c == lbracket {
                    guard let close = s[(i + 1)...].firstIndex(of: rbracket) else {
                        // A truncated bracket may hold a truncated number:
                        // reading "-34.86" of "-34.869941" would misplace the
                        // aircraft, so the fragment is dropped.
                        problems.append(Problem(line: line.number,
                                                message: "An unclosed \"[\" (a truncated line?) is ignored with the rest of the line."))
                        break scan
                    }
                    readBracket(Array(s[(i + 1)..<close]), line: line.number)
                    residual.append(space)
                    i = close + 1
                    continue
                }
                if isLetter(c), i == 0 || !isNameByte(s[i - 1]) {
                    var j = i
                    while j < s.count, isNameByte(s[j]) { j += 1 }
                    var k = j
                    while k < s.count, isSpace(s[k]) { k += 1 }
                    if k < s.count, s[k] == lparen {
                        guard let close = s[(k + 1)...].firstIndex(of: rparen) else {
                            problems.append(Problem(line: line.number,
                                                    message: "An unclosed \"(\" after \(text(Array(s[i..<j]))) (a truncated line?) is ignored with the rest of the line."))
                            break scan
                        }
                        readTuple(name: text(Array(s[i..<j])).lowercased(), Array(s[(k + 1)..<close]),
                                  line: line.number)
                        residual.append(space)
                        i = close + 1
                        continue
                    }
                    residual.append(contentsOf: s[i..<j])
                    i = j
                    continue
                }
                residual.append(c)
                i += 1
            }
            residual = takeDate(from: residual, line: line.number)
            readPairs(residual, line: line.number)
        }

        /// `[key: value]`, `[key : value]`, and several pairs in one bracket:
        /// `[rel_alt: -2.400 abs_alt: 0.401]`, `[dzoom_ratio: 10000, delta:0]`.
        mutating func readBracket(_ b: [UInt8], line: Int) {
            var keys: [(name: String, keyStart: Int, valueStart: Int)] = []
            var i = 0
            while i < b.count {
                if isLetter(b[i]), i == 0 || !isNameByte(b[i - 1]) {
                    var j = i
                    while j < b.count, isNameByte(b[j]) { j += 1 }
                    var k = j
                    while k < b.count, isSpace(b[k]) { k += 1 }
                    if k < b.count, b[k] == colon {
                        keys.append((text(Array(b[i..<j])), i, k + 1))
                        i = k + 1
                        continue
                    }
                    i = j
                    continue
                }
                i += 1
            }
            for (n, key) in keys.enumerated() {
                let end = n + 1 < keys.count ? keys[n + 1].keyStart : b.count
                let value = key.valueStart < end ? b[key.valueStart..<end] : []
                let cleaned = trimmed(value, also: comma)
                apply(key: key.name.lowercased(), value: text(cleaned), line: line)
            }
        }

        /// `GPS(...)`, `HOME (...)`, `F.PRY (...)`, `G.PRY (...)`.
        mutating func readTuple(name: String, _ b: [UInt8], line: Int) {
            // Degree signs (and their mis-decoded "Â" halves) ride on the
            // angles; only ASCII carries meaning here.
            let values = b.split(separator: comma, omittingEmptySubsequences: false).map { part in
                text(trimmed(part.filter { $0 < 0x80 }))
            }
            switch name {
            case "gps":
                recognisedAny = true
                guard values.count >= 2 else {
                    problems.append(Problem(line: line, message: "GPS(...) has fewer than two values; no position."))
                    return
                }
                // The lon-first dialects put a bare satellite count third;
                // the Matrice 300 puts an altitude with its unit ("0.0M")
                // there, and writes latitude first. This is the feature
                // DJI_SRT_Parser tells them apart by too; the values alone
                // cannot, as both orders give valid coordinates in most of the
                // world.
                let latFirst = values.count >= 3 && hasMetreUnit(values[2])
                gpsLatFirst = latFirst
                setPosition(lat: values[latFirst ? 0 : 1], lon: values[latFirst ? 1 : 0], line: line)
                if values.count >= 3 {
                    setCamera(latFirst ? "gps_alt" : "satellites", values[2])
                }
            case "home":
                recognisedAny = true
                if home == nil { home = (values, line) }
            case "f.pry":
                recognisedAny = true
                if values.count >= 1 { setCamera("pitch", values[0]) }
                if values.count >= 2 { setCamera("roll", values[1]) }
                if values.count >= 3, headingDeg == nil {
                    if let yaw = decimal(values[2]), abs(yaw) <= 360 {
                        let h = yaw.truncatingRemainder(dividingBy: 360)
                        // A yaw a hair below 0 plus 360 rounds to 360.0.
                        let compass = h < 0 ? h + 360 : h
                        headingDeg = compass < 360 ? compass : 0
                    } else {
                        problems.append(Problem(line: line, message: "The yaw \"\(values[2])\" in F.PRY is not an angle."))
                    }
                }
            case "g.pry":
                recognisedAny = true
                for (key, v) in zip(["gimbal_pitch", "gimbal_roll", "gimbal_yaw"], values) { setCamera(key, v) }
            default:
                setCamera(name, values.joined(separator: ", "))
            }
        }

        /// Finds the date (`2021-12-25 12:27:52.373`, `2022-08-07 13:40:40,774,808`,
        /// `2017.8.5 14:11:51`) anywhere in the line and cuts it out, so its
        /// colons are not read as key/value pairs.
        mutating func takeDate(from b: [UInt8], line: Int) -> [UInt8] {
            var p = 0
            while p + 14 <= b.count {
                if p == 0 || !isDigit(b[p - 1]), case let (time, end)? = matchDate(b, at: p) {
                    recognisedAny = true
                    if let time {
                        if localTime == nil { localTime = time }
                    } else {
                        problems.append(Problem(line: line,
                                                message: "The date \"\(text(Array(b[p..<end])))\" is not a valid date and time."))
                    }
                    return Array(b[0..<p]) + [space] + Array(b[end..<b.count])
                }
                p += 1
            }
            return b
        }

        /// The rest of a line: `FrameCnt: 1, DiffTime: 20ms`, `ISO:100 Shutter:60 EV: Fnum:2.2`,
        /// `F/2.8, SS 30.15, ISO 260, EV -1.7, D 221.21m, H 200.70m, H.S n/a`.
        mutating func readPairs(_ b: [UInt8], line: Int) {
            // "FrameCnt : 1" and "FrameCnt: 1" alike.
            var squeezed: [UInt8] = []
            squeezed.reserveCapacity(b.count)
            for c in b {
                if c == colon { while let last = squeezed.last, isSpace(last) { squeezed.removeLast() } }
                squeezed.append(c)
            }
            let tokens = squeezed.split(whereSeparator: { isSpace($0) || $0 == comma }).map { Array($0) }
            var i = 0
            while i < tokens.count {
                let t = tokens[i]
                i += 1
                if let c = t.firstIndex(of: colon) {
                    let key = Array(t[0..<c])
                    guard isKey(key) else { continue }
                    var value = Array(t[(c + 1)...])
                    // "EV: 0 IR:F2.8" has the value after a blank, "EV: Fnum:2.2" has none.
                    if value.isEmpty, i < tokens.count, !tokens[i].contains(colon) {
                        value = tokens[i]
                        i += 1
                    }
                    apply(key: text(key).lowercased(), value: text(value), line: line)
                } else if let cut = t.firstIndex(of: slash), cut > 0, isKey(Array(t[0..<cut])),
                          cut + 1 < t.count, isDigit(t[cut + 1]) {
                    // "F/2.8"
                    apply(key: text(Array(t[0..<cut])).lowercased(), value: text(Array(t[(cut + 1)...])), line: line)
                } else if isKey(t), i < tokens.count, looksLikeValue(tokens[i]) {
                    // "SS 400", "H 85.80m", "H.S n/a"
                    apply(key: text(t).lowercased(), value: text(tokens[i]), line: line)
                    i += 1
                }
            }
        }

        mutating func apply(key: String, value: String, line: Int) {
            recognisedAny = true
            switch key {
            case "latitude":
                if latText == nil { latText = (value, line) }
            case "longitude", "longtitude":
                if lonText == nil { lonText = (value, line) }
            case "rel_alt", "barometer", "hb", "h":
                if relativeAltM == nil { relativeAltM = altitude(value, line: line) }
            case "abs_alt", "altitude":
                if absoluteAltM == nil { absoluteAltM = altitude(value, line: line) }
            case "framecnt", "srtcnt":
                if frameCount == nil {
                    if let n = Int(value) {
                        frameCount = n
                    } else {
                        problems.append(Problem(line: line, message: "The frame counter \"\(value)\" is not a whole number."))
                    }
                }
            case "f", "ir", "fnum": setCamera("fnum", value)
            case "ss", "tv", "shutter": setCamera("shutter", value)
            case "d": setCamera("distance", value)
            case "h.s": setCamera("h_speed", value)
            case "v.s": setCamera("v_speed", value)
            default: setCamera(key, value)
            }
        }

        /// First one wins; an empty value ("EV: Fnum:2.2") says nothing.
        mutating func setCamera(_ key: String, _ value: String) {
            if !value.isEmpty, camera[key] == nil { camera[key] = value }
        }

        mutating func setPosition(lat: String, lon: String, line: Int) {
            if latText == nil { latText = (lat, line) }
            if lonText == nil { lonText = (lon, line) }
        }

        /// Metres from "85.80m", "0.3M", "117.000000"; DJI's "n/a" is no value.
        mutating func altitude(_ value: String, line: Int) -> Double? {
            if let v = decimal(value, unit: true) { return v }
            if !value.isEmpty, value.lowercased() != "n/a" {
                problems.append(Problem(line: line, message: "The altitude \"\(value)\" is not a number."))
            }
            return nil
        }

        /// Judges the position: both halves, numbers, in range, and not DJI's
        /// 0,0 placeholder for "no fix" (a point in the Gulf of Guinea that
        /// no city drone flies over).
        mutating func position(lat: (text: String, line: Int)?, lon: (text: String, line: Int)?,
                               what: String) -> (Double, Double)? {
            // "GPS(N/A,N/A,3)" is how the Mavic Pro says it has no fix yet.
            func given(_ v: (text: String, line: Int)?) -> (text: String, line: Int)? {
                guard let v, !v.text.isEmpty, v.text.lowercased() != "n/a" else { return nil }
                return v
            }
            switch (given(lat), given(lon)) {
            case (nil, nil):
                return nil
            case (let l?, nil):
                problems.append(Problem(line: l.line, message: "The \(what) has a latitude but no longitude; no position."))
                return nil
            case (nil, let l?):
                problems.append(Problem(line: l.line, message: "The \(what) has a longitude but no latitude; no position."))
                return nil
            case (let la?, let lo?):
                guard let lat = decimal(la.text), let lon = decimal(lo.text) else {
                    problems.append(Problem(line: la.line,
                                            message: "The \(what) \"\(la.text)\", \"\(lo.text)\" is not a pair of numbers; no position."))
                    return nil
                }
                if lat == 0, lon == 0 { return nil }
                guard abs(lat) <= 90, abs(lon) <= 180 else {
                    problems.append(Problem(line: la.line,
                                            message: "The \(what) latitude \(la.text), longitude \(lo.text) is out of range; no position."))
                    return nil
                }
                return (lat, lon)
            }
        }

        mutating func record(index: Int, startMillis: Int64, endMillis: Int64) -> DJISRTRecord {
            var record = DJISRTRecord(index: index, startMillis: startMillis, endMillis: endMillis,
                                      frameCount: frameCount, localTime: localTime,
                                      relativeAltM: relativeAltM, absoluteAltM: absoluteAltM,
                                      headingDeg: headingDeg, camera: camera)
            if case let (lat, lon)? = position(lat: latText, lon: lonText, what: "position") {
                record.lat = lat
                record.lon = lon
            }
            if let home, home.values.count >= 2 {
                // HOME is written in the same order as GPS by the firmware that
                // writes both; without a GPS tuple the legacy lon-first order.
                let latFirst = gpsLatFirst ?? false
                let la = home.values[latFirst ? 0 : 1], lo = home.values[latFirst ? 1 : 0]
                if position(lat: (la, home.line), lon: (lo, home.line), what: "HOME position") != nil {
                    record.camera["home_lat"] = la
                    record.camera["home_lon"] = lo
                }
                if home.values.count >= 3 { record.camera["home_alt"] = home.values[2] }
            } else if let home {
                problems.append(Problem(line: home.line, message: "HOME(...) has fewer than two values."))
            }
            return record
        }
    }

    // MARK: - Small readers

    /// A date at `p`: `YYYY[-.]M[-.]D H:MM:SS` and an optional fraction
    /// (`.373`, `,774,808`, `:774.808`), returning the time (nil if the
    /// fields are out of range) and where the match ends.
    static func matchDate(_ b: [UInt8], at p: Int) -> (DJISRTRecord.LocalTime?, Int)? {
        var i = p
        func digits(_ minCount: Int, _ maxCount: Int) -> Int? {
            let from = i
            var v = 0
            while i < b.count, isDigit(b[i]), i - from < maxCount {
                v = v * 10 + Int(b[i] - zero)
                i += 1
            }
            return i - from >= minCount ? v : nil
        }
        guard let year = digits(4, 4), i < b.count, b[i] == minus || b[i] == dot else { return nil }
        let sep = b[i]
        i += 1
        guard let month = digits(1, 2), i < b.count, b[i] == sep else { return nil }
        i += 1
        guard let day = digits(1, 2), i < b.count, isSpace(b[i]) else { return nil }
        while i < b.count, isSpace(b[i]) { i += 1 }
        guard let hour = digits(1, 2), i < b.count, b[i] == colon else { return nil }
        i += 1
        guard let minute = digits(2, 2), i < b.count, b[i] == colon else { return nil }
        i += 1
        guard let second = digits(2, 2) else { return nil }
        var millis = 0
        if i + 1 < b.count, b[i] == dot || b[i] == comma || b[i] == colon, isDigit(b[i + 1]) {
            i += 1
            let from = i
            while i < b.count, isDigit(b[i]) { i += 1 }
            let fraction = b[from..<min(i, from + 3)]
            for (n, d) in fraction.enumerated() { millis += Int(d - zero) * [100, 10, 1][n] }
            // Mavic 2 adds microseconds (and sometimes more) in further groups.
            while i + 1 < b.count, b[i] == comma || b[i] == dot, isDigit(b[i + 1]) {
                i += 1
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
        }
        guard (1...12).contains(month), day >= 1, day <= RFC3339.daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60
        else { return (nil, i) }
        return (DJISRTRecord.LocalTime(year: year, month: month, day: day, hour: hour, minute: minute,
                                       second: second, millis: millis), i)
    }

    /// A plain decimal (`-20.2533`, `+0.7`, `117.000000`), optionally followed
    /// by a unit (`m`, `M`, `m/s`) when `unit` is set. Stricter than
    /// `Double(_:)`, which would take "nan", "inf" and hexadecimal.
    static func decimal(_ s: String, unit: Bool = false) -> Double? {
        var b = Array(s.utf8)
        if unit {
            while let last = b.last, isLetter(last) || last == slash { b.removeLast() }
        }
        guard !b.isEmpty, b.count <= 40 else { return nil }
        var i = 0
        if b[0] == plus || b[0] == minus { i = 1 }
        var digitsSeen = 0
        var dotSeen = false
        while i < b.count {
            if isDigit(b[i]) {
                digitsSeen += 1
            } else if b[i] == dot, !dotSeen {
                dotSeen = true
            } else {
                return nil
            }
            i += 1
        }
        guard digitsSeen > 0, let v = Double(text(b)), v.isFinite else { return nil }
        return v
    }

    /// "0.0M", "87.9m": a number with a metre unit.
    static func hasMetreUnit(_ s: String) -> Bool {
        guard let last = s.utf8.last, last == UInt8(ascii: "M") || last == UInt8(ascii: "m") else { return false }
        return decimal(String(s.dropLast())) != nil
    }

    /// `<font size="28">` and `</font>`, which DJI wraps the text in.
    static func withoutTags(_ b: [UInt8]) -> [UInt8] {
        guard b.contains(lt) else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == lt, i + 1 < b.count, isLetter(b[i + 1]) || b[i + 1] == slash,
               let close = b[(i + 1)...].firstIndex(of: gt) {
                out.append(space)
                i = close + 1
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return out
    }

    static func isKey(_ b: [UInt8]) -> Bool {
        guard let first = b.first, isLetter(first), b.count <= 32 else { return false }
        return b.allSatisfy(isNameByte)
    }

    static func looksLikeValue(_ b: [UInt8]) -> Bool {
        guard let first = b.first else { return false }
        if isDigit(first) || first == plus || first == minus || first == dot { return true }
        return text(b).lowercased() == "n/a"
    }

    static func trimmed(_ b: ArraySlice<UInt8>, also extra: UInt8? = nil) -> [UInt8] {
        var lo = b.startIndex
        var hi = b.endIndex
        while lo < hi {
            if isSpace(b[lo]) || b[lo] == extra {
                lo += 1
            } else if hi - lo >= 3, b[lo] == 0xEF, b[lo + 1] == 0xBB, b[lo + 2] == 0xBF {
                lo += 3
            } else {
                break
            }
        }
        while lo < hi, isSpace(b[hi - 1]) || b[hi - 1] == extra { hi -= 1 }
        return Array(b[lo..<hi])
    }

    static func trimmed(_ b: [UInt8], also extra: UInt8? = nil) -> [UInt8] {
        trimmed(b[...], also: extra)
    }

    static func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

    /// A line quoted in a problem, cut short so one garbage line cannot make
    /// a huge message.
    static func clip(_ b: [UInt8]) -> String {
        b.count <= 60 ? text(b) : text(Array(b[0..<60])) + "..."
    }

    static let lf: UInt8 = 0x0A, cr: UInt8 = 0x0D, space: UInt8 = 0x20, tab: UInt8 = 0x09
    static let colon = UInt8(ascii: ":"), comma = UInt8(ascii: ","), dot = UInt8(ascii: ".")
    static let minus = UInt8(ascii: "-"), plus = UInt8(ascii: "+"), slash = UInt8(ascii: "/")
    static let lt = UInt8(ascii: "<"), gt = UInt8(ascii: ">"), zero = UInt8(ascii: "0")
    static let lbracket = UInt8(ascii: "["), rbracket = UInt8(ascii: "]")
    static let lparen = UInt8(ascii: "("), rparen = UInt8(ascii: ")")

    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    static func isLetter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0B || c == 0x0C || c == 0 }
    /// Letters, digits, `_` and `.`: enough for `focal_len`, `F.PRY`, `H.S`.
    static func isNameByte(_ c: UInt8) -> Bool { isLetter(c) || isDigit(c) || c == 0x5F || c == dot }
}
