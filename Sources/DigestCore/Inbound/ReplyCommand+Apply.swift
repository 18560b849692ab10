import Foundation

extension ReplyCommand {
    /// Applies this command, unless it is a vote, to `reader` with issue 25's rules (`Subscriber.apply`, the pause
    /// rule of the preferences page, `Subscriber.unsubscribe`); what it did, for the "Done:" mail, in `language` (the
    /// reader's). `signUpURL` is where a reader who stopped can come back.
    func apply(to reader: inout Subscriber, today: Day, now: Date, signUpURL: String, language: Language) throws
        -> InboundMails.Done?
    {
        let before = reader
        func undo(_ command: String) -> String { language.text("reply.undoReply", ["command": command]) }
        switch self {
        case .vote:
            return nil
        case .cadence(let cadence):
            try reader.apply(ReaderChoicesText(cadence: cadence.rawValue))
            return .init(
                summary: language.text("reply.cadence.\(cadence.rawValue)"),
                sentences: before.cadence == cadence
                    ? [language.text("reply.alreadyWas", ["edition": ChoiceWording.edition(reader, language)])]
                    : [ChoiceWording.cadenceChange(from: before, to: reader, language)],
                undo: before.cadence == cadence ? nil : undo(before.cadence.rawValue))
        case .pause(let days):
            return try Self.pause(until: today.adding(days: days), &reader, today: today, before: before, language)
        case .pauseUntil(let day):
            return try Self.pause(until: day, &reader, today: today, before: before, language)
        case .resume:
            guard let paused = ChoiceWording.pause(of: reader, today: today) else {
                return .init(
                    summary: language.text("reply.notPaused"),
                    sentences: [language.text("choice.youGet", ["edition": ChoiceWording.edition(reader, language)])],
                    undo: nil)
            }
            try reader.apply(ReaderChoicesText(pausedUntil: ""))
            return .init(
                summary: language.text("reply.resumed"), sentences: [ChoiceWording.resumed(language)],
                undo: undo("pause until \(paused)"))
        case .stop:
            reader.unsubscribe(now: now)
            return .init(
                summary: language.text("reply.stopped"),
                sentences: [language.text("reply.stoppedText", ["email": reader.email.description])],
                undo: language.text("reply.signUpAgain", ["url": signUpURL]))
        }
    }

    private static func pause(
        until day: Day, _ reader: inout Subscriber, today: Day, before: Subscriber, _ language: Language
    ) throws -> InboundMails.Done {
        if let problem = Subscriber.pauseProblem(until: day, today: today, language) {
            return .init(summary: language.text("reply.pauseRefused"), sentences: [problem], undo: nil)
        }
        try reader.apply(ReaderChoicesText(pausedUntil: day.description))
        let command = ChoiceWording.pause(of: before, today: today).map { "pause until \($0)" } ?? "resume"
        return .init(
            summary: language.text("reply.paused", ["day": language.digits(in: day.description)]),
            sentences: [ChoiceWording.paused(until: day, language)],
            undo: language.text("reply.undoReply", ["command": command]))
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
