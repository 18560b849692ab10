import ArgumentParser
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
            print("database \(store.path) is ready (\(migrations.count) migrations applied)")
        }
    }
}
