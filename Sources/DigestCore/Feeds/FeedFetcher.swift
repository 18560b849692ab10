import Foundation
import Logging

/// A feed document as downloaded, with the validators for the next conditional GET.
public struct FeedDocument: Sendable {
    /// The URL asked for (the key under which validators are remembered).
    public var url: String
    /// Where the document came from after redirects; relative links resolve against it.
    public var effectiveURL: String
    public var data: Data
    public var etag: String?
    public var lastModified: String?
    /// The `charset` of the HTTP `Content-Type`, when the server named one.
    public var charset: String? = nil
    /// 0 for file:// URLs.
    public var status: Int
    public var fetchedAt: Date
}

/// The outcome of a fetch that did not fail.
public enum FeedFetchResult: Sendable {
    /// The server answered 304: nothing changed since the validators were remembered.
    case notModified
    case fetched(FeedDocument)
}

/// A feed that could not be downloaded, naming its URL and what went wrong.
public struct FeedFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: Sendable, Equatable {
        case httpStatus(Int)
        case tooLarge
        case tooManyRedirects
        case unsupportedScheme
        case transport
    }

    let code: Code
    public let url: String
    public let message: String

    public var description: String { "\(url): \(message)" }

    /// The HTTP status of a 4xx/5xx (or unexpected) reply; nil for other failures.
    public var status: Int? {
        if case .httpStatus(let status) = code { return status }
        return nil
    }

    public var isTooLarge: Bool { code == .tooLarge }
    public var isTooManyRedirects: Bool { code == .tooManyRedirects }
    public var isUnsupportedScheme: Bool { code == .unsupportedScheme }
}

/// Downloads feeds over http, https and file URLs with libcurl: bounded redirects, a size limit, a
/// timeout, gzip/deflate accepted, and conditional GET with the ETag / Last-Modified remembered in
/// the store per feed URL.
public struct FeedFetcher: Sendable {
    public struct Limits: Sendable {
        public var maxBytes: Int
        public var timeoutSeconds: Double
        public var connectTimeoutSeconds: Double
        public var maxRedirects: Int

        public init(
            maxBytes: Int = 5 * 1024 * 1024, timeoutSeconds: Double = 30, connectTimeoutSeconds: Double = 10,
            maxRedirects: Int = 5
        ) {
            self.maxBytes = maxBytes
            self.timeoutSeconds = timeoutSeconds
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.maxRedirects = maxRedirects
        }
    }

    /// Where validators are read and remembered; nil fetches unconditionally.
    public let store: Store?
    public var limits: Limits
    public var userAgent = "DailyDigest/1.0 (feed reader)"

    public init(store: Store?, limits: Limits = Limits()) {
        self.store = store
        self.limits = limits
    }

    /// Downloads `url`. With validators remembered for it, asks only for a changed document.
    public func fetch(_ url: String, now: Date = Date()) async throws -> FeedFetchResult {
        let lowered = url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") || lowered.hasPrefix("file://") else {
            throw FeedFetchError(
                code: .unsupportedScheme, url: url, message: "only http, https and file URLs can be fetched")
        }
        let isHTTP = !lowered.hasPrefix("file://")
        let state = isHTTP ? try store?.feedState(url: url) : nil
        var headers = [
            "Accept: application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
                + "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
        ]
        if let etag = state?.etag { headers.append("If-None-Match: \(etag)") }
        if let lastModified = state?.lastModified { headers.append("If-Modified-Since: \(lastModified)") }
        let limits = limits
        let userAgent = userAgent
        let requestHeaders = headers
        let outcome = await Self.onOwnThread { () -> Result<DownloadResult, FeedFetchError> in
            let curl = CurlEasy()
            do throws(CurlError) {
                try curl.set(.url, url)
                try curl.set(.protocolsString, "http,https,file")
                // A server must never send the program to a local file.
                try curl.set(.redirectProtocolsString, "http,https")
                try curl.set(.followLocation, true)
                try curl.set(.maxRedirects, limits.maxRedirects)
                // "" asks for every encoding libcurl can decode (gzip, deflate…) and decodes it.
                // https://curl.se/libcurl/c/CURLOPT_ACCEPT_ENCODING.html
                try curl.set(.acceptEncoding, "")
                try curl.set(.userAgent, userAgent)
                try curl.set(.httpHeader, list: requestHeaders)
                try curl.setLarge(.maxFileSize, Int64(limits.maxBytes))
                try curl.set(.timeoutMilliseconds, Int(limits.timeoutSeconds * 1000))
                try curl.set(.connectTimeoutMilliseconds, Int(limits.connectTimeoutSeconds * 1000))
            } catch {
                return .failure(FeedFetchError(code: .transport, url: url, message: error.message))
            }
            switch curl.download(maxBodyBytes: limits.maxBytes) {
            case .success(let result): return .success(result)
            case .failure(DownloadLimit.tooLarge(let limit)):
                return .failure(
                    FeedFetchError(code: .tooLarge, url: url, message: "the feed is larger than \(limit) bytes"))
            case .failure(let error as CurlError):
                if error.isTooManyRedirects {
                    return .failure(
                        FeedFetchError(
                            code: .tooManyRedirects, url: url,
                            message: "more than \(limits.maxRedirects) redirects: \(error.message)"))
                }
                if error.isUnsupportedProtocol {
                    return .failure(FeedFetchError(code: .unsupportedScheme, url: url, message: error.message))
                }
                return .failure(FeedFetchError(code: .transport, url: url, message: error.message))
            case .failure(let error):
                return .failure(FeedFetchError(code: .transport, url: url, message: "\(error)"))
            }
        }
        let result = try outcome.get()
        if isHTTP {
            switch result.responseCode {
            case 200..<300: break
            case 304: return .notModified
            default:
                throw FeedFetchError(
                    code: .httpStatus(result.responseCode), url: url,
                    message: "the server answered HTTP \(result.responseCode)"
                        + (Self.reasons[result.responseCode].map { " (\($0))" } ?? ""))
            }
        }
        return .fetched(
            FeedDocument(
                url: url, effectiveURL: result.effectiveURL ?? url, data: Data(result.body),
                etag: isHTTP ? result.header("ETag") : nil, lastModified: isHTTP ? result.header("Last-Modified") : nil,
                charset: isHTTP ? result.header("Content-Type").flatMap(Self.charset) : nil,
                status: result.responseCode, fetchedAt: now))
    }

    /// `windows-1251` from `text/xml; charset="windows-1251"`.
    static func charset(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let parts = parameter.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "charset" else {
                continue
            }
            let value = parts[1].trimmingCharacters(in: CharacterSet.whitespaces.union(["\"", "'"]))
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// Remembers the validators of `document`, once its items are safely stored.
    public func remember(_ document: FeedDocument) throws {
        guard let store, document.status != 0 else { return }
        if document.etag == nil && document.lastModified == nil {
            try store.removeFeedState(url: document.url)
        } else {
            try store.saveFeedState(
                FeedState(
                    url: document.url, etag: document.etag, lastModified: document.lastModified,
                    fetchedAt: document.fetchedAt))
        }
    }

    private static let reasons: [Int: String] = [
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 410: "Gone",
        429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
        504: "Gateway Timeout",
    ]

    /// Runs blocking work (a libcurl transfer) on a thread of its own, off the Swift concurrency pool.
    static func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.name = "digest.feed-fetch"
            thread.start()
        }
    }
}
