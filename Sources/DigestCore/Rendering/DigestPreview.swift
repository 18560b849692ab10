import Foundation

/// What `digest preview` and the admin page show: the digest one reader would get for a date,
/// built exactly as `send` builds it, without writing anything.
public struct DigestPreview: Sendable {
    public let composer: DigestComposer
    public let store: Store

    public init(composer: DigestComposer, store: Store) {
        self.composer = composer
        self.store = store
    }

    /// The reader shown when no subscriber is named.
    public static func sampleReader() -> Subscriber {
        Subscriber(id: 0, email: try! EmailAddress("reader@example.com"), name: "Sample Reader", status: .active)
    }

    /// The next edition to close after `now`: tonight's digest.
    public func upcomingDate(now: Date) -> Day { composer.ranker.upcomingDate(now: now) }

    /// `subscriber`'s digest for `date` (default: the upcoming edition), as `send` would build it now.
    public func digest(date: Day?, subscriber email: EmailAddress?, now: Date) throws -> (Edition, ComposedDigest) {
        if let email {
            guard let found = try store.subscriber(email: email) else {
                throw SubscriberError("\(email) is not a subscriber (see `digest subscribers list`)")
            }
            return try digest(date: date, for: found, now: now, testSend: nil)
        }
        return try digest(date: date, for: Self.sampleReader(), now: now, testSend: nil)
    }

    /// A test send (`send --to ADDRESS`): the digest of the subscriber with that address, or for
    /// an address that is not on the list a sample digest with no name and inert links; always
    /// with `To: ADDRESS` and a Message-ID of its own, so repeated test sends are distinct messages.
    public func testDigest(date: Day?, to address: EmailAddress, now: Date) throws -> (Edition, ComposedDigest) {
        let date = date ?? upcomingDate(now: now)
        let messageID = composer.testMessageID(date: date)
        if let found = try store.subscriber(email: address) {
            return try digest(date: date, for: found, now: now, testSend: .init(messageID: messageID, inertLinks: false))
        }
        let stranger = Subscriber(id: 0, email: address, name: nil, status: .active)
        return try digest(date: date, for: stranger, now: now, testSend: .init(messageID: messageID, inertLinks: true))
    }

    private func digest(
        date: Day?, for subscriber: Subscriber, now: Date, testSend: DigestComposer.TestSend?
    ) throws -> (Edition, ComposedDigest) {
        let date = date ?? upcomingDate(now: now)
        let edition = try composer.ranker.edition(for: date, store: store, freeze: false, now: now)
        var received: Set<Int64> = []
        if let id = subscriber.id, id != 0 {
            received = try composer.alreadyReceived(by: [id], before: edition, in: store)[id] ?? []
        }
        let digest = try composer.digest(
            for: subscriber, in: edition, alreadyReceived: received, now: now, skippingEmpty: false, testSend: testSend)
        return (edition, digest!)
    }
}

extension Ranker {
    /// The next edition to close after `now`: tonight's digest.
    public func upcomingDate(now: Date) -> Day {
        let today = Day(now, in: timeZone)
        return cutoff(for: today) > now ? today : today.adding(days: 1)
    }

    /// The earliest edition whose items a reader may already have received that can still fall
    /// in `date`'s window.
    public func lookbackStart(for date: Day) -> Day {
        date.adding(days: -(digest.windowHours + 23) / 24 - 1)
    }
}
