import Foundation

/// The sign-up form's arithmetic question ("2 + 10 =", like Drupal CAPTCHA's math challenge): two
/// numbers whose sum is at most 20, with a token that carries the answer's MAC, not the answer.
///
/// No server session: the token is `ID.EXPIRY.MAC`, MAC = HMAC-SHA256 over the random id, the
/// expiry and the correct sum, keyed with the link secret. Checking recomputes the MAC with the
/// submitted answer. Single use is the caller's part: record `id` (see `Store.useChallenge`).
public struct MathChallenge: Sendable, Equatable {
    public var first: Int
    public var second: Int
    public var token: String

    /// "2 + 10 ="
    public var question: String { "\(first) + \(second) =" }

    /// The largest sum asked for.
    public static let maximumSum = 20
}

/// What checking an answer found.
public enum ChallengeCheck: Sendable, Equatable {
    /// Not a token this program makes.
    case malformed
    /// A well-formed token (`id` still to be recorded as used): the answer is right, or wrong
    /// (or the token was forged: the two cannot be told apart), or right but too late.
    case correct(id: String, expiresAt: Date)
    case wrong(id: String, expiresAt: Date)
    case expired(id: String, expiresAt: Date)
}

/// Makes and checks math challenges with the link secret.
public struct ChallengeSigner: Sendable {
    let signer: LinkSigner
    /// How long a question may be answered.
    public var lifetime: TimeInterval

    public init(signer: LinkSigner, lifetime: TimeInterval = 30 * 60) {
        self.signer = signer
        self.lifetime = lifetime
    }

    /// A fresh question, valid until `now + lifetime`.
    public func make(now: Date) -> MathChallenge {
        var generator = SystemRandomNumberGenerator()
        return make(now: now, using: &generator)
    }

    public func make(now: Date, using generator: inout some RandomNumberGenerator) -> MathChallenge {
        let sum = Int.random(in: 2...MathChallenge.maximumSum, using: &generator)
        let first = Int.random(in: 1..<sum, using: &generator)
        let idBytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let id = Base64URL.encode(Data(idBytes))
        let expiry = Int64((now + lifetime).timeIntervalSince1970)
        let mac = signer.authenticationCode(for: Self.signed(id, expiry, sum))
        return MathChallenge(first: first, second: sum - first, token: "\(id).\(expiry).\(Base64URL.encode(mac))")
    }

    /// Checks `answer` (as typed: surrounding spaces are ignored) against `token`.
    public func check(token: String, answer: String, now: Date) -> ChallengeCheck {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].utf8.count == 22, Base64URL.decode(String(parts[0])) != nil,
            let expiry = Int64(parts[1]), expiry > 0, let mac = Base64URL.decode(String(parts[2])), mac.count == 32
        else { return .malformed }
        let id = String(parts[0])
        // A forged expiry far in the future must not keep its id in the used list for long.
        let expiresAt = min(Date(timeIntervalSince1970: TimeInterval(expiry)), now + lifetime)
        let typed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        guard typed.count <= 3, let number = Int(typed), (0...MathChallenge.maximumSum).contains(number),
            signer.isValidAuthenticationCode(mac, for: Self.signed(id, expiry, number))
        else { return .wrong(id: id, expiresAt: expiresAt) }
        if Double(expiry) < now.timeIntervalSince1970 { return .expired(id: id, expiresAt: expiresAt) }
        return .correct(id: id, expiresAt: expiresAt)
    }

    private static func signed(_ id: String, _ expiry: Int64, _ sum: Int) -> String {
        "dailydigest\nchallenge\n\(id)\n\(expiry)\n\(sum)"
    }
}
