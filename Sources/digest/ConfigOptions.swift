import ArgumentParser
import DigestCore
import DigestPostgres
import Foundation
import Logging

/// `--config` and `--verbose`, shared by every command.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "FILE"))
    var config: String?

    @Flag(name: .long, help: "Log what happens in detail.")
    var verbose = false

    /// The validated configuration; errors name the file, the key and what was expected.
    func load() throws -> Configuration {
        let path = Configuration.resolvePath(explicit: config, environment: ProcessInfo.processInfo.environment)
        return try Configuration.load(path: path)
    }

    /// The configuration and its existing database, opened and migrated (only `digest init` creates one).
    func open() throws -> (Configuration, Store) {
        let configuration = try load()
        return (configuration, try configuration.openStore(create: false))
    }

    var logger: Logger {
        var logger = Logger(label: "digest") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = verbose ? .debug : .notice
        return logger
    }
}

/// A failure worded for the person at the terminal; printed as is, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes to standard error, for progress and warnings that must not mix with output.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
