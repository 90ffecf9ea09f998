/// The standard protocols' messages as Muckwatch records: which device a
/// message is, what is rejected and why, and the protocol's own fields for
/// `muckwatch decode`.
extension PayloadDecoder {
    func jt808(_ payload: [UInt8], topicDevice: String?, extra: Bool) -> [DecodedItem] {
        let framing: (frames: [Range<Int>], stray: Int)
        do {
            framing = try JT808.frames(in: payload)
        } catch {
            return [.failure(error, extra: nil)]
        }
        guard !framing.frames.isEmpty else {
            return [.failure(DecodeFailure(.badFrame, "payload (\(payload.count) bytes) holds no 0x7e-delimited frame"), extra: nil)]
        }
        var items: [DecodedItem] = []
        let count = framing.frames.count
        for (n, range) in framing.frames.enumerated() {
            let label = count > 1 ? "frame \(n + 1) of \(count): " : ""
            var frameExtra: JSONLine?
            do throws(DecodeFailure) {
                let frame = try JT808.frame(try JT808.unescape(payload, range))
                let h = frame.header
                let phone = JT808.canonicalPhone(h.phone)
                let device = protocols.jt808.devices[phone]
                if extra { frameExtra = jt808Extra(frame) }
                var marks: String?
                if !frame.checksumOK {
                    guard device?.lenientChecksum == true else {
                        throw DecodeFailure(.badChecksum, """
                            checksum is 0x\(Hex.string([frame.declaredChecksum])) but the frame's XOR is \
                            0x\(Hex.string([frame.computedChecksum])) (terminal \(h.phone), message 0x\(JT808.hex16(h.messageId)))
                            """)
                    }
                    marks = "bad_checksum"
                }
                guard JT808.carriesLocations(h.messageId) else {
                    items.append(.ignored("jt808_0x\(JT808.hex16(h.messageId))", extra: frameExtra))
                    continue
                }
                guard h.encryption == 0 else {
                    throw DecodeFailure(.unsupported, "message 0x\(JT808.hex16(h.messageId)) has an encrypted body (attribute bits 10-12 = \(h.encryption))")
                }
                if let total = h.packetTotal, total > 1 {
                    throw DecodeFailure(.unsupported, """
                        message 0x\(JT808.hex16(h.messageId)) is sub-packet \(h.packetIndex ?? 0) of \(total); \
                        split messages are not reassembled
                        """)
                }
                let (points, batch) = try JT808.locations(frame)
                if points.isEmpty {
                    // A well-formed batch of no points: said, not dropped.
                    items.append(.ignored("jt808_empty_batch", extra: frameExtra))
                    continue
                }
                let deviceId = registry.truck(phone: phone)?.device ?? phone
                let profile = protocols.jt808.profile(device)
                for p in points {
                    var pointExtra = frameExtra
                    if extra { addLocationExtra(p, batch: batch, to: &pointExtra) }
                    // No fix and no position: nothing to place. A position without
                    // the fix bit (often the last known one) is kept and marked.
                    guard p.isFixed || p.lat != 0 || p.lon != 0 else {
                        items.append(.ignored("jt808_no_fix", extra: pointExtra))
                        continue
                    }
                    let pointMarks = [marks, p.isFixed ? nil : "no_fix", p.itemsProblem == nil ? nil : "bad_additional_items"]
                        .compactMap { $0 }
                    let t = profile.telemetry(p, device: deviceId, serial: h.serial, late: batch == .blindArea,
                                              marks: pointMarks.isEmpty ? nil : pointMarks.joined(separator: ","))
                    items.append(.record(.truck(t), extra: pointExtra))
                }
            } catch {
                items.append(.failure(DecodeFailure(error.reason, label + error.detail), extra: frameExtra))
            }
        }
        if framing.stray > 0 {
            items.append(.failure(DecodeFailure(.badFrame, "\(framing.stray) bytes lie outside every 0x7e frame"), extra: nil))
        }
        return items
    }

    func hj212(_ payload: [UInt8], topicDevice: String?, extra: Bool) -> [DecodedItem] {
        let packets: [HJ212.Packet]
        do {
            packets = try HJ212.packets(in: payload)
        } catch {
            return [.failure(error, extra: nil)]
        }
        return packets.enumerated().map { n, packet in
            let label = packets.count > 1 ? "packet \(n + 1) of \(packets.count): " : ""
            let packetExtra = extra ? hj212Extra(packet) : nil
            do throws(DecodeFailure) {
                return try hj212Item(packet, topicDevice: topicDevice, extra: packetExtra)
            } catch {
                return .failure(DecodeFailure(error.reason, label + error.detail), extra: packetExtra)
            }
        }
    }

    private func hj212Item(_ packet: HJ212.Packet, topicDevice: String?, extra: JSONLine?) throws(DecodeFailure) -> DecodedItem {
        let mn = packet.field("MN").flatMap { $0.isEmpty ? nil : $0 }
        guard let monitor = mn ?? topicDevice else {
            throw DecodeFailure(.missingField, "the packet has no MN and the topic names no device")
        }
        let device = protocols.hj212.devices[monitor]
        var marks: String?
        if !packet.crcOK {
            guard device?.lenientChecksum == true else {
                throw DecodeFailure(.badChecksum, """
                    CRC is \(hex4(packet.declaredCRC)) but the data segment's CRC16 is \(hex4(packet.computedCRC)) (MN \(monitor))
                    """)
            }
            marks = "bad_crc"
        }
        let cn = packet.field("CN") ?? ""
        let suffix: String
        switch cn {
        case "2011": suffix = "Rtd"
        case "2051", "2061": suffix = "Avg"
        default: return .ignored("hj212_cn_\(cn.isEmpty ? "missing" : cn)", extra: extra)
        }
        let profile = protocols.hj212.profile(device)
        let key = "\(profile.concentration)-\(suffix)"
        guard let text = packet.value(key) else {
            throw DecodeFailure(.missingField, "CN \(cn) record has no '\(key)' (the configured fume concentration code)")
        }
        guard let conc = Double(text), conc.isFinite else {
            throw DecodeFailure(.invalidValue, "'\(key)' is '\(text)', not a number")
        }
        guard (0...10_000).contains(conc) else {
            throw DecodeFailure(.outOfRange, "'\(key)' is \(conc), outside 0...10000 mg/m³")
        }
        guard let timeText = packet.value("DataTime") ?? packet.field("QN") else {
            throw DecodeFailure(.missingField, "the packet has neither DataTime nor QN")
        }
        guard let ts = HJ212.time(timeText) else {
            throw DecodeFailure(.invalidValue, "DataTime '\(timeText)' is not YYYYMMDDhhmmss")
        }
        var reading = FumeReading(monitor: monitor, ts: ts, concMgM3: conc, fan: profile.state(profile.fan, packet),
                                  purifier: profile.state(profile.purifier, packet), flowM3H: nil)
        reading.dataFlag = packet.value("\(profile.concentration)-Flag")
        reading.marks = marks
        return .record(.fume(reading), extra: extra)
    }

    func djiOSD(_ payload: [UInt8], topicDevice: String?, extra: Bool) -> [DecodedItem] {
        do {
            let message = try json.parse(payload) { root throws(DecodeFailure) in try DJIOSD.decode(root) }
            switch message {
            case .ignored(let what):
                return [.ignored(what, extra: nil)]
            case .aircraft(let a):
                guard let sn = topicDevice ?? a.gateway else {
                    throw DecodeFailure(.missingField, "the topic names no aircraft serial number and 'gateway' is missing")
                }
                let heading = a.attitudeHead.map { ($0.truncatingRemainder(dividingBy: 360) + 360).truncatingRemainder(dividingBy: 360) }
                let t = DroneTelemetry(drone: sn, ts: a.timestamp, lat: a.lat, lon: a.lon, altM: a.height, headingDeg: heading)
                return [.record(.drone(t), extra: extra ? djiExtra(a) : nil)]
            }
        } catch let failure as DecodeFailure {
            return [.failure(failure, extra: nil)]
        } catch {
            return [.failure(DecodeFailure(.invalidJSON, "payload is not valid JSON (\(error))"), extra: nil)]
        }
    }

    // MARK: The protocols' other fields

    private func jt808Extra(_ frame: JT808.Frame) -> JSONLine {
        let h = frame.header
        var x = JSONLine()
        x.add("protocol", "jt808")
        x.add("version", h.is2019 ? "2019" : "2013")
        x.add("msg_id", "0x" + JT808.hex16(h.messageId))
        x.add("phone", h.phone)
        x.add("serial", Int(h.serial))
        x.add("checksum", frame.checksumOK ? "ok" : "bad")
        if !frame.checksumOK {
            x.add("checksum_declared", "0x" + Hex.string([frame.declaredChecksum]))
            x.add("checksum_computed", "0x" + Hex.string([frame.computedChecksum]))
        }
        if let total = h.packetTotal { x.add("packet", "\(h.packetIndex ?? 0)/\(total)") }
        return x
    }

    private func addLocationExtra(_ p: JT808.Location, batch: JT808.Batch?, to x: inout JSONLine?) {
        guard var line = x else { return }
        if let batch { line.add("batch", batch.rawValue) }
        line.add("alarm", JT808.names(p.alarm, JT808.alarmNames))
        line.add("status", JT808.names(p.status, JT808.statusNames, skipping: [2, 3, 8, 9]))
        line.add("altitude_m", p.altitudeM)
        line.add("items_problem", p.itemsProblem)
        for item in p.items {
            let v = item.unsigned
            switch item.id {
            case 0x01: line.add("mileage_km", v.map { Double($0) / 10 })
            case 0x02: line.add("fuel_l", v.map { Double($0) / 10 })
            case 0x03: line.add("tacho_speed_kmh", v.map { Double($0) / 10 })
            case 0x25: line.add("ext_signals", v.map(Int.init))
            case 0x2a: line.add("io_status", v.map(Int.init))
            case 0x2b:
                line.add("analog_ad0", v.map { Int($0 & 0xffff) })
                line.add("analog_ad1", v.map { Int($0 >> 16) })
            case 0x30: line.add("signal_strength", v.map(Int.init))
            case 0x31: line.add("satellites", v.map(Int.init))
            default: line.add("item_0x" + Hex.string([item.id]), Hex.string(item.value))
            }
        }
        x = line
    }

    private func hj212Extra(_ packet: HJ212.Packet) -> JSONLine {
        var x = JSONLine()
        x.add("protocol", "hj212")
        x.add("version", packet.version)
        for f in packet.header where f.key != "PW" { x.add(f.key, f.value) }
        x.add("crc", packet.crcOK ? "ok" : "bad")
        if !packet.crcOK {
            x.add("crc_declared", hex4(packet.declaredCRC))
            x.add("crc_computed", hex4(packet.computedCRC))
        }
        var cp = JSONLine()
        for f in packet.cp { cp.add(f.key, f.value) }
        x.add("cp", object: cp)
        return x
    }

    private func djiExtra(_ a: DJIOSD.Aircraft) -> JSONLine {
        var x = JSONLine()
        x.add("protocol", "dji_osd")
        x.add("tid", a.tid)
        x.add("bid", a.bid)
        x.add("gateway", a.gateway)
        x.add("elevation_m", a.elevation)
        x.add("attitude_head", a.attitudeHead)
        x.add("horizontal_speed_m_s", a.horizontalSpeed)
        x.add("vertical_speed_m_s", a.verticalSpeed)
        x.add("mode_code", a.modeCode)
        x.add("battery_percent", a.batteryPercent)
        return x
    }
}

private func hex4(_ v: UInt16) -> String { JT808.hex16(v).uppercased() }
