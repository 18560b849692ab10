import Foundation

extension ReplyCommand {
    /// Applies this command, unless it is a vote, to `reader` with issue 25's rules (`Subscriber.apply`, the pause
    /// rule of the preferences page, `Subscriber.unsubscribe`); what it did, for the "Done:" mail. `signUpURL` is
    /// where a reader who stopped can come back.
    func apply(to reader: inout Subscriber, today: Day, now: Date, signUpURL: String) throws -> InboundMails.Done? {
        let before = reader
        switch self {
        case .vote:
            return nil
        case .cadence(let cadence):
            try reader.apply(ReaderChoicesText(cadence: cadence.rawValue))
            return .init(
                summary: "your digest is now \(cadence.rawValue)",
                sentences: before.cadence == cadence
                    ? ["It already was: you get \(ChoiceWording.edition(reader))."]
                    : [ChoiceWording.cadenceChange(from: before, to: reader)],
                undo: before.cadence == cadence ? nil : "reply \"\(before.cadence.rawValue)\"")
        case .pause(let days):
            return try Self.pause(until: today.adding(days: days), &reader, today: today, before: before)
        case .pauseUntil(let day):
            return try Self.pause(until: day, &reader, today: today, before: before)
        case .resume:
            guard let paused = ChoiceWording.pause(of: reader, today: today) else {
                return .init(summary: "your digest was not paused", sentences: ["You get \(ChoiceWording.edition(reader))."], undo: nil)
            }
            try reader.apply(ReaderChoicesText(pausedUntil: ""))
            return .init(summary: "your digest is no longer paused", sentences: [ChoiceWording.resumed],
                undo: "reply \"pause until \(paused)\"")
        case .stop:
            reader.unsubscribe(now: now)
            return .init(
                summary: "you are unsubscribed", sentences: ["No more digests will come to \(reader.email)."],
                undo: "sign up again at \(signUpURL)")
        }
    }

    private static func pause(until day: Day, _ reader: inout Subscriber, today: Day, before: Subscriber) throws
        -> InboundMails.Done
    {
        if let problem = Subscriber.pauseProblem(until: day, today: today) {
            return .init(summary: "nothing changed: your digest is not paused", sentences: ["\(problem)"], undo: nil)
        }
        try reader.apply(ReaderChoicesText(pausedUntil: day.description))
        let undo = ChoiceWording.pause(of: before, today: today).map { "reply \"pause until \($0)\"" } ?? "reply \"resume\""
        return .init(summary: "your digest is paused until \(day)", sentences: [ChoiceWording.paused(until: day)], undo: undo)
    }

    /// The command as a reader would write it.
    var word: String {
        switch self {
        case .vote(let numbers): numbers.map { "+\($0)" }.joined(separator: " ")
        case .cadence(let cadence): cadence.rawValue
        case .pause(let days): "pause \(days)"
        case .pauseUntil(let day): "pause until \(day)"
        case .resume: "resume"
        case .stop: "stop"
        }
    }
}
