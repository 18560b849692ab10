import Crypto
import Foundation
import Testing

@testable import DigestCore

/// Link tokens are HMAC-SHA256 through the system's libcrypto (`OpenSSLHMAC`), each MAC on a pooled context
/// re-initialised without its key: the same function as swift-crypto's `HMAC<SHA256>`, however often a context is
/// reused, split or shared between threads.
@Suite struct OpenSSLHMACTests {
    /// Random keys (shorter and longer than SHA-256's 64-byte block) and messages (empty to several blocks).
    @Test func agreesWithSwiftCryptoForRandomKeysAndMessages() {
        var generator = SystemRandomNumberGenerator()
        for keyLength in [16, 31, 64, 65, 200] {
            let key = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let hmac = OpenSSLHMAC(key: key)
            // One pooled context, reused for every message: a reuse that kept the last message's state would differ.
            for length in [0, 1, 40, 55, 56, 63, 64, 65, 200, 1000] {
                let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let expected = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
                #expect(hmac.code(message) == expected, "key \(keyLength) bytes, message \(length) bytes")
                let cut = length / 3
                #expect(hmac.code(Array(message[..<cut]), Array(message[cut...])) == expected, "split at \(cut)")
            }
        }
    }

    /// Eight threads MAC at once through one key: each gets its own context, and every answer is right.
    @Test func contextsAreNotSharedBetweenThreads() async {
        let key = Array("a link secret of some length".utf8)
        let hmac = OpenSSLHMAC(key: key)
        let wrong = await withTaskGroup(of: Int.self) { group in
            for thread in 0..<8 {
                group.addTask {
                    var wrong = 0
                    for index in 0..<2_000 {
                        let message = Array("vote|20261124d-\(index)-\(thread)".utf8)
                        let expected = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
                        if hmac.code(message) != expected { wrong += 1 }
                    }
                    return wrong
                }
            }
            return await group.reduce(0, +)
        }
        #expect(wrong == 0)
    }

    /// The tokens links carry did not change with the library: a token made before (by swift-crypto) still verifies.
    @Test func linkTokensAreTheSameAsBefore() throws {
        let signer = try LinkSigner(secret: "test-secret-0123456789")
        // The MAC as swift-crypto, which made every token until now, computes it.
        let expected = "vote|20261124d-7-42"
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("fingerprint\n\(expected)".utf8), using: SymmetricKey(data: Array("test-secret-0123456789".utf8)))
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        #expect(signer.fingerprint(expected, length: 64) == hex)
        #expect(signer.fingerprint(expected, length: 11) == String(hex.prefix(11)))
        let vote = DigestVote(
            edition: EditionReference(date: Day(year: 2026, month: 11, day: 24), kind: .daily), itemID: 7, subscriberID: 42)
        let token = DigestVoteLink(signer: signer).token(for: vote)
        #expect(token == "20261124d-7-42-\(hex.prefix(12))")
        #expect(DigestVoteLink(signer: signer).vote(in: token) == vote)
    }
}
