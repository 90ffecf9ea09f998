// Broker security against a real mosquitto: username/password, TLS with a CA
// file, and client certificates. The broker's config, its password file
// (mosquitto_passwd) and a throwaway PKI (openssl) are all made by the test;
// the daemon is the real muckwatchd binary with a config written here.
// Nothing is mocked.
import Foundation
import GRDB
import MuckwatchIngest
import MuckwatchScenario
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class BrokerSecurityTests: XCTestCase {
    private static let truckTopic = "muckwatch/v1/truck/T-0001/telemetry"

    // MARK: username / password

    /// `allow_anonymous false` plus a password file: the daemon with the
    /// right username and `password_file` subscribes, and a tracker's message
    /// (published by a client that authenticates too) is stored and processed.
    func testPasswordAuthenticationConnectsSubscribesAndStores() throws {
        let dir = try temporaryDirectory("sec-auth")
        let passwords = try PasswordFile(path: "\(dir)/broker.passwd")
        try passwords.set(user: "muckwatchd", password: "horse battery #staple")
        try passwords.set(user: "tracker", password: "tr4cker:pass")
        let broker = try SecureBroker(dir: dir, options: ["allow_anonymous false", "password_file \(passwords.path)"])
        try "horse battery #staple\n".write(toFile: "\(dir)/daemon.password", atomically: true, encoding: .utf8)

        let daemon = try TestDaemon(dir: dir, broker: """
            url: mqtt://127.0.0.1:\(broker.port)
            username: muckwatchd
            password_file: \(dir)/daemon.password
            """)
        try daemon.start(waitForSubscription: false)
        try daemon.waitSubscribed()
        XCTAssertTrue(broker.log.contains("as \(daemon.clientId) ") && broker.log.contains("u'muckwatchd'"),
                      "the broker should log the daemon's login as user muckwatchd:\n\(broker.log)")

        let publisher = try SecurePublisher(port: broker.port, clientId: "sec-auth-pub") {
            $0.username = "tracker"
            $0.password = "tr4cker:pass"
        }
        try publisher.publish(Self.truckTopic, truckPayload(seq: 1, second: 0))
        try publisher.waitAllAcknowledged()
        try daemon.waitStoredTruckReports(1)
        XCTAssertEqual(daemon.stop(), 0, daemon.log)
    }

    /// A wrong password: the daemon says the broker refused the connection,
    /// keeps running and retrying, and connects by itself once the broker
    /// accepts that password (password file changed, broker sent SIGHUP).
    func testWrongPasswordIsRefusedAndTheDaemonKeepsRetrying() throws {
        let dir = try temporaryDirectory("sec-badpw")
        let passwords = try PasswordFile(path: "\(dir)/broker.passwd")
        try passwords.set(user: "muckwatchd", password: "the-right-one")
        let broker = try SecureBroker(dir: dir, options: ["allow_anonymous false", "password_file \(passwords.path)"])
        try "a-wrong-one\n".write(toFile: "\(dir)/daemon.password", atomically: true, encoding: .utf8)

        let daemon = try TestDaemon(dir: dir, broker: """
            url: mqtt://127.0.0.1:\(broker.port)
            username: muckwatchd
            password_file: \(dir)/daemon.password
            """)
        try daemon.start(waitForSubscription: false)
        try eventually("two refused connection attempts (log: \(daemon.logPath))", timeout: 10) {
            daemon.log.components(separatedBy: "refused the connection").count - 1 >= 2
        }
        let refusal = daemon.log.split(separator: "\n").first { $0.contains("refused the connection") }.map(String.init) ?? ""
        XCTAssertTrue(refusal.contains("mqtt://127.0.0.1:\(broker.port)") && refusal.contains("not authorised"),
                      "the refusal should name the broker and the reason: \(refusal)")
        XCTAssertTrue(daemon.isRunning, "the daemon must keep running after a refusal:\n\(daemon.log)")
        XCTAssertFalse(daemon.log.contains("subscribed to"), daemon.log)

        // The operator fixes the broker side; the daemon's next retry gets in.
        try passwords.set(user: "muckwatchd", password: "a-wrong-one")
        broker.signal(SIGHUP)
        try daemon.waitSubscribed(timeout: 10)
        let publisher = try SecurePublisher(port: broker.port, clientId: "sec-badpw-pub") {
            $0.username = "muckwatchd"
            $0.password = "a-wrong-one"
        }
        try publisher.publish(Self.truckTopic, truckPayload(seq: 1, second: 0))
        try publisher.waitAllAcknowledged()
        try daemon.waitStoredTruckReports(1)
        XCTAssertEqual(daemon.stop(), 0, daemon.log)
    }

    // MARK: TLS

    /// A TLS listener; the daemon with `mqtts://` and `tls.ca_file` verifies
    /// the broker's certificate (issued for 127.0.0.1), subscribes and stores.
    func testTLSWithCAFileConnectsSubscribesAndStores() throws {
        let dir = try temporaryDirectory("sec-tls")
        let pki = try TestPKI(dir: "\(dir)/pki")
        let ca = try pki.authority("Muckwatch Test CA")
        let server = try pki.serverCertificate("broker", by: ca)
        let broker = try SecureBroker(dir: dir, options: [
            "allow_anonymous true", "cafile \(ca.cert)", "certfile \(server.cert)", "keyfile \(server.key)",
        ])

        let daemon = try TestDaemon(dir: dir, broker: """
            url: mqtts://127.0.0.1:\(broker.port)
            tls:
              ca_file: \(ca.cert)
            """)
        try daemon.start(waitForSubscription: false)
        try daemon.waitSubscribed()
        XCTAssertTrue(daemon.log.contains("connecting to mqtts://127.0.0.1:\(broker.port)"), daemon.log)

        let publisher = try SecurePublisher(port: broker.port, clientId: "sec-tls-pub") {
            $0.useTLS = true
            $0.caFile = ca.cert
        }
        try publisher.publish(Self.truckTopic, truckPayload(seq: 1, second: 0))
        try publisher.waitAllAcknowledged()
        try daemon.waitStoredTruckReports(1)
        XCTAssertEqual(daemon.stop(), 0, daemon.log)
    }

    /// The broker's certificate is from a CA the daemon was not told to
    /// trust: no connection, a TLS error in the log, retries, no crash.
    func testTLSWithUntrustedCAIsRejectedWithAnError() throws {
        let dir = try temporaryDirectory("sec-tls-ca")
        let pki = try TestPKI(dir: "\(dir)/pki")
        let ca = try pki.authority("Muckwatch Test CA")
        let other = try pki.authority("Some Other CA")
        let server = try pki.serverCertificate("broker", by: ca)
        let broker = try SecureBroker(dir: dir, options: [
            "allow_anonymous true", "cafile \(ca.cert)", "certfile \(server.cert)", "keyfile \(server.key)",
        ])

        let daemon = try TestDaemon(dir: dir, broker: """
            url: mqtts://127.0.0.1:\(broker.port)
            tls:
              ca_file: \(other.cert)
            """)
        try daemon.start(waitForSubscription: false)
        try daemon.expectRejected(by: broker, saying: "TLS")
        XCTAssertEqual(daemon.stop(), 0, daemon.log)
    }

    /// The broker's certificate is from the trusted CA but for another host
    /// name: the daemon checks the name (127.0.0.1) and refuses it too.
    func testTLSWithCertificateForAnotherHostIsRejected() throws {
        let dir = try temporaryDirectory("sec-tls-host")
        let pki = try TestPKI(dir: "\(dir)/pki")
        let ca = try pki.authority("Muckwatch Test CA")
        let server = try pki.serverCertificate("broker", by: ca, subject: "broker.example.invalid",
                                               altNames: "DNS:broker.example.invalid")
        let broker = try SecureBroker(dir: dir, options: [
            "allow_anonymous true", "cafile \(ca.cert)", "certfile \(server.cert)", "keyfile \(server.key)",
        ])

        let daemon = try TestDaemon(dir: dir, broker: """
            url: mqtts://127.0.0.1:\(broker.port)
            tls:
              ca_file: \(ca.cert)
            """)
        try daemon.start(waitForSubscription: false)
        try daemon.expectRejected(by: broker, saying: "TLS")
        XCTAssertEqual(daemon.stop(), 0, daemon.log)
    }

    // MARK: client certificates

    /// `require_certificate true` with `use_identity_as_username`: the only
    /// way in is a client certificate from the CA. The daemon with
    /// `cert_file` + `key_file` is let in as its certificate's CN, subscribes
    /// and stores.
    func testClientCertificateConnectsSubscribesAndStores() throws {
        let dir = try temporaryDirectory("sec-cert")
        let pki = try TestPKI(dir: "\(dir)/pki")
        let ca = try pki.authority("Muckwatch Test CA")
        let server = try pki.serverCertificate("broker", by: ca)
        let daemonCert = try pki.clientCertificate("daemon", by: ca, subject: "muckwatchd")
        let trackerCert = try pki.clientCertificate("tracker", by: ca, subject: "tracker-T-0001")
        let broker = try SecureBroker(dir: dir, options: [
            "allow_anonymous false", "cafile \(ca.cert)", "certfile \(server.cert)", "keyfile \(server.key)",
            "require_certificate true", "use_identity_as_username true",
        ])

        let daemon = try TestDaemon(dir: dir, broker: """
            url: mqtts://127.0.0.1:\(broker.port)
            tls:
              ca_file: \(ca.cert)
              cert_file: \(daemonCert.cert)
              key_file: \(daemonCert.key)
            """)
        try daemon.start(waitForSubscription: false)
        try daemon.waitSubscribed()
        XCTAssertTrue(broker.log.contains("as \(daemon.clientId) ") && broker.log.contains("u'muckwatchd'"),
                      "the broker should have taken the certificate's CN as the user:\n\(broker.log)")

        let publisher = try SecurePublisher(port: broker.port, clientId: "sec-cert-pub") {
            $0.useTLS = true
            $0.caFile = ca.cert
            $0.certFile = trackerCert.cert
            $0.keyFile = trackerCert.key
        }
        try publisher.publish(Self.truckTopic, truckPayload(seq: 1, second: 0))
        try publisher.waitAllAcknowledged()
        try daemon.waitStoredTruckReports(1)
        XCTAssertEqual(daemon.stop(), 0, daemon.log)
    }

    /// A daemon with no client certificate, and one whose certificate (same
    /// CN) comes from another CA, are kept out; each failed attempt is
    /// logged and retried, the daemon keeps running.
    func testMissingOrForeignClientCertificateIsRejected() throws {
        let dir = try temporaryDirectory("sec-nocert")
        let pki = try TestPKI(dir: "\(dir)/pki")
        let ca = try pki.authority("Muckwatch Test CA")
        let rogue = try pki.authority("Rogue CA")
        let server = try pki.serverCertificate("broker", by: ca)
        let foreignCert = try pki.clientCertificate("foreign", by: rogue, subject: "muckwatchd")
        let cases: [(name: String, clientTLS: String)] = [
            ("no-cert", ""),
            ("foreign-cert", "\n  cert_file: \(foreignCert.cert)\n  key_file: \(foreignCert.key)"),
        ]
        for c in cases {
            let caseDir = "\(dir)/\(c.name)"
            try FileManager.default.createDirectory(atPath: caseDir, withIntermediateDirectories: true)
            let broker = try SecureBroker(dir: caseDir, options: [
                "allow_anonymous false", "cafile \(ca.cert)", "certfile \(server.cert)", "keyfile \(server.key)",
                "require_certificate true", "use_identity_as_username true",
            ])
            let daemon = try TestDaemon(dir: caseDir, broker: """
                url: mqtts://127.0.0.1:\(broker.port)
                tls:
                  ca_file: \(ca.cert)\(c.clientTLS)
                """)
            try daemon.start(waitForSubscription: false)
            try daemon.expectRejected(by: broker, saying: nil, case: c.name)
            XCTAssertEqual(daemon.stop(), 0, "\(c.name): \(daemon.log)")
        }
    }

    // MARK: everything at once

    /// A production-like broker: TLS, client certificate required, and a
    /// username/password on top. A spill event gets through to the alert log.
    func testPasswordOverTLSWithClientCertificateRaisesAnAlert() throws {
        let dir = try temporaryDirectory("sec-all")
        let pki = try TestPKI(dir: "\(dir)/pki")
        let ca = try pki.authority("Muckwatch Test CA")
        let server = try pki.serverCertificate("broker", by: ca)
        let daemonCert = try pki.clientCertificate("daemon", by: ca, subject: "muckwatchd")
        let cameraCert = try pki.clientCertificate("camera", by: ca, subject: "CAM-03")
        let passwords = try PasswordFile(path: "\(dir)/broker.passwd")
        try passwords.set(user: "muckwatchd", password: "horse battery #staple")
        try passwords.set(user: "camera", password: "cam-pass")
        let broker = try SecureBroker(dir: dir, options: [
            "allow_anonymous false", "password_file \(passwords.path)",
            "cafile \(ca.cert)", "certfile \(server.cert)", "keyfile \(server.key)", "require_certificate true",
        ])
        try "horse battery #staple\n".write(toFile: "\(dir)/daemon.password", atomically: true, encoding: .utf8)

        let daemon = try TestDaemon(dir: dir, broker: """
            url: mqtts://127.0.0.1:\(broker.port)
            username: muckwatchd
            password_file: \(dir)/daemon.password
            tls:
              ca_file: \(ca.cert)
              cert_file: \(daemonCert.cert)
              key_file: \(daemonCert.key)
            """)
        try daemon.start(waitForSubscription: false)
        try daemon.waitSubscribed()

        let publisher = try SecurePublisher(port: broker.port, clientId: "sec-all-pub") {
            $0.username = "camera"
            $0.password = "cam-pass"
            $0.useTLS = true
            $0.caFile = ca.cert
            $0.certFile = cameraCert.cert
            $0.keyFile = cameraCert.key
        }
        try publisher.publish("muckwatch/v1/camera/CAM-03/event", """
            {"camera":"CAM-03","event_id":"e-tls-1","ts":"2026-11-24T21:20:05+08:00","type":"spill",
             "plate":"粤B67890","confidence":0.88,"lat":22.5501,"lon":114.0612}
            """)
        try publisher.waitAllAcknowledged()
        try eventually("the spill alert line (log: \(daemon.logPath))", timeout: 10) { daemon.alertLines.count == 1 }
        let alert = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(daemon.alertLines[0].utf8)) as? [String: Any])
        XCTAssertEqual(alert["rule"] as? String, "spill")
        XCTAssertEqual(alert["case_id"] as? String, "MW-20261124-0001")
        XCTAssertEqual(daemon.stop(), 0, daemon.log)
    }
}

// MARK: - support

/// A mosquitto password file, written with the real `mosquitto_passwd`.
private struct PasswordFile {
    let path: String
    private let tool: String

    init(path: String) throws {
        self.path = path
        tool = try Tools.require("mosquitto_passwd", package: "mosquitto")
    }

    /// Adds the user or changes their password (creating the file first).
    func set(user: String, password: String) throws {
        let create = !FileManager.default.fileExists(atPath: path)
        try runTool(tool, ["-b"] + (create ? ["-c"] : []) + [path, user, password], "mosquitto_passwd")
    }
}

/// A throwaway PKI made with the `openssl` command: EC P-256 keys, valid for
/// two days, each certificate with the extensions a real deployment's has.
private struct TestPKI {
    struct Issued {
        let cert: String
        let key: String
    }

    let dir: String
    private let openssl: String

    init(dir: String) throws {
        openssl = try Tools.require("openssl", package: "openssl")
        self.dir = dir
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // A config of our own, so the system's openssl.cnf does not matter.
        try """
            [req]
            distinguished_name = dn
            prompt = no
            x509_extensions = ca_ext
            [dn]
            CN = placeholder
            [ca_ext]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            """.write(toFile: "\(dir)/openssl.cnf", atomically: true, encoding: .utf8)
    }

    /// A self-signed CA.
    func authority(_ commonName: String) throws -> Issued {
        let name = commonName.lowercased().replacingOccurrences(of: " ", with: "-")
        let issued = Issued(cert: "\(dir)/\(name).crt", key: "\(dir)/\(name).key")
        try runTool(openssl, ["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", issued.key, "-out", issued.cert, "-days", "2", "-subj", "/CN=\(commonName)",
                          "-config", "\(dir)/openssl.cnf"], "openssl req (CA \(commonName))")
        return issued
    }

    /// A broker certificate; by default for 127.0.0.1 and localhost.
    func serverCertificate(_ name: String, by ca: Issued, subject: String = "127.0.0.1",
                           altNames: String = "IP:127.0.0.1, DNS:localhost") throws -> Issued {
        try issue(name, subject: subject, by: ca, extensions: """
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = serverAuth
            subjectAltName = \(altNames)
            """)
    }

    /// A client certificate; mosquitto's `use_identity_as_username` takes its CN.
    func clientCertificate(_ name: String, by ca: Issued, subject: String) throws -> Issued {
        try issue(name, subject: subject, by: ca, extensions: """
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = clientAuth
            """)
    }

    private func issue(_ name: String, subject: String, by ca: Issued, extensions: String) throws -> Issued {
        let issued = Issued(cert: "\(dir)/\(name).crt", key: "\(dir)/\(name).key")
        let csr = "\(dir)/\(name).csr", ext = "\(dir)/\(name).ext"
        try extensions.write(toFile: ext, atomically: true, encoding: .utf8)
        try runTool(openssl, ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", issued.key, "-out", csr, "-subj", "/CN=\(subject)", "-config", "\(dir)/openssl.cnf"],
                "openssl req (\(name))")
        try runTool(openssl, ["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key,
                          "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "2",
                          "-out", issued.cert, "-extfile", ext], "openssl x509 (sign \(name))")
        return issued
    }
}

/// Runs a tool; a failure fails the test with the tool's own words.
private func runTool(_ executable: String, _ arguments: [String], _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) throws {
    let result = try runCommand(executable, arguments)
    guard result.status == 0 else {
        XCTFail("\(what) failed with status \(result.status): \(result.err)\(result.out)", file: file, line: line)
        throw CocoaError(.executableLoad)
    }
}

/// A mosquitto on a free loopback port with the listener options the test
/// gives (authentication, TLS files, ...).
private final class SecureBroker {
    let port: Int
    private let child: Child

    init(dir: String, options: [String]) throws {
        let executable = try Tools.require("mosquitto", package: "mosquitto")
        port = Loopback.freePort()
        let config = "\(dir)/mosquitto.conf"
        try (["listener \(port) 127.0.0.1", "user \(NSUserName())", "persistence false"] + options)
            .joined(separator: "\n").appending("\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        child = try Child(executable, ["-c", config], log: "\(dir)/broker.log")
        let child = self.child
        try eventually("mosquitto to listen on port \(port) (log: \(dir)/broker.log)", timeout: 10) {
            guard child.process.isRunning else { return true }
            return Loopback.accepts(port: port)
        }
        guard child.process.isRunning else {
            XCTFail("mosquitto exited at start:\n\(child.log)")
            throw CocoaError(.executableLoad)
        }
    }

    var log: String { child.log }
    var logPath: String { child.logPath }

    /// TLS/TCP connections the broker accepted and started to serve (the
    /// readiness probe's bare TCP connect is logged differently).
    var connectionAttempts: Int { log.components(separatedBy: "New connection from").count - 1 }

    func signal(_ sig: Int32) { child.signal(sig) }

    deinit { child.stop() }
}

/// What the security tests wait for and check on the daemon.
extension TestDaemon {
    func waitSubscribed(timeout: TimeInterval = 10, file: StaticString = #filePath, line: UInt = #line) throws {
        try eventually("muckwatchd to subscribe (log: \(logPath))", timeout: timeout, file: file, line: line) {
            guard isRunning else { return true }
            return log.contains("subscribed to")
        }
        guard isRunning else {
            XCTFail("muckwatchd exited at start:\n\(log)", file: file, line: line)
            throw CocoaError(.executableLoad)
        }
    }

    /// Lines that say a connection attempt failed.
    var failures: [String] {
        log.split(separator: "\n").map(String.init).filter {
            $0.contains("refused the connection") || $0.contains("disconnected from") || $0.contains("cannot connect")
        }
    }

    /// The broker turns the daemon away at the TLS handshake: waits until the
    /// broker has seen three attempts (so the daemon retried), then expects
    /// the daemon still running, never subscribed, never let in, and one
    /// logged failure per attempt (the last may still be under way), each
    /// naming the broker and, if given, containing `reason`.
    fileprivate func expectRejected(by broker: SecureBroker, saying reason: String?, case name: String = "",
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let what = name.isEmpty ? "" : "\(name): "
        try eventually("\(what)the broker to see 3 connection attempts (log: \(broker.logPath))", timeout: 8,
                       file: file, line: line) { broker.connectionAttempts >= 3 }
        Thread.sleep(forTimeInterval: 0.3)
        let attempts = broker.connectionAttempts, failures = self.failures
        XCTAssertTrue(isRunning, "\(what)muckwatchd must keep running:\n\(log)", file: file, line: line)
        XCTAssertFalse(log.contains("subscribed to"), "\(what)\(log)", file: file, line: line)
        XCTAssertFalse(broker.log.contains("New client connected"),
                       "\(what)the broker must not have let the daemon in:\n\(broker.log)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(failures.count, attempts - 1, """
            \(what)the broker turned away \(attempts) connection attempts, but the daemon logged \(failures.count) \
            failure(s); an operator cannot tell why it is not connected.
            daemon log:
            \(log)
            broker log:
            \(broker.log)
            """, file: file, line: line)
        for failure in failures {
            XCTAssertTrue(failure.contains("mqtts://127.0.0.1:\(broker.port)"), "\(what)\(failure)", file: file, line: line)
            if let reason {
                XCTAssertTrue(failure.contains(reason), "\(what)the failure should say '\(reason)': \(failure)",
                              file: file, line: line)
            }
        }
    }

    func waitStoredTruckReports(_ count: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        try eventually("\(count) truck report(s) stored and processed (log: \(logPath))", timeout: 10, file: file, line: line) {
            try query { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox WHERE topic = 'muckwatch/v1/truck/T-0001/telemetry'") == count
                    && Int.fetchOne(db, sql: "SELECT COUNT(*) FROM truck_telemetry WHERE device = 'T-0001'") == count
            }
        }
    }
}

/// A real MQTT publisher (libmosquitto, QoS 1) with the credentials and TLS
/// files the test gives it.
private final class SecurePublisher {
    let client: MQTTClient
    private var sent = 0

    init(port: Int, clientId: String, _ configure: (inout MQTTSettings) -> Void) throws {
        var s = MQTTSettings()
        s.host = "127.0.0.1"
        s.port = port
        s.clientId = clientId
        s.cleanSession = true
        s.reconnectMinS = 1
        s.reconnectMaxS = 1
        configure(&s)
        client = try MQTTClient(settings: s)
        try client.start()
        let client = self.client
        try eventually("publisher \(clientId) to connect to 127.0.0.1:\(port)", timeout: 10) { client.isConnected }
    }

    func publish(_ topic: String, _ payload: String) throws {
        try client.publish(topic: topic, payload: Array(payload.utf8), qos: 1)
        sent += 1
    }

    func waitAllAcknowledged() throws {
        let (client, sent) = (self.client, self.sent)
        try eventually("the broker to acknowledge \(sent) publish(es)", timeout: 10) { client.publishedCount >= sent }
    }

    deinit { client.stop() }
}
