/// The registry of regulated objects (监管对象信息库, SPEC §5): what the rules
/// and attribution match messages against.
public struct Company: Sendable, Equatable {
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// Times of day, local to the centre, as minutes after midnight; `end` before
/// `start` wraps past midnight (22:00–06:00).
public struct DailyWindow: Sendable, Equatable {
    public var startMinute: Int
    public var endMinute: Int

    public init(startMinute: Int, endMinute: Int) {
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    public func contains(minuteOfDay m: Int) -> Bool {
        startMinute <= endMinute ? (m >= startMinute && m < endMinute) : (m >= startMinute || m < endMinute)
    }
}

public struct RegisteredTruck: Sendable, Equatable {
    public var device: String
    public var plate: String?
    /// The company's name (as shown on cases).
    public var company: String?
    /// Unladen weight: a `load_kg` above it means loaded.
    public var emptyKg: Double?
    /// The JT/T 808 terminal phone number (BCD digits, leading zeros kept).
    public var phone: String?
    /// The transport permit (准运证) is valid from the first instant up to, not including, the second.
    public var permitFrom: Instant?
    public var permitUntil: Instant?
    /// When the permit lets it drive; empty means at any time.
    public var permittedHours: [DailyWindow]

    public init(device: String, plate: String? = nil, company: String? = nil, emptyKg: Double? = nil,
                phone: String? = nil, permitFrom: Instant? = nil, permitUntil: Instant? = nil,
                permittedHours: [DailyWindow] = []) {
        self.device = device
        self.plate = plate
        self.company = company
        self.emptyKg = emptyKg
        self.phone = phone
        self.permitFrom = permitFrom
        self.permitUntil = permitUntil
        self.permittedHours = permittedHours
    }
}

public enum SiteKind: String, Sendable, CaseIterable {
    case construction, disposal, wash
}

/// A construction site, disposal site (受纳场) or wash zone, as a geofence.
public struct Site: Sendable, Equatable {
    public var id: String
    public var name: String
    public var kind: SiteKind
    /// One or more polygons (a GeoJSON MultiPolygon gives several), WGS-84.
    public var polygons: [Polygon]
    /// For a wash zone: the construction site it serves.
    public var parent: String?

    public init(id: String, name: String, kind: SiteKind, polygons: [Polygon], parent: String? = nil) {
        self.id = id
        self.name = name
        self.kind = kind
        self.polygons = polygons
        self.parent = parent
    }
}

public struct RegisteredCamera: Sendable, Equatable {
    public var id: String
    public var site: String?
    public var point: GeoPoint?

    public init(id: String, site: String? = nil, point: GeoPoint? = nil) {
        self.id = id
        self.site = site
        self.point = point
    }
}

public struct FumeMonitor: Sendable, Equatable {
    public var id: String
    public var restaurant: String
    public var address: String?
    /// The purifier's size class (small, medium, large in GB 18483).
    public var purifierClass: String?

    public init(id: String, restaurant: String, address: String? = nil, purifierClass: String? = nil) {
        self.id = id
        self.restaurant = restaurant
        self.address = address
        self.purifierClass = purifierClass
    }
}

public struct Registry: Sendable {
    public private(set) var trucks: [RegisteredTruck]
    public private(set) var companies: [Company]
    public private(set) var sites: [Site]
    public private(set) var cameras: [RegisteredCamera]
    public private(set) var monitors: [FumeMonitor]
    private var byDevice: [String: Int] = [:]
    private var byPlate: [String: Int] = [:]
    private var byPhone: [String: Int] = [:]
    private var cameraIndex: [String: Int] = [:]
    private var monitorIndex: [String: Int] = [:]
    private var siteIndex: [String: Int] = [:]

    public init(trucks: [RegisteredTruck] = [], companies: [Company] = [], sites: [Site] = [],
                cameras: [RegisteredCamera] = [], monitors: [FumeMonitor] = []) {
        self.trucks = trucks
        self.companies = companies
        self.sites = sites
        self.cameras = cameras
        self.monitors = monitors
        for (i, t) in trucks.enumerated() {
            byDevice[t.device] = i
            if let plate = t.plate { byPlate[Plate.normalize(plate)] = i }
            if let phone = t.phone { byPhone[JT808.canonicalPhone(phone)] = i }
        }
        for (i, c) in cameras.enumerated() { cameraIndex[c.id] = i }
        for (i, m) in monitors.enumerated() { monitorIndex[m.id] = i }
        for (i, s) in sites.enumerated() { siteIndex[s.id] = i }
    }

    public func truck(device: String) -> RegisteredTruck? { byDevice[device].map { trucks[$0] } }
    /// By plate as a camera or a payload wrote it: normalised before matching.
    public func truck(plate: String) -> RegisteredTruck? { byPlate[Plate.normalize(plate)].map { trucks[$0] } }
    /// The truck whose tracker has this JT/T 808 phone number; leading zeros
    /// do not matter (2013 headers carry 12 digits, 2019 headers 20).
    public func truck(phone: String) -> RegisteredTruck? { byPhone[JT808.canonicalPhone(phone)].map { trucks[$0] } }
    public func camera(_ id: String) -> RegisteredCamera? { cameraIndex[id].map { cameras[$0] } }
    public func monitor(_ id: String) -> FumeMonitor? { monitorIndex[id].map { monitors[$0] } }
    public func site(_ id: String) -> Site? { siteIndex[id].map { sites[$0] } }
}

/// Who an incident is about.
public struct Subject: Sendable, Hashable, Codable {
    public var kind: String
    public var id: String
    public var plate: String?
    public var company: String?

    public init(kind: String, id: String, plate: String? = nil, company: String? = nil) {
        self.kind = kind
        self.id = id
        self.plate = plate
        self.company = company
    }

    /// Name for people: the plate if known, else the id.
    public var displayName: String { plate ?? id }

    /// A tracker's truck, named from the registry where the payload is silent.
    public static func truck(device: String, plate: String?, registry: Registry) -> Subject {
        let registered = registry.truck(device: device)
        return Subject(kind: "truck", id: device, plate: registered?.plate ?? plate, company: registered?.company)
    }

    /// The party a camera or drone event is about: the truck whose plate it
    /// read (its registered device id if known), else the camera or drone itself.
    public static func of(_ event: SiteEvent, registry: Registry) -> Subject {
        if let plate = event.plate {
            if let t = registry.truck(plate: plate) {
                return Subject(kind: "truck", id: t.device, plate: t.plate ?? plate, company: t.company)
            }
            // Keyed by the canonical spelling, so two cameras' readings of one
            // plate are one party; shown as read.
            return Subject(kind: "truck", id: Plate.normalize(plate), plate: plate)
        }
        return Subject(kind: event.sourceKind.rawValue, id: event.source)
    }

    /// A fume monitor's restaurant.
    public static func monitor(_ id: String, registry: Registry) -> Subject {
        let m = registry.monitor(id)
        return Subject(kind: "monitor", id: id, plate: nil, company: m?.restaurant)
    }
}
