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
}
