import Foundation
import Testing

/// `.requires(…)`: a missing tool skips a test on a developer's machine and fails it in CI.
@Suite struct ExternalToolTests {
    static let missing = ExternalTool("no-such-checker") { false }

    @Test func aMissingToolSkipsOutsideCIAndFailsInCI() async throws {
        #expect(try await ExternalTool.available([.program("sh"), Self.missing], inCI: false) == false)
        await #expect(throws: MissingToolError.self) {
            try await ExternalTool.available([.program("sh"), Self.missing], inCI: true)
        }
        #expect(try await ExternalTool.available([.program("sh")], inCI: true))
    }
}
