import MuckwatchCore

/// `protocols:`: the vendor mappings of JT/T 808 and HJ 212 and the devices
/// that use them (see Deploy/muckwatch.example.yaml).
extension MuckwatchConfiguration {
    static func readProtocols(_ p: Section) throws(ConfigError) -> ProtocolSettings {
        try p.allow(["jt808", "hj212"])
        var out = ProtocolSettings()
        if let j = try p.section("jt808") {
            try j.allow(["vendors", "devices"])
            try vendors(j, into: &out.jt808.vendors, jt808Profile)
            out.jt808.devices = try devices(j, idKey: "phone", checksumKey: "checksum", vendors: Set(out.jt808.vendors.keys),
                                            canonical: JT808.canonicalPhone)
        }
        if let h = try p.section("hj212") {
            try h.allow(["vendors", "devices"])
            try vendors(h, into: &out.hj212.vendors, hj212Profile)
            out.hj212.devices = try devices(h, idKey: "mn", checksumKey: "crc", vendors: Set(out.hj212.vendors.keys),
                                            canonical: { $0 })
        }
        return out
    }

    /// `vendors:`, by name, added to (or replacing) the defaults.
    private static func vendors<Profile>(_ s: Section, into out: inout [String: Profile],
                                         _ read: (Section) throws(ConfigError) -> Profile) throws(ConfigError) {
        guard let vendors = try s.section("vendors") else { return }
        for name in vendors.keys {
            guard let v = try vendors.section(name) else { continue }
            out[name] = try read(v)
        }
    }

    private static func devices(_ s: Section, idKey: String, checksumKey: String, vendors: Set<String>,
                                canonical: (String) -> String) throws(ConfigError) -> [String: ProtocolDevice] {
        var out: [String: ProtocolDevice] = [:]
        for d in try s.list("devices") ?? [] {
            try d.allow([idKey, "vendor", checksumKey])
            guard let id = try d.string(idKey), !id.isEmpty else { throw d.error(idKey, "is required for every device") }
            let key = canonical(id)
            guard out[key] == nil else { throw d.error(idKey, "'\(id)' is listed twice") }
            let vendor = try d.string("vendor")
            if let vendor, !vendors.contains(vendor) {
                throw d.error("vendor", "names '\(vendor)', which is not under vendors (known: \(vendors.sorted().joined(separator: ", ")))")
            }
            var lenient = false
            switch try d.string(checksumKey) {
            case nil, "strict": break
            case "lenient": lenient = true
            case let other?: throw d.error(checksumKey, "is '\(other)'; write strict (reject a bad one) or lenient (keep and mark it)")
            }
            out[key] = ProtocolDevice(vendor: vendor, lenientChecksum: lenient)
        }
        return out
    }

    private static func jt808Profile(_ v: Section) throws(ConfigError) -> JT808Profile {
        try v.allow(["cover", "tipper", "load_kg", "load_from_status"])
        var profile = JT808Profile()
        func bits(_ key: String, active: String, inactive: String) throws(ConfigError) -> JT808Profile.Bits?? {
            guard v.has(key) else { return .none }
            guard let b = try v.section(key) else { return .some(nil) }  // `cover: null`: the vendor has none
            try b.allow(["item", "word", "mask", "set_means"])
            let word: JT808Profile.Word
            switch (try b.string("item"), try b.string("word")) {
            case (let item?, nil): word = .item(try byte(b, "item", item))
            case (nil, "status"?): word = .status
            case (nil, "alarm"?): word = .alarm
            case (nil, let w?): throw b.error("word", "is '\(w)'; write status or alarm (or give an additional item with item:)")
            case (nil, nil): throw b.error("item", "or 'word' is required: where the bits are")
            case (_?, _?): throw b.error("word", "and 'item' are both given; give one")
            }
            guard let maskText = try b.string("mask") else { throw b.error("mask", "is required: which bits") }
            guard let mask = number(maskText), mask > 0, mask <= UInt64(UInt32.max) else {
                throw b.error("mask", "is '\(maskText)'; write a bit mask like 0x01")
            }
            let means = try b.string("set_means") ?? active
            guard means == active || means == inactive else {
                throw b.error("set_means", "is '\(means)'; write \(active) or \(inactive)")
            }
            return JT808Profile.Bits(word: word, mask: UInt32(mask), setMeansActive: means == active)
        }
        if let cover = try bits("cover", active: "closed", inactive: "open") { profile.cover = cover }
        if let tipper = try bits("tipper", active: "raised", inactive: "down") { profile.tipper = tipper }
        if v.has("load_kg") {
            if let l = try v.section("load_kg") {
                try l.allow(["item", "scale"])
                guard let item = try l.string("item") else { throw l.error("item", "is required: the additional item holding the weight") }
                profile.loadKg = JT808Profile.Scaled(item: try byte(l, "item", item), scale: try l.double("scale", in: 1e-6...1e6) ?? 1)
            } else {
                profile.loadKg = nil
            }
        }
        if let s = try v.string("load_from_status") {
            guard let flag = Bool(s) else { throw v.error("load_from_status", "should be true or false") }
            profile.loadFromStatus = flag
        }
        return profile
    }

    private static func hj212Profile(_ v: Section) throws(ConfigError) -> HJ212Profile {
        try v.allow(["concentration", "fan", "purifier", "running", "stopped"])
        var profile = HJ212Profile()
        if let c = try v.string("concentration") {
            guard !c.isEmpty, !c.contains("-") else {
                throw v.error("concentration", "is '\(c)'; write the code alone (a34041), the -Rtd/-Avg suffix follows the CN")
            }
            profile.concentration = c
        }
        if v.has("fan") { profile.fan = try v.string("fan") }
        if v.has("purifier") { profile.purifier = try v.string("purifier") }
        profile.running = try v.strings("running").map(Set.init) ?? profile.running
        profile.stopped = try v.strings("stopped").map(Set.init) ?? profile.stopped
        if !profile.running.isDisjoint(with: profile.stopped) {
            throw v.error("stopped", "shares values with 'running'")
        }
        return profile
    }

    private static func byte(_ s: Section, _ key: String, _ text: String) throws(ConfigError) -> UInt8 {
        guard let n = number(text), n <= 0xff else {
            throw s.error(key, "is '\(text)'; write an additional item id from 0x00 to 0xFF")
        }
        return UInt8(n)
    }

    /// Decimal or `0x` hexadecimal.
    private static func number(_ text: String) -> UInt64? {
        let t = text.lowercased()
        return t.hasPrefix("0x") ? UInt64(t.dropFirst(2), radix: 16) : UInt64(t)
    }
}

extension Section {
    /// The keys of the mapping, in file order.
    var keys: [String] { mapping.compactMap { $0.key.string } }

    func has(_ key: String) -> Bool { mapping.contains { $0.key.string == key } }
}
