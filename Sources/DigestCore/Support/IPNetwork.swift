import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1`), as listed in
/// `web.trustedProxies`. IPv4 addresses are held in their IPv4-mapped IPv6 form (`::ffff:a.b.c.d`),
/// so `127.0.0.1` also matches a peer the kernel reports as `::ffff:127.0.0.1`.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// 16 bytes, network order, host bits zero.
    let bytes: [UInt8]
    /// Leading bits that must match, 0–128.
    let prefixLength: Int
    /// As written in the configuration.
    public let description: String

    /// Parses `address` or `address/prefix`; nil when it is neither.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let (address, isIPv4) = Self.parse(String(parts[0])) else { return nil }
        var length = 128
        if parts.count == 2 {
            guard let given = Int(parts[1]), parts[1].allSatisfy(\.isASCII), given >= 0, given <= (isIPv4 ? 32 : 128)
            else { return nil }
            length = isIPv4 ? given + 96 : given
        }
        bytes = Self.masked(address, length)
        prefixLength = length
        description = text
    }

    /// Whether `address` (an IPv4 or IPv6 address as text) lies in this network.
    public func contains(_ address: String) -> Bool {
        guard let (parsed, _) = Self.parse(address) else { return false }
        return Self.masked(parsed, prefixLength) == bytes
    }

    /// The 16 bytes of an IPv4 or IPv6 address (IPv4 mapped), and whether it was written as IPv4;
    /// nil when `text` is no address. A zone (`fe80::1%eth0`) is dropped.
    static func parse(_ text: String) -> ([UInt8], Bool)? {
        let plain = String(text.split(separator: "%", maxSplits: 1).first ?? "")
        var v4 = in_addr()
        if inet_pton(AF_INET, plain, &v4) == 1 {
            let raw = withUnsafeBytes(of: &v4) { Array($0) }
            return (Array(repeating: 0, count: 10) + [0xFF, 0xFF] + raw, true)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, plain, &v6) == 1 {
            return (withUnsafeBytes(of: &v6) { Array($0) }, false)
        }
        return nil
    }

    private static func masked(_ address: [UInt8], _ length: Int) -> [UInt8] {
        address.enumerated().map { index, byte in
            let bits = min(8, max(0, length - index * 8))
            return bits == 8 ? byte : byte & ~(0xFF >> bits)
        }
    }

    /// Whether `text` is an IP address (IPv4 or IPv6).
    public static func isAddress(_ text: String) -> Bool { parse(text) != nil }
}
