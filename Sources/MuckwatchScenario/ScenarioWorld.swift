import Foundation
import MuckwatchCore

// MARK: - The world: sites, cameras, companies, trucks, monitors

struct ScenarioSite {
    enum Kind: String { case construction, disposal }
    var kind: Kind
    var number: Int
    var id: String
    var name: String
    var centre: Point
    var halfW: Double
    var halfH: Double
    var ring: [Point]
    var gate: Point
    var camera: String
    var washId: String?
    var washName: String?
    var washRing: [Point] = []
    var washCentre: Point
    /// The ends of the side the gate is on, and the unit vector into the site across it.
    var gateSide: (a: Point, b: Point) = (Point(x: 0, y: 0), Point(x: 0, y: 0))
    var inward = Point(x: 0, y: 0)
}

/// The scripted trucks of each block of 50 (the first six).
enum Slot: Int, CaseIterable {
    /// A: tracker uncovered 90 s; camera spill at the gate (and its redelivery).
    case a
    /// B: near-misses: cover open 20 s moving, open at a roadside stop, open crawling at 3 km/h.
    case b
    /// C: camera sees it leave uncovered; the tracker confirms (one incident); 0.59 detection at the tip.
    case c
    /// D: starts at a disposal site: 0.59 spill detection there; drives back empty with the cover open.
    case d
    /// E: uncovered at the gate and again on arrival at the tip.
    case e
    /// F: a drone finds a spill on its route.
    case f
}

struct TruckSpec {
    var index: Int
    var device: String
    var plate: String
    var company: String
    var emptyKg: Int
    var netKg: Int
    /// The weighing sensor reads this much under the registered empty weight.
    var scaleBias: Int
    var hasScale: Bool
    var sendsPlate: Bool
    var sendsBody: Bool
    var home: Int
    var block: Int
    var slot: Slot?
    /// When a scripted truck leaves for its first road drive (s from the start).
    var departure: Double
}

final class World {
    let options: ScenarioOptions
    let seed: UInt64
    let duration: Double
    var sites: [ScenarioSite] = []
    var construction: [Int] = []
    var disposal: [Int] = []
    var companies: [String] = []
    var trucks: [TruckSpec] = []
    var monitors: [(id: String, restaurant: String, address: String)] = []
    static let blockSize = 50
    var blocks: Int { (options.trucks + Self.blockSize - 1) / Self.blockSize }

    init(options: ScenarioOptions) {
        self.options = options
        seed = options.seed
        duration = options.hours * 3600
        var rng = SplitMix64(seed, .world)
        buildSites(&rng)
        buildCompanies(&rng)
        buildTrucks()
        buildMonitors(&rng)
    }

    func instant(_ s: Double) -> Instant { Instant(millis: options.start.millis + Int64((s * 1000).rounded())) }

    private static let districts = ["福田", "南山", "罗湖", "龙华", "宝安", "龙岗", "光明", "坪山"]
    private static let areas = ["中心区", "科技园", "后海", "梅林", "西丽", "北站", "新城", "湾区", "车公庙", "华强北"]
    private static let projects = ["地铁站", "住宅", "商业综合体", "学校", "医院", "产业园", "道路改造", "安置房", "体育馆", "污水厂"]
    private static let tips = ["黄麻布", "塘朗", "清林径", "坪地", "石岩", "松岗", "公明", "观澜", "红花岭", "老虎坑"]

    private func buildSites(_ rng: inout SplitMix64) {
        let n = options.trucks
        let cCount = min(200, max(3, n / 8 + 2))
        let dCount = min(40, max(2, n / 60 + 2))
        let rC = max(7000, Double(cCount).squareRoot() * 700)
        var centres: [Point] = []
        func place(_ count: Int, _ minR: Double, _ maxR: Double, _ spacing: Double) -> [Point] {
            var out: [Point] = []
            var sp = spacing
            var attempts = 0
            while out.count < count {
                let p = Point(x: rng.uniform(-maxR, maxR), y: rng.uniform(-1500, maxR))
                let r = p.distance(to: Point(x: 0, y: 0))
                attempts += 1
                if attempts > 3000 { sp *= 0.85; attempts = 0 }
                guard r >= minR, r <= maxR, !centres.contains(where: { $0.distance(to: p) < sp }) else { continue }
                centres.append(p)
                out.append(p)
            }
            return out
        }
        var usedNames = Set<String>()
        func unique(_ name: String) -> String {
            var n = name, k = 2
            while usedNames.contains(n) { n = name + "（\(k)期）"; k += 1 }
            usedNames.insert(n)
            return n
        }
        let cWidth = max(2, String(cCount).count), dWidth = max(2, String(dCount).count)
        for (i, c) in place(cCount, 1000, rC, 700).enumerated() {
            let name = unique(Self.districts[rng.int(0, 7)] + Self.areas[rng.int(0, 9)] + Self.projects[rng.int(0, 9)] + "项目")
            let id = "CS-" + pad(i + 1, cWidth)
            var site = shape(.construction, i + 1, id, name, c, halfW: rng.uniform(60, 110), halfH: rng.uniform(45, 80), &rng)
            site.camera = "CAM-CS" + pad(i + 1, cWidth)
            site.washId = "WZ-" + pad(i + 1, cWidth)
            site.washName = name + "洗车槽"
            construction.append(sites.count)
            sites.append(site)
        }
        for (i, c) in place(dCount, rC, rC + 6000, 1500).enumerated() {
            let name = unique(Self.districts[rng.int(0, 7)] + Self.tips[rng.int(0, 9)] + "建筑废弃物受纳场")
            let id = "DS-" + pad(i + 1, dWidth)
            var site = shape(.disposal, i + 1, id, name, c, halfW: rng.uniform(160, 230), halfH: rng.uniform(110, 160), &rng)
            site.camera = "CAM-DS" + pad(i + 1, dWidth)
            disposal.append(sites.count)
            sites.append(site)
        }
    }

    /// A quadrilateral site with its gate on the side facing the city centre
    /// and, for construction sites, a wash zone just inside the gate.
    private func shape(_ kind: ScenarioSite.Kind, _ number: Int, _ id: String, _ name: String, _ c: Point,
                       halfW: Double, halfH: Double, _ rng: inout SplitMix64) -> ScenarioSite {
        let j = 8.0
        let sw = c.moved(-halfW + rng.uniform(-j, j), -halfH + rng.uniform(-j, j))
        let se = c.moved(halfW + rng.uniform(-j, j), -halfH + rng.uniform(-j, j))
        let ne = c.moved(halfW + rng.uniform(-j, j), halfH + rng.uniform(-j, j))
        let nw = c.moved(-halfW + rng.uniform(-j, j), halfH + rng.uniform(-j, j))
        let ring = [sw, se, ne, nw]
        let (a, b, inward): (Point, Point, (Double, Double)) =
            abs(c.x) > abs(c.y)
            ? (c.x > 0 ? (nw, sw, (1, 0)) : (se, ne, (-1, 0)))
            : (c.y > 0 ? (sw, se, (0, 1)) : (ne, nw, (0, -1)))
        let mid = a.lerp(b, 0.5)
        let gate = mid.moved(inward.0 * 4, inward.1 * 4)
        let washCentre = mid.moved(inward.0 * 25, inward.1 * 25)
        var site = ScenarioSite(kind: kind, number: number, id: id, name: name, centre: c, halfW: halfW, halfH: halfH,
                        ring: ring, gate: gate, camera: "", washCentre: washCentre)
        site.gateSide = (a, b)
        site.inward = Point(x: inward.0, y: inward.1)
        if kind == .construction {
            let (hx, hy) = inward.0 == 0 ? (12.0, 4.0) : (4.0, 12.0)
            site.washRing = [washCentre.moved(-hx, -hy), washCentre.moved(hx, -hy),
                             washCentre.moved(hx, hy), washCentre.moved(-hx, hy)]
        }
        return site
    }

    private static let brands = ["鹏城", "鹏达", "恒通", "华建", "深港", "宏运", "顺达", "盛泰", "金鹏", "安顺",
                                 "新城", "裕丰", "粤通", "祥和", "建安", "德信"]
    private static let trades = ["渣土运输有限公司", "土石方工程有限公司", "建筑废弃物运输有限公司"]

    private func buildCompanies(_ rng: inout SplitMix64) {
        let count = min(400, max(2, options.trucks / 10 + 1))
        var names: [String] = []
        for d in [""] + Self.districts {
            for t in Self.trades { for b in Self.brands { names.append("深圳市" + d + b + t) } }
        }
        // A seeded shuffle of the first 48, then the district-named ones.
        var head = Array(names[0..<48])
        for i in stride(from: head.count - 1, to: 0, by: -1) { head.swapAt(i, rng.int(0, i)) }
        companies = Array((head + names[48...]).prefix(count))
    }

    private func buildTrucks() {
        var rng = SplitMix64(seed, .registry)
        let n = options.trucks
        let width = max(4, String(n).count)
        let letters = Array("ABCDEFGHJKLMNPQRSTUVWXYZ")
        let offset = Int(rng.next() % 240_000)
        for i in 0..<n {
            let k = (i * 104_729 + offset) % 240_000  // a permutation: 104729 is prime to 240000
            // 粤BS9000-粤BS9099 are the showcases' (a 5-digit plate stands in for any the trips would take).
            let plate = k / 100 == 1690 ? "粤B9S" + pad(k % 100, 3) : "粤B" + String(letters[k / 10_000]) + pad(k % 10_000, 4)
            let block = i / Self.blockSize
            let slotIndex = i - block * Self.blockSize
            let slot = Slot(rawValue: slotIndex)
            let blockOffset = block == 0 ? 0.0 : Double((block * 331) % max(60, Int(duration) - 2700))
            var home = rng.int(0, construction.count - 1)
            if slot != nil { home = (block * 6 + slotIndex) % construction.count }
            trucks.append(TruckSpec(
                index: i, device: "T-" + pad(i + 1, width), plate: plate,
                company: companies[rng.int(0, companies.count - 1)],
                emptyKg: rng.int(230, 290) * 50, netKg: rng.int(280, 380) * 50, scaleBias: rng.int(4, 20) * 10,
                hasScale: i % 3 != 2, sendsPlate: i % 4 != 1, sendsBody: i % 5 != 4,
                home: construction[home], block: block, slot: slot,
                departure: Double(60 * (3 + 5 * slotIndex)) + blockOffset))
        }
    }

    private static let restaurants = ["湘味小馆", "潮汕牛肉火锅", "川香麻辣烫", "粤式茶餐厅", "东北烧烤", "兰州拉面",
                                      "客家菜馆", "海鲜大排档", "深夜粥铺", "重庆小面"]
    private static let roads = ["华强北路", "深南大道", "福华路", "红荔路", "莲花路", "新洲路", "车公庙路", "彩田路"]

    private func buildMonitors(_ rng: inout SplitMix64) {
        for i in 0..<options.fumeMonitors {
            let d = Self.districts[rng.int(0, 3)]
            let road = Self.roads[rng.int(0, 7)]
            monitors.append((id: "F-" + pad(101 + i, 4),
                             restaurant: Self.restaurants[rng.int(0, 9)] + "（" + road + "店）",
                             address: d + "区" + road + String(rng.int(1, 300)) + "号"))
        }
    }

    /// Where a truck tips its load: on a scripted first trip a near tip (at
    /// least 3 km by air) or the farthest of the nearest four; else one of the nearest three.
    func disposalSite(from home: Int, slot: Slot?, rng: inout SplitMix64) -> Int {
        let g = sites[home].gate
        let byDistance = disposal.sorted { (sites[$0].gate.distance(to: g), $0) < (sites[$1].gate.distance(to: g), $1) }
        let near = Array(byDistance.prefix(4))
        switch slot {
        case .b?, .e?: return near.last!
        case .a?, .c?, .f?: return near.first { sites[$0].gate.distance(to: g) >= 3000 } ?? near.last!
        default: return near[rng.int(0, min(2, near.count - 1))]
        }
    }
}
