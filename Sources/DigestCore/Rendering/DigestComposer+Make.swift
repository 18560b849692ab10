import Foundation

extension DigestComposer {
    /// The composer for `configuration`: loads the templates and reads the link-signing secret
    /// from the environment variable named by `web.secretEnv`.
    public static func make(
        configuration: Configuration, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> DigestComposer {
        let templates = try await DigestTemplates(folder: configuration.templates, site: configuration.site)
        let signer = try LinkSigner(environmentVariable: configuration.web.secretEnv, environment: environment)
        return try DigestComposer(configuration: configuration, templates: templates, signer: signer)
    }
}
