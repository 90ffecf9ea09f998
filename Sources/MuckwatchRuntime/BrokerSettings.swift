import MuckwatchConfig
import MuckwatchIngest

extension MQTTSettings {
    /// The connection the config describes: broker address, keepalive,
    /// reconnect backoff, credentials and TLS, as the daemon's client id with
    /// a persistent session. No subscriptions.
    public init(broker b: BrokerSettings) {
        self.init()
        host = b.host
        port = b.port
        clientId = b.clientId
        cleanSession = false
        keepaliveS = b.keepaliveS
        reconnectMinS = b.reconnectMinS
        reconnectMaxS = b.reconnectMaxS
        username = b.username
        password = b.password
        useTLS = b.useTLS
        caFile = b.caFile
        certFile = b.certFile
        keyFile = b.keyFile
    }

    /// How the daemon subscribes: the config's broker connection, every
    /// topic filter of the config at QoS 1. Tools that subscribe alongside
    /// the daemon (`muckwatch record`) must change `clientId` and set
    /// `cleanSession`, or they would take over the daemon's session.
    public init(config: MuckwatchConfiguration) {
        self.init(broker: config.broker)
        subscriptions = config.topics.map(\.filter.text)
        qos = 1
        maxPayloadBytes = config.pipeline.limits.maxPayloadBytes
    }
}
