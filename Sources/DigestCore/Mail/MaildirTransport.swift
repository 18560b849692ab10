import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes each message as one file in a Maildir: first into `tmp/`, then renamed into `new/`, so a
/// reader (mutt, any Maildir client) never sees half a message. The embedded default transport.
///
/// Files hold local line ends (LF), as an MTA's local delivery writes them: the CRLF of the wire
/// form would show as `^M` in mutt and confuse tools such as munpack. The wire form itself (SMTP,
/// `preview --format eml`) stays CRLF.
///
/// Names follow the Maildir convention "time.pid_counter_random.hostname"
/// (https://cr.yp.to/proto/maildir.html: "Unless you're writing messages to disk at a rate of several
/// per second, … name the file time.pid.host"; the counter and random part keep names unique at any rate
/// and across threads).
public struct MaildirTransport: MailTransport {
    public let path: String
    public let connections: Int

    /// Creates `cur/`, `new/` and `tmp/` under `path` as needed.
    public init(path: String, connections: Int = 1) throws(MailTransportError) {
        self.path = path
        self.connections = max(1, connections)
        for folder in ["", "/cur", "/new", "/tmp"] {
            do {
                try FileManager.default.createDirectory(
                    atPath: path + folder, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw MailTransportError(
                    .maildirUnavailable, "cannot create the Maildir folder \(path + folder) (mail.maildir): \(error)")
            }
        }
    }

    public func makeConnection() throws -> any MailConnection {
        MaildirConnection(path: path)
    }

    /// A name no other delivery (thread, process or machine sharing the folder) will pick.
    static func uniqueName(now: Date = Date()) -> String {
        let seconds = Int(now.timeIntervalSince1970)
        let count = counter.withLock { value -> Int in
            value += 1
            return value
        }
        let random = String(UInt32.random(in: .min ... .max), radix: 16)
        return "\(seconds).\(getpid())_\(count)_\(random).\(host)"
    }

    /// "replace / with \057 and : with \072" in the host part — https://cr.yp.to/proto/maildir.html
    private static let host: String = {
        let name = ProcessInfo.processInfo.hostName
        return name.replacingOccurrences(of: "/", with: "\\057").replacingOccurrences(of: ":", with: "\\072")
    }()

    private static let counter = LockedValue(0)
}

final class MaildirConnection: MailConnection {
    let path: String
    let isUsable = true

    init(path: String) { self.path = path }

    func send(_ message: MailMessage) -> SendOutcome {
        let name = MaildirTransport.uniqueName()
        let temporary = "\(path)/tmp/\(name)"
        let final = "\(path)/new/\(name)"
        // O_EXCL: never overwrite a file another writer owns; the unique name makes a clash a bug.
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return failure("cannot create \(temporary)", errno) }
        var written = 0
        let writeError: Int32? = Self.localLineEnds(message.data).withUnsafeBytes { bytes in
            while written < bytes.count {
                let result = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += result
            }
            return nil
        }
        // The message must be on disk before it appears in new/.
        let syncError = writeError == nil && fsync(descriptor) != 0 ? errno : nil
        close(descriptor)
        if let error = writeError ?? syncError {
            unlink(temporary)
            return failure("cannot write \(temporary)", error)
        }
        // "rename() … If newpath already exists, it will be atomically replaced" — rename(2); the name is unique.
        guard rename(temporary, final) == 0 else {
            let error = errno
            unlink(temporary)
            return failure("cannot move \(temporary) into new/", error)
        }
        return .sent(reply: "maildir: new/\(name)")
    }

    /// `data` with each CRLF turned into LF (a lone CR or LF is kept as it is).
    static func localLineEnds(_ data: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(data.count)
        var index = data.startIndex
        while index < data.endIndex {
            let byte = data[index]
            if byte == 0x0D, index + 1 < data.endIndex, data[index + 1] == 0x0A {
                index += 1
                continue
            }
            result.append(byte)
            index += 1
        }
        return result
    }

    /// A full or failing disk may recover; the message stays deferred rather than failed for the reader.
    private func failure(_ what: String, _ code: Int32) -> SendOutcome {
        .transient(reason: "maildir: \(what): \(String(cString: strerror(code)))")
    }
}
