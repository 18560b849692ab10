import Foundation

/// One thing a reader asks for by replying to a digest.
public enum ReplyCommand: Sendable, Equatable, Hashable {
    /// `+3 +7`, `vote 3 7`: the items printed with these numbers in the digest answered.
    case vote([Int])
    /// `daily`, `weekly`, `monthly`.
    case cadence(Cadence)
    /// `pause 14` (days).
    case pause(days: Int)
    /// `pause until 2027-01-10`.
    case pauseUntil(Day)
    case resume
    /// `stop`, `unsubscribe`.
    case stop
}

/// Reads commands from the reader's own text (`ReplyOwnText`). A reply is a command reply only when every line of
/// its own text is made of commands; any other line makes it a letter for people, so a sentence that happens to
/// hold "stop" or "+1" never acts. Words are matched in any case; Arabic-Indic digits read as digits, and the
/// Arabic words for the commands are understood too.
public enum ReplyCommandParser {
    /// The most item numbers one reply may vote for, and the largest number: more is not a reader's reply.
    public static let maxVotes = 20
    public static let maxItemNumber = 200
    /// The longest pause by reply, in days (the preferences page allows a year).
    public static let maxPauseDays = 366

    /// The commands of `text`, in order, duplicates dropped; nil when a line is not a command (a letter) or there is
    /// no line at all.
    public static func commands(in text: ReplyOwnText) -> [ReplyCommand]? {
        guard !text.lines.isEmpty else { return nil }
        var found: [ReplyCommand] = []
        var numbers: [Int] = []
        for line in text.lines {
            guard let inLine = commands(inLine: line) else { return nil }
            for command in inLine {
                // Votes of several lines read as one vote command.
                if case .vote(let voted) = command {
                    numbers += voted.filter { !numbers.contains($0) }
                } else if !found.contains(command) {
                    found.append(command)
                }
            }
        }
        if numbers.count > maxVotes { return nil }
        if !numbers.isEmpty { found.insert(.vote(numbers), at: 0) }
        return found.isEmpty ? nil : found
    }

    /// The commands of one line; nil when the line is anything else.
    static func commands(inLine line: String) -> [ReplyCommand]? {
        let separators: Set<Character> = [" ", ",", ";", "\t"]
        var words: [String] = []
        for piece in normalized(line).split(whereSeparator: { separators.contains($0) }) {
            // A sentence's full stop or exclamation mark ("Weekly, please!" is still a letter: "please" is no command).
            let word = piece.hasSuffix(".") || piece.hasSuffix("!") ? String(piece.dropLast()) : String(piece)
            if !word.isEmpty { words.append(word) }
        }
        guard !words.isEmpty else { return nil }
        var commands: [ReplyCommand] = []
        var index = 0
        func number(_ word: String) -> Int? {
            guard word.allSatisfy(\.isASCIIDigit), word.count <= 4, let value = Int(word) else { return nil }
            return value
        }
        while index < words.count {
            let word = words[index]
            index += 1
            if word.hasPrefix("+"), let value = number(String(word.dropFirst())) {
                guard (1...maxItemNumber).contains(value) else { return nil }
                commands.append(.vote([value]))
                continue
            }
            switch synonyms[word] {
            case "vote"?:
                var numbers: [Int] = []
                while index < words.count, let value = number(words[index].hasPrefix("+") ? String(words[index].dropFirst()) : words[index]) {
                    guard (1...maxItemNumber).contains(value) else { return nil }
                    numbers.append(value)
                    index += 1
                }
                guard !numbers.isEmpty else { return nil }
                commands.append(.vote(numbers))
            case "daily"?: commands.append(.cadence(.daily))
            case "weekly"?: commands.append(.cadence(.weekly))
            case "monthly"?: commands.append(.cadence(.monthly))
            case "resume"?: commands.append(.resume)
            case "stop"?: commands.append(.stop)
            case "pause"?:
                guard index < words.count else { return nil }
                if synonyms[words[index]] == "until", index + 1 < words.count, let day = Day(words[index + 1]) {
                    commands.append(.pauseUntil(day))
                    index += 2
                } else if let days = number(words[index]), (1...maxPauseDays).contains(days) {
                    commands.append(.pause(days: days))
                    index += 1
                    if index < words.count, synonyms[words[index]] == "days" { index += 1 }
                } else {
                    return nil
                }
            default:
                return nil
            }
        }
        return commands
    }

    /// Lower case, Arabic-Indic and Eastern Arabic-Indic digits as ASCII ones, Arabic tatweel dropped.
    static func normalized(_ line: String) -> String {
        var result = ""
        for scalar in line.lowercased().unicodeScalars {
            switch scalar.value {
            case 0x0660...0x0669: result.unicodeScalars.append(Unicode.Scalar(0x30 + scalar.value - 0x0660)!)
            case 0x06F0...0x06F9: result.unicodeScalars.append(Unicode.Scalar(0x30 + scalar.value - 0x06F0)!)
            case 0x0640, 0x200F, 0x200E, 0x061C: continue  // tatweel and direction marks
            case 0xFF0B: result += "+"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Each command word, and its Arabic spellings, to its English name.
    static let synonyms: [String: String] = [
        "vote": "vote", "votes": "vote", "صوت": "vote", "تصويت": "vote",
        "daily": "daily", "يومي": "daily", "يوميا": "daily", "يومياً": "daily",
        "weekly": "weekly", "أسبوعي": "weekly", "اسبوعي": "weekly", "أسبوعيا": "weekly", "أسبوعياً": "weekly",
        "monthly": "monthly", "شهري": "monthly", "شهريا": "monthly",
        "resume": "resume", "استئناف": "resume", "استأنف": "resume",
        "stop": "stop", "unsubscribe": "stop", "توقف": "stop", "إلغاء": "stop", "الغاء": "stop",
        "pause": "pause", "إيقاف": "pause", "ايقاف": "pause",
        "until": "until", "حتى": "until",
        "days": "days", "day": "days", "أيام": "days", "يوم": "days", "يوما": "days", "يوماً": "days",
    ]
}
