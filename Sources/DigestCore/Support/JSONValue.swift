import Foundation

/// A JSON document as plain values, so readers can tell `true` from `1` and report exact types.
public enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses `data`, turning Foundation's decoding errors into one readable sentence that says where.
    public static func parse(_ data: Data) throws(JSONSyntaxError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw JSONSyntaxError(message: whereItBreaks(data) ?? context.debugDescription)
        } catch {
            throw JSONSyntaxError(message: "\(error)")
        }
    }

    /// Where `data` stops being JSON, as "line L, column C: what": `JSONDecoder` says only that the data is not
    /// valid, while `JSONSerialization` names the byte ("Invalid value around character 25."), counted from 0.
    static func whereItBreaks(_ data: Data) -> String? {
        let text: String
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)
            return nil
        } catch {
            guard let described = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String else { return nil }
            text = described
        }
        let bytes = [UInt8](data)
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if text.localizedCaseInsensitiveContains("end of file") {
            return "line \(lines.count): the text ends before the JSON does (a missing } or ], or a cut-off file)"
        }
        guard let marker = text.range(of: "character "),
            let offset = Int(text[marker.upperBound...].prefix(while: \.isNumber)), offset <= bytes.count
        else { return text }
        let before = bytes[..<offset]
        let line = before.count(where: { $0 == 0x0A }) + 1
        let column = offset - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
        let what = text[..<(text.range(of: " around")?.lowerBound ?? text.endIndex)].lowercased()
        return "line \(line), column \(column): \(what)"
    }

    /// A short name of the type, for "expected X, found Y" messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// The text is not JSON; `message` says where, as Foundation reports it.
public struct JSONSyntaxError: Error, Sendable {
    public var message: String
}

/// Reads one JSON object key by key, remembering which keys were read so that unknown ones
/// (usually typos) are refused instead of silently ignored.
struct JSONObjectReader {
    let path: String
    let object: [String: JSONValue]
    private(set) var read: Set<String> = []
    let fail: (_ key: String, _ message: String) -> any Error

    init(_ value: JSONValue, path: String, fail: @escaping (_ key: String, _ message: String) -> any Error) throws {
        guard case .object(let object) = value else {
            throw fail(path, "expected an object, found \(value.typeName)")
        }
        self.path = path
        self.object = object
        self.fail = fail
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ message: String) -> any Error { fail(keyPath(key), message) }

    /// The raw value, or nil when the key is absent or JSON null.
    mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    mutating func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let string) = value else { throw error(key, "expected a string, found \(value.typeName)") }
        return string
    }

    mutating func requiredString(_ key: String, nonEmpty: Bool = true) throws -> String {
        guard let string = try string(key) else { throw error(key, "is required (a string)") }
        if nonEmpty && string.trimmingCharacters(in: .whitespaces).isEmpty {
            throw error(key, "expected a non-empty string")
        }
        return string
    }

    mutating func bool(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let bool) = value else { throw error(key, "expected true or false, found \(value.typeName)") }
        return bool
    }

    mutating func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value else { throw error(key, "expected a number, found \(value.typeName)") }
        guard range.contains(number) else {
            throw error(key, "expected a number from \(format(range.lowerBound)) to \(format(range.upperBound)), found \(format(number))")
        }
        return number
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value, number.rounded() == number, abs(number) < 1e15 else {
            throw error(key, "expected a whole number, found \(describe(value))")
        }
        let integer = Int(number)
        guard range.contains(integer) else {
            throw error(key, "expected a whole number from \(range.lowerBound) to \(range.upperBound), found \(integer)")
        }
        return integer
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, as type: T.Type) throws -> T?
    where T.RawValue == String {
        guard let string = try string(key) else { return nil }
        guard let choice = T(rawValue: string) else {
            let allowed = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw error(key, "expected one of \(allowed), found \"\(string)\"")
        }
        return choice
    }

    mutating func object(_ key: String) throws -> JSONObjectReader? {
        guard let value = value(key) else { return nil }
        return try JSONObjectReader(value, path: keyPath(key), fail: fail)
    }

    mutating func array(_ key: String) throws -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let array) = value else { throw error(key, "expected an array, found \(value.typeName)") }
        return array
    }

    /// Refuses keys that were never read. Keys that start with `//` are comments (JSON has none), such as
    /// the other form of a value in `config.example.json`.
    func finish() throws {
        if let unknown = object.keys.filter({ !read.contains($0) && !$0.hasPrefix("//") }).sorted().first {
            let known = read.sorted().joined(separator: ", ")
            throw error(unknown, "unknown key (known keys here: \(known))")
        }
    }

    private func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }

    private func describe(_ value: JSONValue) -> String {
        if case .number(let number) = value { return format(number) }
        return value.typeName
    }
}
