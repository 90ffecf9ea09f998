// MuckwatchDaemon owns the running daemon: it wires the MQTT ingest, the
// store, the pipeline and the alert log into services, and speaks to systemd.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The sd_notify protocol: one datagram per state change to `$NOTIFY_SOCKET`.
/// Does nothing when not started by systemd.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?
    /// `WatchdogSec=` as microseconds, if the unit asked for pings.
    public let watchdogMicros: UInt64?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let pidMatches = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        watchdogMicros = pidMatches ? environment["WATCHDOG_USEC"].flatMap(UInt64.init) : nil
    }

    /// Sends e.g. `READY=1`; returns false if there is no socket or it failed.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        // A leading '@' names an abstract socket: its first byte is NUL.
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let sent = state.utf8CString.withUnsafeBufferPointer { msg in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, msg.baseAddress, msg.count - 1, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        return sent >= 0
    }
}
