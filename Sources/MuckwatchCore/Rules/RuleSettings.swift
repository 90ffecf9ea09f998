/// Every rule's thresholds (SPEC §6 defaults), as the config sets them.
public struct RuleSettings: Sendable, Equatable {
    public struct Geofence: Sendable, Equatable {
        /// A truck has entered (left) a fence once it has been inside (outside)
        /// it this long along its track: GPS jitter at a boundary is not a crossing.
        public var dwellS: Double = 20
        public init() {}
    }

    public struct Attribution: Sendable, Equatable {
        public var radiusM: Double = 50
        public var lookbackS: Double = 600
        public init() {}
    }

    public struct UncoveredLoad: Sendable, Equatable {
        public var minSpeedKmh: Double = 5
        public var minDurationS: Double = 30
        public var minConfidence: Double = 0.6
        public init() {}
    }

    public struct Spill: Sendable, Equatable {
        public var minConfidence: Double = 0.6
        public var minDropKg: Double = 500
        public var dropWindowS: Double = 60
        public var minSpeedKmh: Double = 5
        public init() {}
    }

    public struct IllegalDumping: Sendable, Equatable {
        /// Share of the load (above the empty weight) lost while stopped.
        public var minLossFraction: Double = 0.3
        /// Below this a truck counts as stopped.
        public var maxSpeedKmh: Double = 5
        public init() {}
    }

    public struct UnwashedExit: Sendable, Equatable {
        public var minWashS: Double = 60
        /// Shorter stays are passing through, not a visit that dirties the wheels.
        public var minVisitS: Double = 120
        public var minConfidence: Double = 0.6
        public init() {}
    }

    public struct OffHours: Sendable, Equatable {
        public var minSpeedKmh: Double = 5
        public init() {}
    }

    public struct FumeExceedance: Sendable, Equatable {
        /// GB 18483-2001's limit for catering fume.
        public var limitMgM3: Double = 2.0
        public var windowS: Double = 600
        public init() {}
    }

    public struct PurifierOff: Sendable, Equatable {
        public var minDurationS: Double = 300
        public init() {}
    }

    public struct DeviceSilent: Sendable, Equatable {
        public var silenceS: Double = 900
        public var minSpeedKmh: Double = 5
        public init() {}
    }

    public static let allRules = ["uncovered_load", "spill", "illegal_dumping", "unwashed_exit", "off_hours",
                                  "fume_exceedance", "purifier_off", "device_silent"]

    /// The rules that run; all by default (`rules.enabled` narrows it, e.g. to
    /// measure what the rest cost).
    public var enabled: Set<String> = Set(allRules)
    public var geofence = Geofence()
    public var attribution = Attribution()
    public var uncoveredLoad = UncoveredLoad()
    public var spill = Spill()
    public var illegalDumping = IllegalDumping()
    public var unwashedExit = UnwashedExit()
    public var offHours = OffHours()
    public var fumeExceedance = FumeExceedance()
    public var purifierOff = PurifierOff()
    public var deviceSilent = DeviceSilent()

    public init() {}
}
