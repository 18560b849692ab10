import ArgumentParser
import DigestCore

extension DigestCommand {
    struct Languages: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The reader languages (site.languages) and their catalogs under templates/lang/.",
            subcommands: [Check.self], defaultSubcommand: Check.self)
    }
}

extension DigestCommand.Languages {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report what each language's catalog is missing; exit 1 when any catalog is incomplete.",
            discussion: """
                Every key that another catalog of site.languages has, or that a template reads as {{t.KEY}}, \
                must be in each catalog (templates/lang/CODE.txt); a missing one shows the site language's text \
                to readers of that language. A {placeholder} the program does not fill is reported too.
                """)

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let configuration = try options.load()
            let problems = DigestCore.Languages.check(templates: configuration.templates, site: configuration.site)
            for problem in problems { print(problem) }
            let codes = configuration.site.languages.joined(separator: ", ")
            if problems.isEmpty {
                print("languages \(codes): every catalog is complete")
            } else {
                print("languages \(codes): \(problems.count) problem\(problems.count == 1 ? "" : "s")")
                throw ExitCode.failure
            }
        }
    }
}
