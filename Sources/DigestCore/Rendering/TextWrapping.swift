/// Plain-text layout: lines wrapped at a width on spaces, continuation lines keeping the
/// indentation of the line they continue. Words longer than the width (URLs) are left whole.
enum TextWrapping {
    static func wrap(_ text: String, width: Int = 72) -> String {
        var output: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.count > width else {
                output.append(line)
                continue
            }
            let indent = line.prefix { $0 == " " }
            var current = ""
            var currentCount = 0
            for word in line.dropFirst(indent.count).split(separator: " ") {
                if currentCount > 0 && currentCount + 1 + word.count > width {
                    output.append(Substring(current))
                    current = String(indent)
                    currentCount = indent.count
                }
                if currentCount == 0 {
                    current = String(indent) + word
                    currentCount = indent.count + word.count
                } else if currentCount == indent.count {
                    current += word
                    currentCount += word.count
                } else {
                    current += " " + word
                    currentCount += 1 + word.count
                }
            }
            if currentCount > 0 { output.append(Substring(current)) }
        }
        return output.joined(separator: "\n")
    }
}
