import Foundation

/// The messages under the paths an import is given: a message file, an mbox file, or a Maildir folder (its `new/`
/// messages, each moved to `cur/` once applied). One walker for `digest inbound import` and `digest bounces import`.
enum InboundFiles {
    /// Calls `apply` with each message's bytes and a label that says where it came from (`file`, `mbox #3`).
    static func forEach(
        _ paths: [String], _ apply: (_ raw: [UInt8], _ source: String) throws -> Void
    ) throws {
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw BounceImportError("\(path) does not exist (expected a message file, an mbox file or a Maildir)")
            }
            if isDirectory.boolValue {
                try forEachInMaildir(path, apply)
            } else {
                let data: [UInt8]
                do { data = Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                    throw BounceImportError("\(path) cannot be read: \(error.localizedDescription)")
                }
                let messages = Mbox.isMbox(data) ? Mbox.split(data) : [data]
                for (index, message) in messages.enumerated() {
                    try apply(message, messages.count > 1 ? "\(path) #\(index + 1)" : path)
                }
            }
        }
    }

    private static func forEachInMaildir(_ path: String, _ apply: (_ raw: [UInt8], _ source: String) throws -> Void) throws {
        let manager = FileManager.default
        let new = path + "/new"
        guard manager.fileExists(atPath: new), manager.fileExists(atPath: path + "/cur") else {
            throw BounceImportError("\(path) is a folder but not a Maildir (it needs new/ and cur/)")
        }
        let names = try manager.contentsOfDirectory(atPath: new).filter { !$0.hasPrefix(".") }.sorted()
        for name in names {
            let file = "\(new)/\(name)"
            guard let data = manager.contents(atPath: file) else { continue }  // taken by another reader meanwhile
            try apply(Array(data), file)
            // Maildir: a message that has been seen moves to cur/ with an info suffix
            // (https://cr.yp.to/proto/maildir.html: "cur/... :2,S").
            let base = name.split(separator: ":", maxSplits: 1).first.map(String.init) ?? name
            do {
                try manager.moveItem(atPath: file, toPath: "\(path)/cur/\(base):2,S")
            } catch where !manager.fileExists(atPath: file) {
                // Another import running at the same time moved it first; it was applied once.
            } catch {
                throw BounceImportError("cannot move \(file) to cur/: \(error.localizedDescription)")
            }
        }
    }
}
