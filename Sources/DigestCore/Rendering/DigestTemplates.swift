import Foundation
import Mustache

/// The user's templates folder, loaded and checked once: `digest.html.mustache`,
/// `digest.txt.mustache` and `subject.txt.mustache`, and the catalog of each language of the site
/// (`lang/CODE.txt`).
public struct DigestTemplates: Sendable {
    static let required = ["digest.html", "digest.txt", "subject.txt"]

    let library: MustacheLibrary
    public let folder: String
    /// The site's languages, each with its catalog.
    public let languages: Languages

    /// Loads every template of `folder` and the catalogs of `site.languages` (nil: English only); a syntax error
    /// names the file and line.
    public init(folder: String, site: Configuration.Site? = nil) async throws(TemplateError) {
        self.folder = folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TemplateError(file: folder, line: nil, message: "the templates folder does not exist (config key `templates`)")
        }
        library = try await MustacheLibrary.load(folder: folder, required: Self.required)
        languages = try Languages.load(templates: folder, site: site)
    }

    func render(_ view: DigestView, _ name: String) -> String {
        library.render(view, withTemplate: name) ?? ""
    }
}

/// A template that cannot be used: which file, which line, what is wrong.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)"
    }
}

extension MustacheLibrary {
    /// Loads every `.mustache` file under `folder`; a syntax error names the file and line, and a
    /// template of `required` that is not there is named too.
    public static func load(folder: String, required: [String]) async throws(TemplateError) -> MustacheLibrary {
        let library: MustacheLibrary
        do {
            library = try await MustacheLibrary(directory: folder)
        } catch let error as MustacheLibrary.ParserError {
            throw TemplateError(
                file: error.filename, line: error.context.lineNumber,
                message: "\(error.error) near \"\(error.context.line.trimmingCharacters(in: .whitespaces))\"")
        } catch {
            throw TemplateError(file: folder, line: nil, message: "\(error)")
        }
        for name in required where library.getTemplate(named: name) == nil {
            throw TemplateError(file: "\(folder)/\(name).mustache", line: nil, message: "is missing")
        }
        return library
    }
}
