import MuckwatchCore
import XCTest

/// MQTT topic filters and the routes built from them.
final class TopicFilterTests: XCTestCase {
    func testPlusMatchesExactlyOneLevel() {
        let f = TopicFilter("muckwatch/v1/truck/+/telemetry")
        XCTAssertEqual(f.match("muckwatch/v1/truck/T-0001/telemetry"), ["T-0001"])
        XCTAssertEqual(f.match("muckwatch/v1/truck//telemetry"), [""], "'+' matches an empty level")
        XCTAssertNil(f.match("muckwatch/v1/truck/T-0001/x/telemetry"))
        XCTAssertNil(f.match("muckwatch/v1/truck/telemetry"))
        XCTAssertNil(f.match("muckwatch/v1/truck/T-0001/telemetry/"))
        XCTAssertNil(f.match("muckwatch/v1/fume/T-0001/telemetry"))
        XCTAssertNil(f.match("Muckwatch/v1/truck/T-0001/telemetry"), "levels are case-sensitive")
    }

    func testSeveralPlusLevelsInOrder() {
        XCTAssertEqual(TopicFilter("+/a/+").match("x/a/y"), ["x", "y"])
        XCTAssertEqual(TopicFilter("jt808/+/up").match("jt808/013800138000/up"), ["013800138000"])
    }

    func testHashMatchesTheRestIncludingTheParent() {
        let f = TopicFilter("thing/product/#")
        XCTAssertEqual(f.match("thing/product/SN1/osd"), [])
        XCTAssertEqual(f.match("thing/product/SN1"), [])
        XCTAssertEqual(f.match("thing/product"), [], "'a/#' also matches 'a'")
        XCTAssertNil(f.match("thing/other/SN1"))
        XCTAssertEqual(TopicFilter("#").match("any/topic/at/all"), [])
        XCTAssertEqual(TopicFilter("thing/+/#").match("thing/product/SN1/osd"), ["product"])
    }

    func testExactFilter() {
        XCTAssertEqual(TopicFilter("a/b").match("a/b"), [])
        XCTAssertNil(TopicFilter("a/b").match("a/b/c"))
        XCTAssertNil(TopicFilter("a/b").match("a"))
    }

    func testProblem() {
        XCTAssertNil(TopicFilter("muckwatch/v1/truck/+/telemetry").problem)
        XCTAssertNil(TopicFilter("thing/product/#").problem)
        XCTAssertNil(TopicFilter("#").problem)
        XCTAssertNil(TopicFilter("+").problem)
        XCTAssertEqual(TopicFilter("").problem, "is empty")
        XCTAssertEqual(TopicFilter("a/#/b").problem, "uses '#' other than as the whole last level")
        XCTAssertEqual(TopicFilter("a/b#").problem, "uses '#' other than as the whole last level")
        XCTAssertEqual(TopicFilter("a/t+/b").problem, "uses '+' other than as a whole level")
        XCTAssertEqual(TopicFilter("a/+b").problem, "uses '+' other than as a whole level")
    }

    func testDefaultRoutes() {
        let routes = TopicRoutes.defaults
        XCTAssertEqual(routes.route("muckwatch/v1/truck/T-0001/telemetry")?.kind, .truckTelemetry)
        XCTAssertEqual(routes.route("muckwatch/v1/truck/T-0001/telemetry")?.deviceFromTopic, "T-0001")
        XCTAssertEqual(routes.route("muckwatch/v1/fume/F-0101/reading")?.kind, .fumeReading)
        XCTAssertEqual(routes.route("muckwatch/v1/camera/CAM-07/event")?.kind, .cameraEvent)
        XCTAssertEqual(routes.route("muckwatch/v1/drone/D-01/telemetry")?.kind, .droneTelemetry)
        XCTAssertEqual(routes.route("muckwatch/v1/drone/D-01/event")?.kind, .droneEvent)
        XCTAssertEqual(routes.route("muckwatch/v1/drone/D-01/event")?.deviceFromTopic, "D-01")
        XCTAssertEqual(routes.route("muckwatch/v1/video/CAM-07/segment")?.kind, .videoSegment)
        XCTAssertNil(routes.route("muckwatch/v1/truck//telemetry")?.deviceFromTopic, "an empty level names no device")
    }

    func testRouteWithoutPlusNamesNoDevice() {
        let routes = TopicRoutes([(TopicFilter("site/cameras/#"), .cameraEvent)])
        XCTAssertEqual(routes.route("site/cameras/north/gate")?.kind, .cameraEvent)
        XCTAssertNil(routes.route("site/cameras/north/gate")?.deviceFromTopic)
    }

    func testFirstMatchingRouteWins() {
        let routes = TopicRoutes([
            (TopicFilter("dev/+/event"), .droneEvent),
            (TopicFilter("dev/#"), .cameraEvent),
        ])
        XCTAssertEqual(routes.route("dev/D-1/event")?.kind, .droneEvent)
        XCTAssertEqual(routes.route("dev/D-1/other")?.kind, .cameraEvent)
    }
}
