import Foundation
internal import CCurl

// The one file that imports CCurl. Everything else speaks `CurlEasy` and Swift types.

/// libcurl's global state, set up once per process before the first handle.
///
/// "This function is not thread safe. You must not call it when any other thread in the
/// program is running" — https://curl.se/libcurl/c/curl_global_init.html
/// Swift's lazy globals run their initializer exactly once, guarded, before first use.
private let curlGlobal: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// A libcurl result code with libcurl's own words and the detail from the error buffer.
struct CurlError: Error, CustomStringConvertible {
    var code: Int
    var message: String
    var description: String { message }

    /// Connection-level failures that a fresh connection or a later try may cure.
    var isTransient: Bool {
        switch CURLcode(UInt32(code)) {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR,
            CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_SSL_CONNECT_ERROR, CURLE_PARTIAL_FILE,
            CURLE_WEIRD_SERVER_REPLY, CURLE_AGAIN:
            true
        default: false
        }
    }

    var isTimeout: Bool { CURLcode(UInt32(code)) == CURLE_OPERATION_TIMEDOUT }
    var isAbortedByCallback: Bool { CURLcode(UInt32(code)) == CURLE_ABORTED_BY_CALLBACK }
    var isConnectFailure: Bool { CURLcode(UInt32(code)) == CURLE_COULDNT_CONNECT }

    /// "CURLE_LOGIN_DENIED (67) The remote server denied curl to login"
    /// — https://curl.se/libcurl/c/libcurl-errors.html
    var isLoginDenied: Bool { CURLcode(UInt32(code)) == CURLE_LOGIN_DENIED }

    /// With `CURLUSESSL_ALL`: "Require SSL for all communication or fail with CURLE_USE_SSL_FAILED."
    /// — https://curl.se/libcurl/c/CURLOPT_USE_SSL.html
    var isTLSNotAvailable: Bool { CURLcode(UInt32(code)) == CURLE_USE_SSL_FAILED }

    /// "CURLE_PEER_FAILED_VERIFICATION (60) The remote server's SSL certificate or SSH fingerprint was
    /// deemed not OK." — https://curl.se/libcurl/c/libcurl-errors.html (also a CA file that cannot be read).
    var isCertificateProblem: Bool {
        switch CURLcode(UInt32(code)) {
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM: true
        default: false
        }
    }
}

/// Owns one `CURL *` easy handle; freed in `deinit` on every path.
///
/// A handle is not thread-safe: one thread at a time. "You must never share the same handle
/// in multiple threads." — https://curl.se/libcurl/c/threadsafe.html
final class CurlEasy {
    fileprivate let handle: UnsafeMutableRawPointer
    /// libcurl writes into this while the handle lives, so it must not move: allocated, not an Array.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    /// The list last set for each option; replaced (and the old one freed) when the option is set again,
    /// so a handle reused for thousands of messages does not accumulate one list per message.
    private var lists: [UInt32: UnsafeMutablePointer<curl_slist>] = [:]

    init() {
        _ = curlGlobal
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        _ = dd_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        // Signals are no use to a threaded program; timeouts then rely on the threaded resolver.
        _ = dd_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
        for list in lists.values { curl_slist_free_all(list) }
    }

    /// The version string of the linked libcurl, e.g. "libcurl/7.88.1 OpenSSL/3.0.x …".
    static var version: String { String(cString: curl_version()) }

    // MARK: Options

    /// Options the program sets, as Swift values; the raw numbers stay in this file.
    struct Option {
        fileprivate let raw: CURLoption
        static let url = Option(raw: CURLOPT_URL)
        static let upload = Option(raw: CURLOPT_UPLOAD)
        static let inFileSize = Option(raw: CURLOPT_INFILESIZE_LARGE)
        static let mailFrom = Option(raw: CURLOPT_MAIL_FROM)
        static let mailRecipients = Option(raw: CURLOPT_MAIL_RCPT)
        static let useSSL = Option(raw: CURLOPT_USE_SSL)
        static let username = Option(raw: CURLOPT_USERNAME)
        static let password = Option(raw: CURLOPT_PASSWORD)
        static let caInfo = Option(raw: CURLOPT_CAINFO)
        static let sslVerifyPeer = Option(raw: CURLOPT_SSL_VERIFYPEER)
        static let sslVerifyHost = Option(raw: CURLOPT_SSL_VERIFYHOST)
        static let connectTimeoutMilliseconds = Option(raw: CURLOPT_CONNECTTIMEOUT_MS)
        static let timeoutMilliseconds = Option(raw: CURLOPT_TIMEOUT_MS)
        static let followLocation = Option(raw: CURLOPT_FOLLOWLOCATION)
        static let maxRedirects = Option(raw: CURLOPT_MAXREDIRS)
        static let acceptEncoding = Option(raw: CURLOPT_ACCEPT_ENCODING)
        static let httpHeader = Option(raw: CURLOPT_HTTPHEADER)
        static let userAgent = Option(raw: CURLOPT_USERAGENT)
        static let maxFileSize = Option(raw: CURLOPT_MAXFILESIZE_LARGE)
        static let protocolsString = Option(raw: CURLOPT_PROTOCOLS_STR)
        static let redirectProtocolsString = Option(raw: CURLOPT_REDIR_PROTOCOLS_STR)
        static let failOnError = Option(raw: CURLOPT_FAILONERROR)
        static let maxConnects = Option(raw: CURLOPT_MAXCONNECTS)
    }

    /// Values of `Option.useSSL`. https://curl.se/libcurl/c/CURLOPT_USE_SSL.html
    enum TLSUse: Int {
        case none = 0  // CURLUSESSL_NONE
        case tryTLS = 1  // CURLUSESSL_TRY
        case all = 3  // CURLUSESSL_ALL
    }

    func set(_ option: Option, _ value: Int) throws(CurlError) {
        try check(dd_setopt_long(handle, option.raw, value))
    }

    func set(_ option: Option, _ value: Bool) throws(CurlError) {
        try check(dd_setopt_long(handle, option.raw, value ? 1 : 0))
    }

    func setLarge(_ option: Option, _ value: Int64) throws(CurlError) {
        try check(dd_setopt_off(handle, option.raw, curl_off_t(value)))
    }

    /// "The application does not have to keep the string around after setting this option."
    /// — https://curl.se/libcurl/c/curl_easy_setopt.html (strings are copied by libcurl).
    func set(_ option: Option, _ value: String?) throws(CurlError) {
        if let value {
            try check(dd_setopt_string(handle, option.raw, value))
        } else {
            try check(dd_setopt_pointer(handle, option.raw, nil))
        }
    }

    /// Lists are not copied by libcurl, so this handle keeps the current list of each option until the
    /// option is set again or the handle is freed. "libcurl does not copy the list, it needs to be kept
    /// around until after the transfer has completed." — https://curl.se/libcurl/c/CURLOPT_MAIL_RCPT.html
    func set(_ option: Option, list: [String]) throws(CurlError) {
        var head: UnsafeMutablePointer<curl_slist>? = nil
        for entry in list { head = curl_slist_append(head, entry) }
        let result = dd_setopt_slist(handle, option.raw, head)
        if let previous = lists.removeValue(forKey: option.raw.rawValue) { curl_slist_free_all(previous) }
        if let head { lists[option.raw.rawValue] = head }
        try check(result)
    }

    // MARK: Transfers

    /// Runs one transfer, streaming `upload` (if any) to the server and collecting what it
    /// returns. The server's protocol lines (SMTP replies, headers) go to `onHeaderLine`, one line
    /// at a time, line end included.
    ///
    /// Blocks the calling thread: call it from a thread of its own, never from the Swift
    /// concurrency pool.
    /// `beforeEnd` runs once, on this thread, before libcurl gets the last bytes of `upload`: for SMTP
    /// that is before the end of the message and its final ".", so the server has not taken it yet. When it
    /// returns false the transfer is aborted there (`CurlError.isAbortedByCallback`).
    func perform(
        upload: UnsafeRawBufferPointer? = nil, collectBody: Bool = false,
        onHeaderLine: ((UnsafeRawBufferPointer) -> Void)? = nil, beforeEnd: (() -> Bool)? = nil
    ) -> Result<TransferResult, CurlError> {
        let context = TransferContext(upload: upload, collectBody: collectBody, onHeaderLine: onHeaderLine)
        context.beforeEnd = beforeEnd
        let unmanaged = Unmanaged.passRetained(context)
        let pointer = unmanaged.toOpaque()
        defer { detachCallbacks(releasing: unmanaged) }
        errorBuffer[0] = 0
        _ = dd_setopt_pointer(handle, CURLOPT_READDATA, pointer)
        _ = dd_setopt_data_callback(handle, CURLOPT_READFUNCTION, upload == nil ? nil : curlRead)
        _ = dd_setopt_pointer(handle, CURLOPT_WRITEDATA, pointer)
        _ = dd_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, curlWrite)
        // "We pass all response-lines to the callback function registered for "headers". The response
        // lines can be seen as a kind of headers." (lib/pingpong.c, which runs SMTP's replies.)
        _ = dd_setopt_pointer(handle, CURLOPT_HEADERDATA, pointer)
        _ = dd_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, curlHeader)
        let code = curl_easy_perform(handle)
        var responseCode = 0
        _ = dd_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &responseCode)
        if code != CURLE_OK {
            return .failure(error(code, responseCode: responseCode))
        }
        var effective: UnsafeMutablePointer<CChar>? = nil
        _ = dd_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective)
        return .success(
            TransferResult(
                responseCode: responseCode, body: context.body,
                effectiveURL: effective.map { String(cString: $0) }))
    }

    /// Ends a transfer's hold on its callback context. libcurl may call back after a transfer: closing the
    /// cached session sends QUIT and reads "221 Bye" through the header callback. The callbacks stay set
    /// and see nil from now on; they must never see the context, which is released here.
    private func detachCallbacks<Context: AnyObject>(releasing context: Unmanaged<Context>) {
        _ = dd_setopt_pointer(handle, CURLOPT_READDATA, nil)
        _ = dd_setopt_pointer(handle, CURLOPT_WRITEDATA, nil)
        _ = dd_setopt_pointer(handle, CURLOPT_HEADERDATA, nil)
        context.release()
    }

    /// The reply code of the last transfer (SMTP or HTTP), 0 when none arrived.
    var lastResponseCode: Int {
        var value = 0
        _ = dd_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &value)
        return value
    }

    private func check(_ code: CURLcode) throws(CurlError) {
        if code != CURLE_OK { throw error(code, responseCode: 0) }
    }

    private func error(_ code: CURLcode, responseCode: Int) -> CurlError {
        let detail = String(cString: errorBuffer)
        let summary = String(cString: curl_easy_strerror(code))
        let message = detail.isEmpty || detail == summary ? summary : "\(summary): \(detail)"
        return CurlError(code: Int(code.rawValue), message: message)
    }
}

/// What a finished transfer produced.
struct TransferResult {
    var responseCode: Int
    var body: [UInt8]
    var effectiveURL: String?
}

/// State shared with the C callbacks of one transfer, passed as their `userdata`.
private final class TransferContext {
    let upload: UnsafeRawBufferPointer?
    var offset = 0
    var beforeEnd: (() -> Bool)?
    let collectBody: Bool
    var body: [UInt8] = []
    let onHeaderLine: ((UnsafeRawBufferPointer) -> Void)?

    init(upload: UnsafeRawBufferPointer?, collectBody: Bool, onHeaderLine: ((UnsafeRawBufferPointer) -> Void)?) {
        self.upload = upload
        self.collectBody = collectBody
        self.onHeaderLine = onHeaderLine
    }
}

/// "size_t read_callback(char *buffer, size_t size, size_t nitems, void *userdata); … Your function
/// must then return the actual number of bytes that it stored in that memory area. Returning 0
/// will signal end-of-file" — https://curl.se/libcurl/c/CURLOPT_READFUNCTION.html
private let curlRead: dd_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    guard let upload = context.upload, let base = upload.baseAddress else { return 0 }
    let length = min(size * count, upload.count - context.offset)
    // Before the last bytes are handed over: with the size announced (CURLOPT_INFILESIZE_LARGE) libcurl
    // may finish the upload without asking again ("We are completely uploaded and fine"), so waiting
    // for a read that returns 0 would be too late.
    if context.offset + length == upload.count, let beforeEnd = context.beforeEnd {
        context.beforeEnd = nil
        // "The read callback may return CURL_READFUNC_ABORT to stop the current operation immediately,
        // resulting in a CURLE_ABORTED_BY_CALLBACK error code from the transfer."
        // — https://curl.se/libcurl/c/CURLOPT_READFUNCTION.html
        if !beforeEnd() { return Int(CURL_READFUNC_ABORT) }
    }
    if length > 0 {
        UnsafeMutableRawPointer(buffer).copyMemory(from: base + context.offset, byteCount: length)
        context.offset += length
    }
    return length
}

/// "Your callback should return the number of bytes actually taken care of."
/// — https://curl.se/libcurl/c/CURLOPT_WRITEFUNCTION.html
private let curlWrite: dd_data_callback = { buffer, size, count, userdata in
    let length = size * count
    guard let buffer, let userdata else { return length }
    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    if context.collectBody {
        context.body.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: length))
    }
    return length
}

/// "This callback function gets invoked by libcurl as soon as it has received header data. … only
/// complete header lines are passed on to the callback." — https://curl.se/libcurl/c/CURLOPT_HEADERFUNCTION.html
private let curlHeader: dd_data_callback = { buffer, size, count, userdata in
    let length = size * count
    guard let buffer, let userdata else { return length }
    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    context.onHeaderLine?(UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}

// MARK: - HTTP(S) and file downloads (feeds)
//
// Kept apart from the transfer code above so that additions for other protocols merge cleanly.

/// What a finished download produced: the final response's status, headers and body.
struct DownloadResult {
    var responseCode: Int
    var body: [UInt8]
    /// Header lines of the final response only (those of redirects are dropped), without line ends.
    var headerLines: [String]
    var effectiveURL: String?

    /// The value of the first header named `name` (case-insensitive), trimmed.
    func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        for line in headerLines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].trimmingCharacters(in: .whitespaces).lowercased() == lowered {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}

/// Why a download stopped before the server finished.
enum DownloadLimit: Error {
    case tooLarge(limit: Int)
}

extension CurlEasy {
    /// Runs one download, collecting the body up to `maxBodyBytes` and the final response's headers.
    ///
    /// A body longer than the limit aborts the transfer: "If that amount differs from the amount passed
    /// to your callback function, it signals an error condition to the library. This causes the transfer
    /// to get aborted" — https://curl.se/libcurl/c/CURLOPT_WRITEFUNCTION.html
    /// (`CURLOPT_MAXFILESIZE_LARGE` alone only applies when the size is announced in advance.)
    ///
    /// Blocks the calling thread: call it from a thread of its own, never from the Swift concurrency pool.
    func download(maxBodyBytes: Int) -> Result<DownloadResult, any Error> {
        let context = DownloadContext(maxBodyBytes: maxBodyBytes)
        let unmanaged = Unmanaged.passRetained(context)
        let pointer = unmanaged.toOpaque()
        defer { detachCallbacks(releasing: unmanaged) }
        errorBuffer[0] = 0
        _ = dd_setopt_long(handle, CURLOPT_VERBOSE, 0)
        _ = dd_setopt_data_callback(handle, CURLOPT_READFUNCTION, nil)
        _ = dd_setopt_pointer(handle, CURLOPT_WRITEDATA, pointer)
        _ = dd_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, curlDownloadWrite)
        _ = dd_setopt_pointer(handle, CURLOPT_HEADERDATA, pointer)
        _ = dd_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, curlDownloadHeader)
        let code = curl_easy_perform(handle)
        if context.exceeded { return .failure(DownloadLimit.tooLarge(limit: maxBodyBytes)) }
        if code == CURLE_FILESIZE_EXCEEDED { return .failure(DownloadLimit.tooLarge(limit: maxBodyBytes)) }
        if code != CURLE_OK { return .failure(error(code, responseCode: 0)) }
        var responseCode = 0
        _ = dd_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &responseCode)
        var effective: UnsafeMutablePointer<CChar>? = nil
        _ = dd_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective)
        return .success(
            DownloadResult(
                responseCode: responseCode, body: context.body, headerLines: context.headerLines,
                effectiveURL: effective.map { String(cString: $0) }))
    }
}

extension CurlError {
    /// Redirects went past the limit set with `maxRedirects`.
    var isTooManyRedirects: Bool { CURLcode(UInt32(code)) == CURLE_TOO_MANY_REDIRECTS }
    /// The scheme is not among those allowed with `protocolsString`.
    var isUnsupportedProtocol: Bool { CURLcode(UInt32(code)) == CURLE_UNSUPPORTED_PROTOCOL }
    /// A file:// URL names no readable file.
    var isFileNotFound: Bool { CURLcode(UInt32(code)) == CURLE_FILE_COULDNT_READ_FILE }
}

/// State shared with the C callbacks of one download, passed as their `userdata`.
private final class DownloadContext {
    let maxBodyBytes: Int
    var body: [UInt8] = []
    var headerLines: [String] = []
    var exceeded = false

    init(maxBodyBytes: Int) { self.maxBodyBytes = maxBodyBytes }
}

private let curlDownloadWrite: dd_data_callback = { buffer, size, count, userdata in
    let length = size * count
    guard let buffer, let userdata else { return length }
    let context = Unmanaged<DownloadContext>.fromOpaque(userdata).takeUnretainedValue()
    if context.body.count + length > context.maxBodyBytes {
        context.exceeded = true
        return 0
    }
    context.body.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}

/// "This callback function gets invoked by libcurl as soon as it has received header data. The header
/// callback is called once for each header and only complete header lines are passed on to the
/// callback." Headers of every response in a redirect chain arrive here, so a status line starts afresh.
/// — https://curl.se/libcurl/c/CURLOPT_HEADERFUNCTION.html
private let curlDownloadHeader: dd_data_callback = { buffer, size, count, userdata in
    let length = size * count
    guard let buffer, let userdata else { return length }
    let context = Unmanaged<DownloadContext>.fromOpaque(userdata).takeUnretainedValue()
    var bytes = UnsafeRawBufferPointer(start: buffer, count: length)[...]
    // Trimmed as bytes: "\r\n" is one Character in Swift, so String.hasSuffix("\n") would not see it.
    while let last = bytes.last, last == 0x0A || last == 0x0D { bytes = bytes.dropLast() }
    let line = String(decoding: bytes, as: UTF8.self)
    if line.hasPrefix("HTTP/") { context.headerLines = [] }
    if !line.isEmpty { context.headerLines.append(line) }
    return length
}
