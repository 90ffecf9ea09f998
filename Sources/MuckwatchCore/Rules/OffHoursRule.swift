/// `off_hours` (§6): a truck moving outside its permitted hours or permit.
public struct OffHoursRule: Rule {
    public let name = "off_hours"
    public var thresholds: RuleSettings.OffHours
    /// A continuing violation adds evidence this often, not every fix.
    let evidenceEveryS = 300.0
    /// Per device: the last signal.
    public var state: [String: Instant] = [:]

    public init(thresholds: RuleSettings.OffHours = .init()) { self.thresholds = thresholds }

    /// A signal longer ago than `evidenceEveryS` holds nothing back.
    public mutating func forget(idleSince horizon: Instant) { state.removeAll(shrinking: true) { $0.value < horizon } }
    public var devicesHeld: Int { state.count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        guard case .truck(let t) = decoded.record, context.currentFix != nil,
              let truck = context.registry.truck(device: t.device),
              let speed = t.speedKmh, speed >= thresholds.minSpeedKmh,
              let why = Self.violation(truck, at: t.ts, utcOffsetSeconds: context.utcOffsetSeconds)
        else { return [] }
        if let last = state[t.device], t.ts.seconds(since: last) < evidenceEveryS, t.ts >= last { return [] }
        state[t.device] = t.ts
        let s = Subject.truck(device: t.device, plate: t.plate, registry: context.registry)
        return [Signal(rule: name, severity: .minor, subject: s, ts: t.ts, lat: t.lat, lon: t.lon,
                       summary: "\(s.displayName) moving at \(number(speed)) km/h \(why)", evidence: evidence(of: decoded))]
    }

    /// Why a truck may not drive at `ts`, or nil if it may.
    static func violation(_ truck: RegisteredTruck, at ts: Instant, utcOffsetSeconds: Int) -> String? {
        if let from = truck.permitFrom, ts < from { return "before its transport permit is valid" }
        if let until = truck.permitUntil, ts >= until { return "with its transport permit expired" }
        guard !truck.permittedHours.isEmpty else { return nil }
        let minute = localMinuteOfDay(ts, utcOffsetSeconds: utcOffsetSeconds)
        if truck.permittedHours.contains(where: { $0.contains(minuteOfDay: minute) }) { return nil }
        let hours = truck.permittedHours.map { "\(hhmm($0.startMinute))–\(hhmm($0.endMinute))" }.joined(separator: ", ")
        return "at \(hhmm(minute)), outside its permitted hours \(hours)"
    }
}

func localMinuteOfDay(_ ts: Instant, utcOffsetSeconds: Int) -> Int {
    let local = ts.millis / 1000 + Int64(utcOffsetSeconds)
    let day = ((local % 86_400) + 86_400) % 86_400
    return Int(day / 60)
}

func hhmm(_ minute: Int) -> String {
    let h = minute / 60, m = minute % 60
    return (h < 10 ? "0" : "") + String(h) + ":" + (m < 10 ? "0" : "") + String(m)
}
