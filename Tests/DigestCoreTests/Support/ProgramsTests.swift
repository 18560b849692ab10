import Foundation
import Testing

/// `Programs.run`: a program's output, error output and status, waited for on a thread of its own.
@Suite struct ProgramsTests {
    @Test func outputErrorAndStatusComeBackAndALongRunIsKilledAtItsTimeout() async throws {
        let result = try await Programs.run("sh", ["-c", "cat; echo err >&2; exit 3"], input: Data("in".utf8))
        #expect(result.status == 3 && result.standardOutput == "in" && result.standardError == "err\n")
        let started = Date()
        await #expect(throws: ProgramError.self) { try await Programs.run("sleep", ["30"], timeout: 0.5) }
        #expect(Date().timeIntervalSince(started) < 10)
    }
}
