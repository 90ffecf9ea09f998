// The daemon's log lines quote what devices sent (topics, clip URLs, reasons
// that name them) and go to journald, which operators read on a terminal:
// this handler shows all of it escaped (MuckwatchCore's TerminalText), so
// that a log record stays one line and no device drives the terminal.
import Logging
import MuckwatchCore

/// A log handler that escapes the message, the metadata and the error of every
/// record before `inner` writes it.
public struct EscapingLogHandler<Inner: LogHandler>: LogHandler {
    private var inner: Inner

    public init(_ inner: Inner) { self.inner = inner }

    public func log(event: LogEvent) {
        var event = event
        event.message = Logger.Message(stringLiteral: TerminalText.escaped(event.message.description))
        event.metadata = event.metadata.map(Self.escaped)
        if let error = event.error { event.error = EscapedError(description: TerminalText.escaped("\(error)")) }
        inner.log(event: event)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue.map(Self.escaped) }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = Self.escaped(newValue) }
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    private static func escaped(_ metadata: Logger.Metadata) -> Logger.Metadata {
        Dictionary(uniqueKeysWithValues: metadata.map { (TerminalText.escaped($0.key), escaped($0.value)) })
    }

    private static func escaped(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let s): .string(TerminalText.escaped(s))
        case .stringConvertible(let c): .string(TerminalText.escaped(c.description))
        case .dictionary(let d): .dictionary(escaped(d))
        case .array(let a): .array(a.map(escaped))
        }
    }

    private struct EscapedError: Error, CustomStringConvertible {
        var description: String
    }
}
