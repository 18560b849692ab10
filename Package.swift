// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "DailyDigest",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "digest", targets: ["digest"]),
        .library(name: "DigestCore", targets: ["DigestCore"]),
        .library(name: "DigestWeb", targets: ["DigestWeb"]),
        .library(name: "DigestPostgres", targets: ["DigestPostgres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        // 4.0 or later: Ed25519 PEM keys (DKIM) are read by its CryptoExtras.
        .package(url: "https://github.com/apple/swift-crypto.git", "4.0.0"..<"5.0.0"),
        // Already in the graph through Hummingbird; named here because DigestWeb imports them.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // The shared store for more than one machine (`database` as a postgresql:// URL).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        // Already in the graph through postgres-nio; named here for the TLS settings of `sslmode`.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        // Already in the graph through Hummingbird; named here for the HTTP parts `ConnectionGuard` sees.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // The system's OpenSSL libcrypto (the one libcurl4-openssl loads): RSA-SHA256 DKIM signatures at the
        // speed of `openssl speed rsa2048`, about twice BoringSSL's on CPUs with AVX-512 IFMA (BENCHMARKS.md).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // uchardet, the freedesktop.org encoding detector: the encoding of feeds that declare none.
        .systemLibrary(
            name: "CUchardet",
            pkgConfig: "uchardet",
            providers: [.apt(["libuchardet-dev"])]
        ),
        .target(
            name: "DigestCore",
            dependencies: [
                "CCurl",
                "COpenSSL",
                "CUchardet",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                // Ed25519 PEM keys for DKIM signatures (RFC 8463); RSA signs through COpenSSL.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // The shared store: `SQLDatabase` over PostgreSQL (postgres-nio), and `Store.open`, which picks
        // SQLite or PostgreSQL from the configuration's `database`. DigestCore knows only the contract.
        .target(
            name: "DigestPostgres",
            dependencies: [
                "DigestCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "DigestWeb",
            dependencies: [
                "DigestCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "digest",
            dependencies: [
                "DigestCore",
                "DigestPostgres",
                "DigestWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test servers and folders shared by the test targets (one spawn lock for the whole test process).
        .target(name: "DigestTestSupport", path: "Tests/DigestTestSupport"),
        // `make bench` only: rendering and ranking measurements, kept out of `digest`.
        .executableTarget(
            name: "digest-bench",
            dependencies: [
                "DigestCore", "DigestPostgres",
                // `digest-bench dkim` times swift-crypto's (BoringSSL's) RSA sign next to the OpenSSL one digest uses.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "DigestCoreTests",
            dependencies: [
                "DigestCore", "DigestPostgres", "DigestTestSupport", .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Golden"]
        ),
        .testTarget(
            name: "DigestWebTests",
            dependencies: [
                "DigestWeb",
                "DigestPostgres",
                "DigestTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            // The Selenium scripts the browser tests run; the charts' golden SVG files.
            exclude: ["Browser", "Golden"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// As Hummingbird does: every existential spelled `any`, and a member used only where its module is imported.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
    ]
}
