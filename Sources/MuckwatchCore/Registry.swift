/// The registry of regulated objects (监管对象信息库) as far as the rules need it.
public struct RegisteredTruck: Sendable, Equatable {
    public var device: String
    public var plate: String?
    public var company: String?
    /// Unladen weight: a `load_kg` above it means loaded.
    public var emptyKg: Double?

    public init(device: String, plate: String? = nil, company: String? = nil, emptyKg: Double? = nil) {
        self.device = device
        self.plate = plate
        self.company = company
        self.emptyKg = emptyKg
    }
}

public struct Registry: Sendable {
    public private(set) var trucks: [RegisteredTruck]
    private var byDevice: [String: Int] = [:]
    private var byPlate: [String: Int] = [:]

    public init(trucks: [RegisteredTruck] = []) {
        self.trucks = trucks
        for (i, t) in trucks.enumerated() {
            byDevice[t.device] = i
            if let plate = t.plate { byPlate[plate] = i }
        }
    }

    public func truck(device: String) -> RegisteredTruck? { byDevice[device].map { trucks[$0] } }
    public func truck(plate: String) -> RegisteredTruck? { byPlate[plate].map { trucks[$0] } }
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
        return Subject(kind: "truck", id: device, plate: plate ?? registered?.plate, company: registered?.company)
    }

    /// The party a camera or drone event is about: the truck whose plate it
    /// read (its registered device id if known), else the camera or drone itself.
    public static func of(_ event: SiteEvent, registry: Registry) -> Subject {
        if let plate = event.plate {
            if let t = registry.truck(plate: plate) {
                return Subject(kind: "truck", id: t.device, plate: plate, company: t.company)
            }
            return Subject(kind: "truck", id: plate, plate: plate)
        }
        return Subject(kind: event.sourceKind.rawValue, id: event.source)
    }
}
