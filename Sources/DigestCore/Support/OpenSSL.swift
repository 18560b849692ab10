import Foundation
import Synchronization
internal import COpenSSL

// The one file that imports COpenSSL. Everything else speaks `OpenSSLRSAKey`, `OpenSSLHMAC` and Swift types.
//
// Why the system's libcrypto for RSA: on this project's machines OpenSSL 3 signs RSA-2048 in about half the
// time BoringSSL (swift-crypto) takes, because it has a code path for CPUs with AVX-512 IFMA (RSAZ, both CRT
// halves at once) that BoringSSL lacks; see BENCHMARKS.md ("DKIM signing"). It is the libcrypto that
// libcurl4-openssl already loads into the process. Ed25519 stays on swift-crypto.

/// An RSA private key held by OpenSSL, read once from PEM, that signs SHA-256 digests with RSASSA-PKCS1-v1_5
/// (DKIM's `rsa-sha256`, RFC 6376 §3.3.1) on any number of threads at once.
///
/// One `EVP_PKEY` is shared; each signature runs on an `EVP_PKEY_CTX` of its own, taken from a small pool:
/// "two threads can calculate a signature using two different EVP_PKEY_CTX objects"
/// — https://docs.openssl.org/3.0/man7/openssl-threads/ — and a context, set up once, signs again and
/// again: "The function EVP_PKEY_sign() can be called more than once on the same context if several
/// operations are performed using the same parameters." — https://docs.openssl.org/3.0/man3/EVP_PKEY_sign/
final class OpenSSLRSAKey: @unchecked Sendable {
    // @unchecked: `key` is never modified after init (shared read-only, as the quote above allows); the
    // contexts are only touched by the thread that took one out of `idle`.
    private let key: OpaquePointer
    private let idle = Mutex<[SigningContext]>([])
    /// The modulus size.
    let bits: Int
    /// The signature size in bytes (the modulus size).
    let signatureSize: Int
    /// The public key as a DER SubjectPublicKeyInfo, what DKIM's `p=` publishes (RFC 6376 §3.6.1).
    let publicKeyDER: [UInt8]

    /// Why a PEM text gives no RSA key.
    enum ReadError: Error, Equatable {
        /// Not a private key OpenSSL can read (or one that needs a passphrase).
        case unreadable
        /// A private key of another algorithm (Ed25519, EC…).
        case notRSA
    }

    /// Reads a private key as `openssl genrsa` writes it, PKCS #8 or PKCS #1 ("traditional") PEM.
    ///
    /// "The read functions transparently handle traditional and PKCS#8 format encrypted and unencrypted
    /// keys." "The cb argument is the callback to use when querying for the pass phrase used for encrypted
    /// PEM structures" — https://docs.openssl.org/3.0/man3/PEM_read_bio_PrivateKey/ — the callback here
    /// answers with no passphrase at once (the default one would ask on the terminal): a key that needs one
    /// is unreadable.
    init(pem: String) throws(ReadError) {
        let bytes = Array(pem.utf8)
        let read: OpaquePointer? = bytes.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        ERR_clear_error()
        guard let read else { throw .unreadable }
        guard EVP_PKEY_get_base_id(read) == EVP_PKEY_RSA else {
            EVP_PKEY_free(read)
            throw .notRSA
        }
        key = read
        bits = Int(EVP_PKEY_get_bits(read))
        signatureSize = Int(EVP_PKEY_get_size(read))
        // i2d_PUBKEY writes the SubjectPublicKeyInfo. "If ppout is not NULL, it writes the DER encoded data
        // to the buffer at *ppout, and increments it to point after the data just written. If the return
        // value is negative an error occurred, otherwise it returns the length of the encoded data."
        // — https://docs.openssl.org/3.0/man3/d2i_X509/
        let length = Int(i2d_PUBKEY(read, nil))
        publicKeyDER = [UInt8](unsafeUninitializedCapacity: max(0, length)) { buffer, count in
            var out = buffer.baseAddress
            count = max(0, Int(i2d_PUBKEY(read, &out)))
        }
    }

    deinit {
        idle.withLock { $0.removeAll() }
        EVP_PKEY_free(key)
    }

    /// The PKCS #1 v1.5 signature of a SHA-256 `digest` (32 bytes): the DigestInfo is added by OpenSSL, as
    /// the context's signature digest is set to SHA-256.
    func signature(forSHA256 digest: [UInt8]) -> [UInt8] {
        let context = idle.withLock { $0.popLast() } ?? SigningContext(key)
        defer { idle.withLock { $0.append(context) } }
        return context.sign(digest, size: signatureSize)
    }

    /// One `EVP_PKEY_CTX` set up for RSA-PKCS1-SHA256 signing; freed in `deinit`. @unchecked Sendable: it
    /// moves between threads through the pool, and only the thread that took it out uses it.
    private final class SigningContext: @unchecked Sendable {
        let context: OpaquePointer

        init(_ key: OpaquePointer) {
            // Each step fails only when memory is exhausted or the key is not RSA, which `init(pem:)` ruled out.
            guard let context = EVP_PKEY_CTX_new(key, nil) else { fatalError("EVP_PKEY_CTX_new failed: out of memory") }
            guard EVP_PKEY_sign_init(context) == 1,
                EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1,
                EVP_PKEY_CTX_set_signature_md(context, EVP_sha256()) == 1
            else { fatalError("cannot set up RSA-SHA256 signing: \(OpenSSLRSAKey.lastError())") }
            self.context = context
        }

        deinit { EVP_PKEY_CTX_free(context) }

        func sign(_ digest: [UInt8], size: Int) -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                // "If sig is not NULL then before the call the siglen parameter should contain the length
                // of the sig buffer" — https://docs.openssl.org/3.0/man3/EVP_PKEY_sign/
                var length = size
                let result = digest.withUnsafeBufferPointer { digest in
                    EVP_PKEY_sign(context, buffer.baseAddress, &length, digest.baseAddress, digest.count)
                }
                // A key that loaded signs a 32-byte digest unless memory is exhausted.
                guard result == 1 else { fatalError("EVP_PKEY_sign failed: \(OpenSSLRSAKey.lastError())") }
                count = length
            }
        }
    }

    /// OpenSSL's text for the oldest error queued on this thread.
    static func lastError() -> String {
        let code = ERR_get_error()
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        ERR_clear_error()
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// HMAC-SHA256 under one key, on any number of threads at once: the MACs of link tokens (a message of a send
/// holds about twenty: one per item's vote link, the unsubscribe and preferences links, the Message-ID).
///
/// Why not swift-crypto's `HMAC<SHA256>`: it is generic over the hash function and not inlinable, so every
/// update and finalize went through unspecialized code, about 1.2 µs a MAC of 40 bytes against 0.4 µs here
/// (BENCHMARKS.md); the result is the same function (RFC 2104), checked against swift-crypto by the tests.
///
/// Each MAC runs on an `EVP_MAC_CTX` of its own, taken from a small pool as `OpenSSLRSAKey` takes its signing
/// contexts, keyed once and re-initialised for each MAC without the key: "HMAC_Init_ex() initializes or reuses
/// a HMAC_CTX structure to use the hash function evp_md and key key. If both are NULL, or if key is NULL and
/// evp_md is the same as the previous call, then the existing key is reused."
/// — https://docs.openssl.org/3.0/man3/HMAC/ — which the HMAC provider's init does for a NULL key ("When the
/// context is reinitialized, i.e. the same key should be used", https://github.com/openssl/openssl/pull/18100,
/// merged into 3.0).
final class OpenSSLHMAC: @unchecked Sendable {
    // @unchecked: `algorithm` and `key` are never modified after init; a context is only touched by the thread
    // that took it out of `idle`.
    private let algorithm: OpaquePointer
    private let key: [UInt8]
    private let idle = Mutex<[Context]>([])
    /// The size of a MAC.
    static let size = 32

    init(key: [UInt8]) {
        // "EVP_MAC_fetch() fetches an implementation of a MAC algorithm, given a library context libctx and a set
        // of properties props." — https://docs.openssl.org/3.0/man3/EVP_MAC/ — HMAC is in the default provider.
        guard let algorithm = EVP_MAC_fetch(nil, "HMAC", nil) else {
            fatalError("EVP_MAC_fetch(HMAC) failed: \(OpenSSLRSAKey.lastError())")
        }
        self.algorithm = algorithm
        self.key = key
    }

    deinit {
        idle.withLock { $0.removeAll() }
        EVP_MAC_free(algorithm)
    }

    /// The MAC of `first` followed by `second`.
    func code(_ first: [UInt8], _ second: [UInt8] = []) -> [UInt8] {
        let context = idle.withLock { $0.popLast() } ?? Context(algorithm, key: key)
        defer { idle.withLock { $0.append(context) } }
        return context.code(first, second)
    }

    /// One `EVP_MAC_CTX` keyed for HMAC-SHA256; freed in `deinit`. @unchecked Sendable: it moves between threads
    /// through the pool, and only the thread that took it out uses it.
    private final class Context: @unchecked Sendable {
        let context: OpaquePointer

        init(_ algorithm: OpaquePointer, key: [UInt8]) {
            guard let context = EVP_MAC_CTX_new(algorithm) else { fatalError("EVP_MAC_CTX_new failed: out of memory") }
            // "digest": "Sets the name of the underlying digest to be used."
            // — https://docs.openssl.org/3.0/man7/EVP_MAC-HMAC/
            let keyed = "digest".withCString { name in
                "SHA256".withCString { digest in
                    var parameters = [
                        OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0),
                        OSSL_PARAM_construct_end(),
                    ]
                    return key.withUnsafeBufferPointer { key in
                        EVP_MAC_init(context, key.baseAddress, key.count, &parameters)
                    }
                }
            }
            guard keyed == 1 else { fatalError("cannot set up HMAC-SHA256: \(OpenSSLRSAKey.lastError())") }
            self.context = context
        }

        deinit { EVP_MAC_CTX_free(context) }

        private func update(_ bytes: [UInt8]) -> Bool {
            bytes.isEmpty || bytes.withUnsafeBufferPointer { EVP_MAC_update(context, $0.baseAddress, $0.count) } == 1
        }

        func code(_ first: [UInt8], _ second: [UInt8]) -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: OpenSSLHMAC.size) { buffer, count in
                var length = 0
                // A keyed context re-initialises, takes bytes and finishes unless memory is exhausted.
                guard EVP_MAC_init(context, nil, 0, nil) == 1, update(first), update(second),
                    // "outsize ... is the size of the out buffer" — https://docs.openssl.org/3.0/man3/EVP_MAC/
                    EVP_MAC_final(context, buffer.baseAddress, &length, OpenSSLHMAC.size) == 1,
                    length == OpenSSLHMAC.size
                else { fatalError("HMAC-SHA256 failed: \(OpenSSLRSAKey.lastError())") }
                count = length
            }
        }
    }
}
