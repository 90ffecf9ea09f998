/// DJI Cloud API OSD messages (`thing/product/{sn}/osd`): the envelope and
/// the aircraft's state. Docks and remote controllers publish OSD on the same
/// topic shape without an aircraft position; those are told apart here.
public enum DJIOSD {
    public struct Aircraft: Sendable, Equatable {
        public var tid: String?
        public var bid: String?
        public var gateway: String?
        public var timestamp: Instant
        public var lat: Double
        public var lon: Double
        /// Ellipsoid height, metres.
        public var height: Double?
        /// Height above the take-off point, metres.
        public var elevation: Double?
        /// -180…180 as DJI reports it.
        public var attitudeHead: Double?
        public var horizontalSpeed: Double?
        public var verticalSpeed: Double?
        public var modeCode: Int?
        public var batteryPercent: Double?
    }

    public enum Message: Sendable, Equatable {
        case aircraft(Aircraft)
        /// Recognised and not a position: what it was, for the ignored counter.
        case ignored(String)
    }

    /// Keys only an aircraft's OSD carries.
    private static let aircraftKeys: [StaticString] = ["attitude_head", "horizontal_speed", "elevation", "vertical_speed"]
    /// Keys only a dock's OSD carries.
    private static let dockKeys: [StaticString] = [
        "drone_in_dock", "cover_state", "putter_state", "network_state", "drone_charge_state", "sub_device",
        "job_number", "rainfall", "environment_temperature", "emergency_stop_state",
    ]

    static func decode(_ root: JSONValue) throws(DecodeFailure) -> Message {
        guard root.kind == .object else { throw DecodeFailure(.invalidJSON, "payload is JSON but not an object") }
        let envelope = PayloadFields(root)
        let tid = try envelope.string("tid")
        let bid = try envelope.string("bid")
        let gateway = try envelope.string("gateway")
        let timestamp = try envelope.time("timestamp")
        guard let data = try envelope.object("data"), let raw = root["data"] else {
            throw DecodeFailure(.missingField, "required field 'data' is missing")
        }
        guard aircraftKeys.contains(where: { raw[$0] != nil }) else {
            return .ignored(dockKeys.contains { raw[$0] != nil } ? "dji_dock_osd" : "dji_osd_without_aircraft")
        }
        guard let lat = try data.number("latitude"), let lon = try data.number("longitude") else {
            return .ignored("dji_aircraft_no_position")
        }
        // DJI reports 0, 0 while the aircraft has no position fix (in the dock).
        if lat == 0 && lon == 0 { return .ignored("dji_aircraft_no_position") }
        guard (-90...90).contains(lat) else { throw DecodeFailure(.outOfRange, "field 'data.latitude' is \(lat), outside -90...90") }
        guard (-180...180).contains(lon) else { throw DecodeFailure(.outOfRange, "field 'data.longitude' is \(lon), outside -180...180") }
        let head = try data.number("attitude_head")
        if let head, !(-360...360).contains(head) {
            throw DecodeFailure(.outOfRange, "field 'data.attitude_head' is \(head), outside -180...180")
        }
        let mode = try data.number("mode_code")
        return .aircraft(Aircraft(
            tid: tid, bid: bid, gateway: gateway, timestamp: timestamp, lat: lat, lon: lon,
            height: try data.number("height"), elevation: try data.number("elevation"), attitudeHead: head,
            horizontalSpeed: try data.number("horizontal_speed"), verticalSpeed: try data.number("vertical_speed"),
            modeCode: mode.flatMap { Int(exactly: $0) },
            batteryPercent: try data.object("battery")?.number("capacity_percent")))
    }
}
