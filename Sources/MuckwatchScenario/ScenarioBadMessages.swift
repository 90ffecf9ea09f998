import Foundation
import MuckwatchCore

// MARK: - Bad messages

/// One of each kind of message the daemon dead-letters, per block of trucks,
/// spread over the scenario.
struct BadMessages {
    var messages: [ScenarioMessage] = []
    var planted: [PlantedBadMessage] = []

    init(world: World) {
        var rng = SplitMix64(world.seed, .bad)
        for block in 0..<world.blocks {
            let first = block * World.blockSize
            let count = min(World.blockSize, world.options.trucks - first)
            let monitor = world.monitors.isEmpty ? "F-0101" : world.monitors[block % world.monitors.count].id
            let camera = world.sites[world.construction[block % world.construction.count]].camera
            for (j, item) in Self.catalogue.enumerated() {
                let at = world.duration * (0.04 + 0.92 * (Double(j) + 0.5) / Double(Self.catalogue.count))
                    + Double(block) * 11.3
                let tick = min(Int64(at), Int64(world.duration) - 2)
                guard tick >= 0 else { continue }
                let tsMs = world.options.start.millis + tick * 1000
                let t = tsMs + Int64(rng.int(200, 900))
                let spec = world.trucks[first + j % min(6, count)]
                let p = world.sites[spec.home].gate.moved(rng.uniform(-400, 400), rng.uniform(-400, 400))
                let lat = fixed(ScenarioGeo.lat(p), 6), lon = fixed(ScenarioGeo.lon(p), 6)
                let ts = "\"" + Clock.local(tsMs, withMillis: false) + "\""
                let device = spec.device, plate = spec.plate
                func truck(_ fields: String) -> [UInt8] {
                    Array(("{\"device\":\"\(device)\",\"ts\":\(ts),\"plate\":\"\(plate)\"," + fields + "}").utf8)
                }
                func event(_ fields: String) -> [UInt8] {
                    Array(("{\"camera\":\"\(camera)\",\"event_id\":\"e-bad-\(block + 1)-\(j + 1)\",\"ts\":\(ts)," + fields + "}").utf8)
                }
                var topic = Topics.truck(device)
                let payload: [UInt8]
                switch item.key {
                case "truncated":
                    let full = truck("\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":31.4,\"heading_deg\":87,\"cover\":\"closed\",\"load\":\"full\"")
                    payload = Array(full.prefix(full.count * 3 / 5))
                case "jt808":
                    payload = Self.jt808(phone: 13_912_340_000 + Int64(spec.index), serial: UInt16(block * 31 + 7),
                                         lat: ScenarioGeo.lat(p), lon: ScenarioGeo.lon(p), tsMs: tsMs)
                case "jt808_checksum", "jt808_short", "jt808_encrypted":
                    let phone = pad(13_912_340_000 + spec.index, 12)
                    topic = "jt808/\(phone)/up"
                    let body = JT808.locationBody(status: 0x3, lat: ScenarioGeo.lat(p), lon: ScenarioGeo.lon(p), speedKmh: 30,
                                                  directionDeg: 90, time: Instant(millis: tsMs))
                    let serial = UInt16(block * 31 + 9)
                    switch item.key {
                    case "jt808_checksum":
                        payload = JT808.frame(messageId: 0x0200, phone: phone, serial: serial, body: body, corruptChecksum: true)
                    case "jt808_short":
                        let whole = JT808.frame(messageId: 0x0200, phone: phone, serial: serial, body: body)
                        payload = Array(whole.prefix(whole.count - 12))
                    default:
                        payload = JT808.frame(messageId: 0x0200, phone: phone, serial: serial, body: body, encryption: 1)
                    }
                case "array":
                    payload = Array("[\(lat),\(lon)]".utf8)
                case "empty":
                    topic = Topics.camera(camera)
                    payload = []
                case "lat_string":
                    payload = truck("\"lat\":\"\(lat)\",\"lon\":\(lon),\"speed_kmh\":28.0,\"cover\":\"closed\",\"load\":\"full\"")
                case "seq_fraction":
                    payload = truck("\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":22.5,\"cover\":\"closed\",\"load\":\"empty\",\"seq\":1042.5")
                case "conc_string":
                    topic = Topics.fume(monitor)
                    payload = Array("{\"monitor\":\"\(monitor)\",\"ts\":\(tsMs),\"conc_mg_m3\":\"1.35\",\"fan\":\"on\",\"purifier\":\"on\"}".utf8)
                case "no_position":
                    payload = truck("\"speed_kmh\":0.0,\"cover\":\"closed\",\"load\":\"empty\"")
                case "no_conc":
                    topic = Topics.fume(monitor)
                    payload = Array("{\"monitor\":\"\(monitor)\",\"ts\":\(tsMs),\"fan\":\"on\",\"purifier\":\"on\",\"flow_m3_h\":0}".utf8)
                case "no_type":
                    topic = Topics.camera(camera)
                    payload = event("\"confidence\":0.82,\"lat\":\(lat),\"lon\":\(lon)")
                case "no_device":
                    topic = "muckwatch/v1/truck//telemetry"
                    payload = Array("{\"ts\":\(ts),\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":12.3}".utf8)
                case "swapped":
                    payload = truck("\"lat\":\(lon),\"lon\":\(lat),\"speed_kmh\":35.2,\"cover\":\"closed\",\"load\":\"full\"")
                case "confidence_percent":
                    topic = Topics.camera(camera)
                    payload = event("\"type\":\"muck_truck\",\"plate\":\"\(plate)\",\"confidence\":87,\"lat\":\(lat),\"lon\":\(lon)")
                case "speed_garbage":
                    payload = truck("\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":655.35,\"cover\":\"closed\",\"load\":\"full\"")
                case "future_truck":
                    let future = "\"" + Clock.local(tsMs + 30 * 86_400_000, withMillis: false) + "\""
                    payload = Array("{\"device\":\"\(device)\",\"ts\":\(future),\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":18.0,\"cover\":\"closed\",\"load\":\"full\"}".utf8)
                case "future_fume":
                    topic = Topics.fume(monitor)
                    payload = Array("{\"monitor\":\"\(monitor)\",\"ts\":\(tsMs + 25 * 3_600_000),\"conc_mg_m3\":0.84,\"fan\":\"on\",\"purifier\":\"on\"}".utf8)
                case "cover_half":
                    payload = truck("\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":33.0,\"cover\":\"half\",\"load\":\"full\"")
                case "ts_no_offset":
                    let local = Clock.local(tsMs, withMillis: false)
                    let bare = String(local.prefix(10)) + " " + String(local.dropFirst(11).prefix(8))
                    payload = Array("{\"device\":\"\(device)\",\"ts\":\"\(bare)\",\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":20.0}".utf8)
                case "type_unknown":
                    topic = Topics.camera(camera)
                    payload = event("\"type\":\"smoke\",\"confidence\":0.71,\"lat\":\(lat),\"lon\":\(lon)")
                default: // status_topic
                    topic = "muckwatch/v1/truck/\(device)/status"
                    payload = Array("{\"device\":\"\(device)\",\"ts\":\(ts),\"battery_v\":12.6,\"gsm_rssi\":-71}".utf8)
                }
                let tag = "bad#\(block)#\(j)"
                messages.append(ScenarioMessage(t: t, topic: topic, payload: payload, kind: .bad, tag: tag))
                planted.append(PlantedBadMessage(
                    id: "B" + pad(planted.count + 1, 3), reason: item.reason, topic: topic, t: Instant(millis: t),
                    line: nil, binary: String(validating: payload, as: UTF8.self) == nil, note: item.note, tag: tag))
            }
        }
    }

    static let catalogue: [(key: String, reason: DeadLetterReason, note: String)] = [
        ("truncated", .invalidJSON, "truncated JSON: the tracker's connection dropped mid-message"),
        ("jt808", .invalidJSON, "a raw JT/T 808 location frame (binary, so payload_b64) on the native topic: a misconfigured gateway"),
        ("jt808_checksum", .badChecksum, "a JT/T 808 location frame on its gateway topic whose XOR checksum is wrong (a line fault)"),
        ("jt808_short", .badFrame, "a JT/T 808 frame cut off mid-body, its closing 0x7e never sent"),
        ("jt808_encrypted", .unsupported, "a JT/T 808 location frame with an RSA-encrypted body"),
        ("array", .invalidJSON, "JSON, but an array of coordinates, not an object"),
        ("empty", .invalidJSON, "an empty payload (a retained message being cleared)"),
        ("lat_string", .wrongType, "'lat' as a string"),
        ("seq_fraction", .wrongType, "'seq' with a fraction"),
        ("conc_string", .wrongType, "'conc_mg_m3' as a string"),
        ("no_position", .missingField, "no 'lat'/'lon': the tracker has no GPS fix"),
        ("no_conc", .missingField, "no 'conc_mg_m3': the sensor is warming up"),
        ("no_type", .missingField, "camera event without 'type'"),
        ("no_device", .missingField, "no 'device' and an empty device level in the topic"),
        ("swapped", .outOfRange, "lat and lon swapped (lat 114.x)"),
        ("confidence_percent", .outOfRange, "confidence as a percentage (87), outside 0...1"),
        ("speed_garbage", .outOfRange, "speed_kmh 655.35 (0xFFFF/100, a sensor fault)"),
        ("future_truck", .futureTime, "'ts' 30 days ahead (the tracker's clock jumped a month)"),
        ("future_fume", .futureTime, "epoch-ms 'ts' 25 h ahead"),
        ("cover_half", .invalidValue, "cover 'half', not closed|open|unknown"),
        ("ts_no_offset", .invalidValue, "'ts' without a UTC offset"),
        ("type_unknown", .invalidValue, "event type 'smoke', not one of §4.3's"),
        ("status_topic", .unknownTopic, "a tracker status topic no filter matches (reaches replay, or a wider subscription)"),
    ]

    /// A JT/T 808 0x0200 location report, escaped and framed by 0x7e.
    static func jt808(phone: Int64, serial: UInt16, lat: Double, lon: Double, tsMs: Int64) -> [UInt8] {
        func frame(status: UInt32) -> [UInt8] {
            JT808.frame(messageId: 0x0200, phone: pad(Int(phone), 12), serial: serial,
                        body: JT808.locationBody(status: status, lat: lat, lon: lon, altitudeM: 12, speedKmh: 31.4,
                                                 directionDeg: 87, time: Instant(millis: tsMs)))
        }
        // ACC on, position fixed. Should that frame happen to be valid UTF-8,
        // status bit 31 (a lone 0x80 byte) keeps it binary.
        let out = frame(status: 0x0000_0003)
        return String(validating: out, as: UTF8.self) == nil ? out : frame(status: 0x8000_0003)
    }
}
