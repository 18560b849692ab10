import ArgumentParser
import DigestCore
import Foundation

extension DigestCommand {
    struct Dkim: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dkim",
            abstract: "DKIM: the DNS records that publish the signing keys of mail.dkim.",
            subcommands: [DNS.self])
    }
}

extension DigestCommand.Dkim {
    struct DNS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dns",
            abstract: "Print the TXT record of each mail.dkim selector, in zone-file form.",
            discussion: """
                Publish each record at SELECTOR._domainkey.DOMAIN before the first signed mail goes out; \
                receivers look the public key up there. Every key is read and checked first: a key that \
                cannot be used is named with its file.
                """)

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let configuration = try options.load()
            guard let signer = try DKIMSigner(configuration: configuration.mail.dkim) else {
                throw CommandFailure(
                    "\(configuration.file): mail.dkim is empty: add {\"domain\", \"selector\", \"privateKeyFile\"} "
                        + "entries (keys from `openssl genrsa 2048` or `openssl genpkey -algorithm ed25519`)")
            }
            let fromDomain = (try? Mailbox(parsing: configuration.mail.from))?.address.asciiDomain.lowercased() ?? ""
            for (key, line) in zip(signer.keys, signer.zoneFileRecords()) {
                print("; \(key.algorithm.tag), \(key.file)")
                print(line)
                // DMARC (RFC 7489 §3.1.1) passes on DKIM only when d= is the From domain or shares its
                // organizational domain; a parent domain of From is the common aligned case.
                let domain = key.domain.lowercased()
                if fromDomain != domain && !fromDomain.hasSuffix("." + domain) && !domain.hasSuffix("." + fromDomain) {
                    printError(
                        "warning: d=\(key.domain) is neither the From domain \(fromDomain) (mail.from) nor its parent "
                            + "or subdomain: DMARC counts this signature only if both share an organizational domain")
                }
            }
        }
    }
}
