import Foundation

/// The plan stage of `digest send`: which readers are due which edition now (`ReaderSchedule`, from each
/// reader and their ledger), the editions frozen, the deliveries queued. Its dry run walks the same readers
/// and hands them over without writing.
public struct EditionPlanner: Sendable {
    let store: Store
    let ranker: Ranker
    let readers: ReaderSchedule
    /// Readers read per query.
    var pageSize = 1000

    public init(store: Store, ranker: Ranker) {
        self.init(store: store, ranker: ranker, readers: ReaderSchedule(schedule: DeliverySchedule(ranker: ranker)))
    }

    init(store: Store, ranker: Ranker, readers: ReaderSchedule) {
        self.store = store
        self.ranker = ranker
        self.readers = readers
    }

    /// How far back a reader's history is read: past a catch-up's longest window, a pause is ended for good.
    public static let historyDays = 2 * EditionKind.catchUpDays

    /// One reader due one edition.
    public struct Assignment: Sendable {
        var subscriber: Subscriber
        var edition: Edition
        /// A catch-up's start: the day of the reader's last edition.
        var coversSince: Day?
    }

    /// What the plan did: the editions due, readers queued per kind, readers not sent to because paused.
    public struct Outcome: Sendable {
        public var editions: [Edition] = []
        public var queued: [EditionKind: Int] = [:]
        public var paused = 0
    }

    /// Plans the readers due at `now`: `freeze` stores the editions (a real run), and `due` gets each page's
    /// assignments (to queue them, or to compose them in a dry run) and says how many of each kind it took.
    public func plan(now: Date, freeze: Bool, due: ([Assignment]) throws -> [EditionKind: Int]) throws -> Outcome {
        var outcome = Outcome()
        var editions: [String: Edition] = [:]
        func edition(_ date: Day, _ kind: EditionKind) throws -> Edition {
            let key = "\(date) \(kind.rawValue)"
            if let edition = editions[key] { return edition }
            let edition = try ranker.edition(for: date, kind: kind, store: store, freeze: freeze, now: now)
            editions[key] = edition
            return edition
        }
        let siteZone = ranker.timeZone.identifier
        let sendHour = ranker.digest.sendHour
        for group in try store.activeDeliveryGroups(siteZone: siteZone, sendHour: sendHour) {
            // The latest day anyone in the group can be due: readers who have it (or a later one) are done.
            guard let zone = TimeZone(identifier: group.timeZone),
                let latest = readers.schedule.dueEdition(at: now, timeZone: zone, hour: group.hour)
            else { continue }
            var afterID: Int64 = 0
            while true {
                let page = try store.readersToPlan(
                    group: group, siteZone: siteZone, sendHour: sendHour, latestDue: latest,
                    lookback: Self.historyDays, afterID: afterID, limit: pageSize)
                guard let last = page.last else { break }
                afterID = last.subscriber.id!
                var assignments: [Assignment] = []
                for reader in page {
                    switch readers.due(reader.subscriber, history: reader.history, at: now) {
                    case .edition(let date, let kind, let coversSince):
                        assignments.append(
                            Assignment(
                                subscriber: reader.subscriber, edition: try edition(date, kind), coversSince: coversSince))
                    case .none(.paused):
                        outcome.paused += 1
                    case .none:
                        continue
                    }
                }
                outcome.queued.merge(try due(assignments), uniquingKeysWith: +)
            }
        }
        outcome.editions = editions.values.sorted { ($0.date, $0.kind.rawValue) < ($1.date, $1.kind.rawValue) }
        return outcome
    }
}

extension EditionPlanner {
    /// Queues a page of assignments: one write per edition (and catch-up start).
    public func queue(_ assignments: [Assignment], now: Date) throws -> [EditionKind: Int] {
        var queued: [EditionKind: Int] = [:]
        let groups = Dictionary(grouping: assignments) { "\($0.edition.id ?? 0) \($0.coversSince?.description ?? "")" }
        for group in groups.values {
            let first = group[0]
            queued[first.edition.kind, default: 0] += try store.queueDeliveries(
                edition: first.edition, subscriberIDs: group.compactMap(\.subscriber.id), coversSince: first.coversSince,
                now: now)
        }
        return queued
    }
}
