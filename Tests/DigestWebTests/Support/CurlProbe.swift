import DigestTestSupport
import Foundation

/// One HTTP request made by the `curl` program, which also times it: the time is the server's answer as
/// a client sees it, whatever keeps this test process busy meanwhile (a full suite shares two cores, and
/// an await here may resume late; curl's own clock does not).
struct CurlProbe {
    var status: Int
    /// From the start of the connection to the last byte (curl's `time_total`).
    var seconds: Double
    /// Response header fields, names lower-cased.
    var headers: [String: String]
    var body: String

    static func request(
        _ url: String, method: String = "GET", headers: [String: String] = [:], form: String? = nil,
        timeout: Double = 30
    ) async throws -> CurlProbe {
        let folder = TemporaryDirectory("curl")
        let (bodyFile, headerFile) = (folder.file("body"), folder.file("headers"))
        var arguments = [
            "-s", "-X", method, "-o", bodyFile, "-D", headerFile, "-w", "%{http_code} %{time_total}",
            "--max-time", "\(timeout)",
        ]
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        if let form { arguments += ["--data-raw", form] }
        let output = try await Programs.output("curl", arguments + [url])
        let words = output.split(separator: " ")
        guard words.count == 2, let status = Int(words[0]), let seconds = Double(words[1]) else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "curl printed \(output)"])
        }
        var fields: [String: String] = [:]
        for line in ((try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? "").split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
        return CurlProbe(status: status, seconds: seconds, headers: fields, body: body)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
