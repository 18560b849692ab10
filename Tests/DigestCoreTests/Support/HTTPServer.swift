import Foundation

/// A small HTTP server on 127.0.0.1, a Python process serving the files of a folder, for tests
/// that must cross a real socket. It picks its own free port (binding port 0) and reports it, so
/// parallel tests never race for one.
///
/// Besides files it answers:
/// - conditional GET: each file has an ETag (its SHA-1) and a Last-Modified (its mtime); a matching
///   `If-None-Match`, or else `If-Modified-Since`, gets 304;
/// - `gzip` when the client accepts it;
/// - `/redirect/PATH` → 302 to `/PATH`; `/loop` → 302 to itself; `/status/N` → status N;
/// - a missing file → 404;
/// - `Content-Type: application/xml`, or the text of a file `NAME.content-type` beside `NAME`.
/// Every request is appended to `requests.log` in the folder: `METHOD PATH inm=… ims=… ae=…`.
final class HTTPTestServer: @unchecked Sendable {
    let root: String
    let port: Int
    private let process: Process

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func url(_ path: String) -> String { baseURL + "/" + path }

    /// The request lines logged so far.
    var requests: [String] {
        ((try? String(contentsOfFile: root + "/requests.log", encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    init(root: String) throws {
        self.root = root
        let script = root + "/.server.py"
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", script, root]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try ChildProcess.spawnLock.withLock { try process.run() }
        self.process = process
        // The first line is "PORT <n>" once the socket listens.
        var text = ""
        while !text.contains("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).prefix(while: { $0.isNumber })) else {
            kill(process.processIdentifier, SIGKILL)
            throw HTTPTestServerError(message: "the test HTTP server did not start: \(text)")
        }
        self.port = port
    }

    deinit {
        // SIGKILL, not terminate(): children launched by Foundation inherit a signal mask that blocks
        // SIGTERM, so the servers outlived the tests. No waitUntilExit(): off the main thread it spins
        // a run loop that may never return on Linux, and Foundation reaps the child on its own.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    private static let script = #"""
        import email.utils, gzip, hashlib, http.server, os, sys
        root = sys.argv[1]

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, code, body=b"", headers=()):
                self.send_response(code)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path = self.path.split("?")[0]
                with open(os.path.join(root, "requests.log"), "a") as log:
                    log.write("GET %s inm=%s ims=%s ae=%s\n" % (path, self.headers.get("If-None-Match", "-"),
                        self.headers.get("If-Modified-Since", "-"), self.headers.get("Accept-Encoding", "-")))
                if path.startswith("/redirect/"):
                    return self.reply(302, headers=[("Location", "/" + path[len("/redirect/"):])])
                if path == "/loop":
                    return self.reply(302, headers=[("Location", "/loop")])
                if path.startswith("/status/"):
                    return self.reply(int(path[len("/status/"):]), b"status page")
                file = os.path.join(root, path.lstrip("/"))
                if not os.path.isfile(file):
                    return self.reply(404, b"not found")
                data = open(file, "rb").read()
                etag = '"%s"' % hashlib.sha1(data).hexdigest()
                modified = email.utils.formatdate(os.path.getmtime(file), usegmt=True)
                validators = [("ETag", etag), ("Last-Modified", modified)]
                match = self.headers.get("If-None-Match")
                since = self.headers.get("If-Modified-Since")
                if (match is not None and match == etag) or (match is None and since == modified):
                    self.send_response(304)
                    for name, value in validators:
                        self.send_header(name, value)
                    self.end_headers()
                    return
                content_type = "application/xml"
                if os.path.isfile(file + ".content-type"):
                    content_type = open(file + ".content-type").read().strip()
                headers = validators + [("Content-Type", content_type)]
                if "gzip" in self.headers.get("Accept-Encoding", ""):
                    data = gzip.compress(data)
                    headers.append(("Content-Encoding", "gzip"))
                self.reply(200, data, headers)

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print("PORT %d" % server.server_address[1], flush=True)
        server.serve_forever()
        """#
}

struct HTTPTestServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
