import ArgumentParser
import DigestCore
import DigestPostgres
import Foundation

extension DigestCommand {
    struct Db: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db",
            abstract: "The database itself: move an installation between SQLite and PostgreSQL.",
            subcommands: [Copy.self])

        struct Copy: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Copy every row of the configured database into a new, empty one.",
                discussion: """
                    --to takes a postgresql://user@host:port/dbname URL (the database must exist; its tables are \
                    created) or an SQLite file path (created). A target that holds any row is refused. The copy is \
                    one transaction on the target; each table's rows are counted on both sides before it commits. \
                    Stop cron and digest serve first: rows written to the source after the copy starts are not \
                    copied. Then point `database` in the configuration at the target.

                    The target's PostgreSQL password comes from PGPASSWORD, or the variable --password-env names.
                    """)

            @OptionGroup var options: ConfigOptions
            @Option(help: ArgumentHelp("The new database: a postgresql:// URL or an SQLite file.", valueName: "URL|FILE"))
            var to: String
            @Option(help: ArgumentHelp("The environment variable with the target's password.", valueName: "NAME"))
            var passwordEnv: String?

            func run() throws {
                let (configuration, source) = try options.open()
                let target = try Store.open(
                    PostgresSettings.isURL(to) ? to : URL(fileURLWithPath: to).standardizedFileURL.path,
                    passwordEnv: passwordEnv, create: true)
                defer { target.close() }
                guard target.path != source.path else {
                    throw CommandFailure("--to names the configured database itself (\(source.path))")
                }
                let report: StoreCopy.Report
                do {
                    report = try StoreCopy.copy(from: source, to: target)
                } catch {
                    throw CommandFailure("digest db copy: \(error)")
                }
                for (name, rows) in report.tables { print("\(name): \(rows) rows") }
                print(
                    "copied \(report.totalRows) rows from \(source.path) to \(target.path); counts match. Set "
                        + "\"database\" in \(configuration.file) to the new database to use it.")
            }
        }
    }
}
