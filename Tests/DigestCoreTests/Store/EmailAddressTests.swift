import Testing

@testable import DigestCore

@Suite struct EmailAddressTests {
    static let valid: [(String, String)] = [
        ("reader@example.com", "reader@example.com"),
        ("Reader.Name+tag@Example.COM", "Reader.Name+tag@example.com"),
        ("  padded@example.org ", "padded@example.org"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("a@b.co", "a@b.co"),
        ("x@xn--bcher-kva.example", "x@bücher.example"),
        ("x@XN--BCHER-KVA.Example", "x@bücher.example"),
        ("x@bu\u{308}cher.example", "x@bücher.example"),
        ("x@xn--a.example", "x@xn--a.example"),
        ("jurgen@bücher.example", ""),
        ("ONE@Example.com", "ONE@example.com"),
        ("leser@BÜCHER.example", "leser@bücher.example"),
        ("user@sub.domain-with-hyphen.example", "user@sub.domain-with-hyphen.example"),
        (String(repeating: "l", count: 64) + "@example.com", String(repeating: "l", count: 64) + "@example.com"),
    ]

    static let invalid: [(String, String)] = [
        ("", "is empty"),
        ("plainaddress", "has no @"),
        ("two@@example.com", "more than one @"),
        ("a@b@example.com", "more than one @"),
        ("@example.com", "nothing before the @"),
        ("reader@", "no domain"),
        ("reader@localhost", "no dot"),
        ("reader@example..com", "empty label"),
        ("reader@-example.com", "hyphen"),
        (".reader@example.com", "misplaced dot"),
        ("re..ader@example.com", "misplaced dot"),
        ("re ader@example.com", "a space"),
        ("reader@example.com\r\nBcc: victim@example.com", "a line break"),
        ("reader@exa mple.com", "a space"),
        (String(repeating: "l", count: 65) + "@example.com", "longer than 64"),
        ("reader@" + String(repeating: "a", count: 64) + ".com", "longer than 63"),
        ("reader@example.123", "ends in a number"),
        ("x@[300.1.1.1]", "IP address literal"),
        ("me@[127.0.0.1]", "IP address literal"),
        ("me@[IPv6:::1]", "IP address literal"),
        ("reader@exa_mple.com", "domain contains"),
        ("rea(der)@example.com", "local part contains"),
        ("jürgen@example.com", "local part must be ASCII"),
    ]

    @Test(arguments: valid)
    func acceptsAndNormalizes(_ input: String, _ expected: String) throws {
        let address = try EmailAddress(input)
        if expected.isEmpty {
            #expect(address.domain == "bücher.example")
        } else {
            #expect(address.description == expected)
        }
    }

    @Test(arguments: invalid)
    func refusesWithReason(_ input: String, _ reason: String) {
        #expect {
            try EmailAddress(input)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test(arguments: valid)
    func storedFormReadsBackAsTheSameAddress(_ input: String, _ expected: String) throws {
        let address = try EmailAddress(input)
        #expect(try EmailAddress(stored: address.description) == address)
    }

    @Test func storedTextThatIsNotNormalizedIsValidatedInFull() throws {
        #expect(try EmailAddress(stored: "Reader@Example.COM").description == "Reader@example.com")
        #expect(throws: EmailAddressError.self) { try EmailAddress(stored: "no-at-sign") }
        #expect(throws: EmailAddressError.self) { try EmailAddress(stored: "two@at@example.com") }
        #expect(throws: EmailAddressError.self) { try EmailAddress(stored: "@example.com") }
        #expect(throws: EmailAddressError.self) { try EmailAddress(stored: "reader@") }
    }

    @Test func internationalDomainHasAnASCIIForm() throws {
        let address = try EmailAddress("leser@bücher.example")
        #expect(address.asciiDomain == "xn--bcher-kva.example")
        #expect(try EmailAddress("a@例え.テスト").asciiDomain == "xn--r8jz45g.xn--zckzah")
    }

    @Test func whole254OctetLimit() {
        let local = String(repeating: "a", count: 64)
        let domain = (0..<4).map { _ in String(repeating: "d", count: 60) }.joined(separator: ".") + ".com"
        #expect(throws: EmailAddressError.self) { try EmailAddress("\(local)@\(domain)") }
    }

    @Test func mailboxParsing() throws {
        let mailbox = try Mailbox(parsing: "\"The Courier\" <Digest@Courier.Example>")
        #expect(mailbox.name == "The Courier")
        #expect(mailbox.address.description == "Digest@courier.example")
        #expect(try Mailbox(parsing: "plain@example.com").name == nil)
        #expect(throws: EmailAddressError.self) { try Mailbox(parsing: "Evil\r\nBcc: x <a@b.co>") }
    }
}
