import DigestCore
import Foundation

extension Store {
    /// Opens `database` as the configuration names it: a `postgresql://` (or `postgres://`) URL, or a
    /// file path for SQLite. A PostgreSQL password comes from `PGPASSWORD`, or from the environment
    /// variable `passwordEnv` names. With `create` false a missing SQLite file is refused; a PostgreSQL
    /// database must exist already (its tables are created by the migrations either way).
    public static func open(_ database: String, passwordEnv: String? = nil, create: Bool = true) throws(StoreError)
        -> Store
    {
        guard PostgresSettings.isURL(database) else { return try Store(path: database, create: create) }
        let settings: PostgresSettings
        do {
            settings = try PostgresSettings(url: database, password: PostgresSettings.password(env: passwordEnv))
        } catch {
            throw StoreError(path: PostgresSettings.redacted(database), underlying: error)
        }
        let opened: PostgresDatabase
        do {
            opened = try PostgresDatabase(settings: settings)
        } catch {
            throw StoreError(path: settings.description, underlying: error)
        }
        return try Store(database: opened)
    }
}

extension Configuration {
    /// The configuration's `database`: an SQLite file, or PostgreSQL with the password from
    /// `databasePasswordEnv` (or `PGPASSWORD`).
    public func openStore(create: Bool) throws(StoreError) -> Store {
        try Store.open(database, passwordEnv: databasePasswordEnv, create: create)
    }
}
