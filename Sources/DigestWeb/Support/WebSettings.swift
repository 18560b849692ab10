import Foundation

/// Limits and lifetimes of the web pages. The defaults are what `digest serve` uses; tests
/// change them (and the clock) to reach each rule quickly.
struct WebSettings: Sendable {
    /// Longest form body accepted; a longer one gets 413.
    var maxFormBytes = 64 * 1024
    /// POSTs per peer IP: a burst of `capacity`, then one per `interval` seconds.
    var ipLimit: (capacity: Int, interval: TimeInterval) = (20, 3)
    /// Wrong admin tokens per client (the sign-in form and `Authorization: Bearer` alike): a burst of
    /// `capacity`, then one more every `interval` seconds; past it every try is answered 429, the right
    /// token included, so guessing gains nothing from going fast.
    var signInLimit: (capacity: Int, interval: TimeInterval) = (5, 60)
    /// POSTs per email address (sign-ups, preference changes).
    var addressLimit: (capacity: Int, interval: TimeInterval) = (5, 120)
    /// A second sign-up for one address within this time sends no second confirmation mail.
    var confirmationResendInterval: TimeInterval = 10 * 60
    var confirmLinkLifetime: TimeInterval = 7 * 24 * 3600
    /// How long a math question may be answered.
    var challengeLifetime: TimeInterval = 30 * 60
    var now: @Sendable () -> Date = { Date() }
    /// Threads that run the requests' store calls, and how many calls may wait or run at once before
    /// one more is answered 503 at once.
    var databaseThreads = 8
    var databaseCapacity = 64
}
