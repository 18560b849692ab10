/// A configuration file that cannot be used, with the file, the key and what was expected.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var file: String
    /// Dotted key path such as `mail.smtp.connections`; empty for the file as a whole.
    public var key: String
    public var message: String

    public init(file: String, key: String, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    public var description: String {
        key.isEmpty ? "\(file): \(message)" : "\(file): \(key): \(message)"
    }
}
