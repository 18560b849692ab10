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

    /// `subscriber`'s digest for `date` (default: the edition they would get tonight, whichever kind), as
    /// `send` would build it now.
    public func digest(date: Day?, subscriber email: EmailAddress?, now: Date) throws -> (Edition, ComposedDigest) {
        if let email {
            guard let found = try store.subscriber(email: email) else {
                throw SubscriberError("\(email) is not a subscriber (see `digest subscribers list`)")
            }
            if date == nil {
                switch try tonight(for: found, now: now) {
                case .edition(let date, let kind, let coversSince):
                    return try digest(date: date, kind: kind, coversSince: coversSince, for: found, now: now, testSend: nil)
                case .none(let reason):
                    throw SubscriberError("\(email) gets no digest tonight (\(found.choicesDescription)): \(reason)")
                }
            }
            return try digest(date: date, for: found, now: now, testSend: nil)
        }
        return try digest(date: date, for: Self.sampleReader(), now: now, testSend: nil)
    }

    /// The edition `subscriber` is due at their moment of tonight's edition (`ReaderSchedule`), from what the
    /// ledger holds for them now.
    public func tonight(for subscriber: Subscriber, now: Date) throws -> ReaderSchedule.Due {
        let schedule = DeliverySchedule(ranker: composer.ranker)
        let upcoming = upcomingDate(now: now)
        let zone = subscriber.timeZone.flatMap(TimeZone.init(identifier:)) ?? composer.ranker.timeZone
        let moment = schedule.dueInstant(
            of: upcoming, timeZone: zone, hour: subscriber.deliveryHour ?? composer.ranker.digest.sendHour)
        let history =
            try subscriber.id.map { try store.history(of: $0, before: upcoming, lookback: EditionPlanner.historyDays) }
            ?? .none
        return ReaderSchedule(schedule: schedule).due(subscriber, history: history, at: max(now, moment))
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
        date: Day?, kind: EditionKind = .daily, coversSince: Day? = nil, for subscriber: Subscriber, now: Date,
        testSend: DigestComposer.TestSend?
    ) throws -> (Edition, ComposedDigest) {
        let date = date ?? upcomingDate(now: now)
        let edition = try composer.ranker.edition(for: date, kind: kind, store: store, freeze: false, now: now)
        var received: Set<Int64> = []
        if let id = subscriber.id, id != 0 {
            received = try composer.alreadyReceived(by: [id], before: edition, in: store)[id] ?? []
        }
        let digest = try composer.digest(
            for: subscriber, in: edition, alreadyReceived: received, now: now, coversSince: coversSince,
            skippingEmpty: false, testSend: testSend)
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
    /// in the window of the daily edition of `date`.
    public func lookbackStart(for date: Day) -> Day {
        date.adding(days: -(digest.windowHours + 23) / 24 - 1)
    }

    /// The same for an edition of any kind: a weekly edition looks back a week, a catch-up its whole window.
    public func lookbackStart(for edition: Edition) -> Day {
        min(lookbackStart(for: edition.date), Day(edition.windowStart, in: timeZone).adding(days: -1))
    }
}
