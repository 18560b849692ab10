import Testing
import DigestWeb
@Test func placeholder() { #expect(Bool(true)) }
