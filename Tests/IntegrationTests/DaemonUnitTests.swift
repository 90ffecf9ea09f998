import Foundation
import XCTest

/// The systemd unit and the daemon's "ingest before rules" priority (issue 14,
/// item 11): the unit's `SystemCallFilter=~@resources` denied `setpriority`,
/// and the daemon ignored the EPERM.
final class DaemonUnitTests: XCTestCase {
    static let unit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("systemd/muckwatchd.service").path

    /// No systemd runs the unit here (PID 1 is not systemd), so the filter is
    /// read as systemd reads it: in order, the later line adding back to the
    /// allow list what the earlier took away.
    func testTheUnitAllowsSetpriorityAfterDenyingResources() throws {
        let analyze = try Tools.require("systemd-analyze", package: "systemd")
        let resources = try runCommand(analyze, ["syscall-filter", "@resources"])
        XCTAssertTrue(resources.out.contains("setpriority"), "setpriority is no longer in @resources: \(resources.out)")
        let filters = try String(contentsOfFile: Self.unit, encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix("SystemCallFilter=") }.map { String($0.dropFirst("SystemCallFilter=".count)) }
        let deny = try XCTUnwrap(filters.firstIndex { $0.hasPrefix("~") && $0.contains("@resources") })
        let allow = try XCTUnwrap(filters.lastIndex { !$0.hasPrefix("~") && $0.split(separator: " ").contains("setpriority") },
                                  "the unit does not allow setpriority: \(filters)")
        XCTAssertGreaterThan(allow, deny, "the allow must come after the deny: \(filters)")
        XCTAssertFalse(filters[(allow + 1)...].contains { $0.hasPrefix("~") && ($0.contains("setpriority") || $0.contains("@resources")) })
        // Still scored as hardened as before (1.3 of 10).
        let security = try runCommand(analyze, ["security", "--offline=yes", "--threshold=20", Self.unit])
        XCTAssertEqual(security.status, 0, security.out + security.err)
    }

    /// The daemon under a seccomp filter that refuses setpriority, as the old
    /// unit's did: it must say so, not carry on silently.
    func testARefusedPriorityIsLogged() throws {
        let python = "/usr/bin/python3"
        let check = try runCommand(python, ["-c", "import seccomp"])
        XCTAssertEqual(check.status, 0, "needs Debian's python3-seccomp (apt-get install python3-seccomp): \(check.err)")
        let dir = try temporaryDirectory("setpriority")
        let broker = try TestBroker(dir: dir)
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url)
        let script = """
            import errno, os, seccomp, sys
            f = seccomp.SyscallFilter(seccomp.ALLOW)
            f.add_rule(seccomp.ERRNO(errno.EPERM), "setpriority")
            f.load()
            os.execv(sys.argv[1], sys.argv[1:])
            """
        let child = try Child(python, ["-c", script, try Tools.binary("muckwatchd"), "--config", daemon.configPath, "--log-level", "info"],
                              log: "\(dir)/filtered.log")
        defer { child.stop(SIGKILL) }
        try eventually("the refused priority in the log (\(dir)/filtered.log)", timeout: 20) {
            child.log.contains("cannot lower the priority of muckwatch.pipeline to nice 5 (setpriority: Operation not permitted)")
        }
        try eventually("the daemon subscribed all the same", timeout: 20) { child.log.contains("subscribed to") }

        // Unfiltered, it says the priority holds.
        let plain = try TestDaemon(dir: try temporaryDirectory("setpriority-ok"), brokerURL: broker.url)
        try plain.start()
        XCTAssertTrue(plain.log.contains("muckwatch.pipeline runs at nice 5"), plain.log)
    }
}
