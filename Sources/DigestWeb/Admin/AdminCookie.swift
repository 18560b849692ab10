import Foundation
import Hummingbird

/// The admin session cookie of the public port: `HttpOnly` (no script reads it, and the pages run none),
/// `SameSite=Strict` (no other site's link or form carries it), `Path` the admin pages' own (under
/// `web.baseURL`'s path, where a proxy serves them), `Secure` when `web.baseURL` is https, and an end
/// (`Max-Age`, and `Expires` for old clients) equal to the session's.
struct AdminCookie: Sendable {
    static let name = "digest_admin"

    /// `/admin`, or `/digest/admin` when the public URL is `https://host/digest`.
    let path: String
    let secure: Bool

    init(baseURL: String) {
        path = AdminPath.basePath(of: baseURL) + "/admin"
        secure = baseURL.lowercased().hasPrefix("https://")
    }

    /// `Set-Cookie` for a session that lasts `lifetime` seconds from `now`.
    func set(_ value: String, lifetime: TimeInterval, now: Date) -> String {
        let seconds = max(0, Int(lifetime.rounded(.down)))
        return attributes("\(Self.name)=\(value)", maxAge: seconds, expires: now.addingTimeInterval(Double(seconds)))
    }

    /// `Set-Cookie` that makes the browser forget the cookie (sign-out, a session that is gone).
    func cleared() -> String {
        attributes("\(Self.name)=", maxAge: 0, expires: Date(timeIntervalSince1970: 0))
    }

    private func attributes(_ pair: String, maxAge: Int, expires: Date) -> String {
        "\(pair); Path=\(path); Max-Age=\(maxAge); Expires=\(Self.httpDate(expires)); HttpOnly; SameSite=Strict"
            + (secure ? "; Secure" : "")
    }

    /// The cookie's value in the request's `Cookie` fields; nil without one.
    static func value(in request: Request) -> String? {
        for field in request.headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    /// RFC 9110 §5.6.7 IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        let year = String(format: "%04d", parts.year ?? 1970)
        return "\(days[(parts.weekday ?? 1) - 1]), \(two(parts.day)) \(months[(parts.month ?? 1) - 1]) \(year) "
            + "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) GMT"
    }
}
