// What the text lines of one DJI SRT block say, in every dialect (see DJISRT.swift).

extension DJISRT {
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
}
