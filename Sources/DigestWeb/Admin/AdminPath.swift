import Foundation

/// Which request paths are admin paths, and where an admin may be sent back to after signing in.
///
/// The router matches a path by its `/`-separated parts, empty parts skipped, neither percent-decoded
/// nor case-folded; these rules read the path the same way and are stricter where they differ (a part
/// `%61dmin` or `Admin` counts as admin too), so no spelling reaches an admin route without being
/// asked for credentials.
enum AdminPath {
    /// Whether `path` (`request.uri.path`) is `/admin` or under it, or `/metrics` (Prometheus's scrape,
    /// which sees the same figures as the dashboard).
    static func isAdmin(_ path: String) -> Bool {
        guard let first = path.split(separator: "/", omittingEmptySubsequences: true).first else { return false }
        let decoded = (String(first).removingPercentEncoding ?? String(first)).lowercased()
        return decoded == "admin" || decoded.hasPrefix("admin/") || decoded == "metrics" || decoded.hasPrefix("metrics/")
    }

    /// Whether `path` is the sign-in page, the one admin path open without credentials.
    static func isSignIn(_ path: String) -> Bool {
        path.split(separator: "/", omittingEmptySubsequences: true) == ["admin", "signin"]
    }

    /// The path part of `web.baseURL` without its last slash: "" for `https://news.example`, `/digest`
    /// for `https://news.example/digest/` (a proxy that serves the app under a prefix).
    static func basePath(of baseURL: String) -> String {
        guard let path = URLComponents(string: baseURL)?.path, !path.isEmpty else { return "" }
        return path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// `next` of the sign-in form when it is a local admin page (`/admin`, `/admin/readers?q=x`); nil for
    /// anything else: another site (`//evil.example`, `https://…`), a backslash, `..`, the sign-in page
    /// itself, control characters. What is kept is appended to the site's own base path, never used as
    /// a URL of its own, so there is no open redirect.
    static func safeNext(_ text: String?) -> String? {
        guard let text, text == "/admin" || text.hasPrefix("/admin/") || text.hasPrefix("/admin?"),
            text.utf8.count <= 2048,
            text.unicodeScalars.allSatisfy({ allowed.contains($0) }),
            !text.contains("//")
        else { return nil }
        let path = text.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.contains(where: { $0 == "." || $0 == ".." || $0.contains("%") }), !isSignIn(String(path))
        else { return nil }
        return text
    }

    private static let allowed = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/?=&%+:@,")

    private static let unreserved = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/")

    /// `next` as a query value.
    static func encoded(_ next: String) -> String {
        next.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
