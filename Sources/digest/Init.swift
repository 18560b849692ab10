import ArgumentParser
import Foundation
import DigestCore
import DigestPostgres

extension DigestCommand {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the database, or bring an existing one up to date. Safe to run again.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let configuration = try options.load()
            let store = try configuration.openStore(create: true)
            let migrations = try store.appliedMigrations()
            // The count is the schema's, not this run's: a second `init` applies none and says the same.
            print("database \(store.path) is ready: its schema has all \(migrations.count) migrations of this version")
            // Catalogs are not the database's business, but init is where a new site looks: say what is missing.
            let problems = DigestCore.Languages.check(templates: configuration.templates, site: configuration.site)
            for problem in problems { printError("warning: \(problem)") }
            if !problems.isEmpty {
                printError("warning: \(problems.count) catalog problem(s); `digest languages check` lists them again")
            }
        }
    }
}
