import Foundation
import Testing

@testable import DigestCore

/// The reader's own text and the commands in it, read from replies as real mail programs write them. Pure: no store.
@Suite struct ReplyParserTests {
    static let to = "reply+20261124d-1-0123456789ab@courier.example"

    func kind(_ message: String) -> InboundMessage.Kind { InboundMessage(raw: Array(message.utf8)).kind }

    @Test func everyMailProgramsReplyReadsAsItsOwnCommandsOnly() {
        let cases: [(String, String, [ReplyCommand])] = [
            ("gmail", Replies.gmail("weekly", to: Self.to), [.cadence(.weekly)]),
            ("gmail, two lines", Replies.gmail("+3 +7\nPause 14", to: Self.to), [.vote([3, 7]), .pause(days: 14)]),
            ("gmail HTML only", Replies.gmailHTMLOnly("daily", to: Self.to), [.cadence(.daily)]),
            ("outlook", Replies.outlook("pause until 2027-01-10", to: Self.to), [.pauseUntil(Day("2027-01-10")!)]),
            ("outlook HTML", Replies.outlookHTML("resume", to: Self.to), [.resume]),
            ("outlook original message", Replies.outlookOriginalMessage("vote 3 7", to: Self.to), [.vote([3, 7])]),
            ("apple mail", Replies.appleMail("+3", to: Self.to), [.vote([3])]),
            ("thunderbird bottom-posted", Replies.thunderbird("stop", to: Self.to), [.stop]),
            ("thunderbird base64", Replies.thunderbird("Vote 2, 3.", to: Self.to, base64: true), [.vote([2, 3])]),
            ("arabic digits", Replies.arabic("+٣", to: Self.to), [.vote([3])]),
            ("arabic word", Replies.arabic("أسبوعي", to: Self.to), [.cadence(.weekly)]),
        ]
        for (name, message, expected) in cases {
            #expect(kind(message) == .command(expected), "\(name): \(InboundMessage(raw: Array(message.utf8)).ownText.lines)")
        }
    }

    /// A "+3" (or "stop") in the quoted digest is the digest's: a reply whose own text says something else, or
    /// nothing, is a letter, and votes for nothing.
    @Test func aCommandOnlyInTheQuotedPartIsNoCommand() {
        for message in [
            Replies.gmail("Thanks, lovely edition!", to: Self.to), Replies.gmail("", to: Self.to),
            Replies.gmailHTMLOnly("", to: Self.to), Replies.outlook("Who writes these?", to: Self.to),
            Replies.outlookHTML("", to: Self.to), Replies.appleMail("", to: Self.to),
            Replies.thunderbird("", to: Self.to), Replies.arabic("شكرا على النشرة الرائعة", to: Self.to),
        ] {
            let read = InboundMessage(raw: Array(message.utf8))
            #expect(read.kind == .letter, "\(read.ownText.lines)")
            #expect(!read.ownText.lines.contains { $0.contains("+3") || $0.lowercased().contains("stop") }, "\(read.ownText.lines)")
        }
    }

    @Test func theOwnTextKeepsTheReadersLinesAndDecodesEveryEncoding() {
        #expect(InboundMessage(raw: Array(Replies.arabic("شكرا على النشرة", to: Self.to).utf8)).ownText.lines == ["شكرا على النشرة"])
        #expect(InboundMessage(raw: Array(Replies.outlook("Merci", to: Self.to).utf8)).ownText.lines == ["Merci"])
        let full = InboundMessage(raw: Array(Replies.outlook("Merci", to: Self.to).utf8)).fullText
        #expect(full.contains("Café opens"), "iso-8859-1 read as such: \(full)")
        #expect(InboundMessage(raw: Array(Replies.thunderbird("Hello\nthere", to: Self.to, base64: true).utf8)).ownText.lines
            == ["Hello", "there"])
        #expect(ReplyOwnText(html: "<p>a&amp;b</p><div>c<br>d</div><blockquote>e</blockquote>").lines == ["a&b", "c", "d"])
        // Thunderbird's, Yahoo's and Proton's HTML quotes; nested blockquotes end where they end.
        let html = """
            <div>weekly</div><div class="moz-cite-prefix">On 24/11/2026 07:00, Courier wrote:<br></div>
            <blockquote type="cite"><div>+3</div><blockquote><div>stop</div></blockquote><div>pause 14</div></blockquote>
            <div class="yahoo_quoted"><div><div>+4</div></div></div><div class="protonmail_quote">+5</div><div>daily</div>
            """
        #expect(ReplyOwnText(html: html).lines == ["weekly", "daily"])
    }

    @Test func commandsAreWholeLinesOfCommands() {
        func parse(_ text: String) -> [ReplyCommand]? { ReplyCommandParser.commands(in: ReplyOwnText(plainText: text)) }
        #expect(parse("+3 +7") == [.vote([3, 7])])
        #expect(parse("vote 3 7\n+7 +9") == [.vote([3, 7, 9])])
        #expect(parse("WEEKLY") == [.cadence(.weekly)])
        #expect(parse("pause 14 days") == [.pause(days: 14)])
        #expect(parse("pause until 2027-01-10\nresume") == [.pauseUntil(Day("2027-01-10")!), .resume])
        #expect(parse("Stop.") == [.stop])
        #expect(parse("unsubscribe") == [.stop])
        #expect(parse("+3\nSent from my iPhone") == [.vote([3])])
        // A sentence is a letter, even with a command word in it.
        for letter in [
            "Please stop sending these", "weekly please", "I'd give +3 to the library story", "+0", "+999", "pause",
            "pause until never", "pause 0", "vote", "vote for 3", "", "3", "+3 and thanks",
        ] {
            #expect(parse(letter) == nil, "\(letter)")
        }
        #expect(parse((1...21).map { "+\($0)" }.joined(separator: " ")) == nil, "more votes than a reader's reply")
    }

    @Test func bouncesComplaintsAndAutoRepliesAreNotReplies() {
        #expect(kind(Replies.outOfOffice(to: Self.to)) == .autoReply("Auto-Submitted: auto-replied (RFC 3834)"))
        let vacation = Replies.message(to: Self.to, subject: "Out of Office: Top stories", body: "+3\n")
        #expect(kind(vacation) == .autoReply("subject says \"out of office\""))
        // A person's reply to a digest whose subject speaks of vacations is no vacation notice.
        let rentals = Replies.message(to: Self.to, subject: "Re: Vacation rentals banned; absence of rain", body: "weekly\n")
        #expect(kind(rentals) == .command([.cadence(.weekly)]))
        let automatic = Replies.message(to: Self.to, subject: "Automatic reply: Re: Top stories", body: "weekly\n")
        #expect(kind(automatic) == .autoReply("subject says \"automatic reply\""))
        let precedence = Replies.message(to: Self.to, headers: ["Precedence: auto_reply"], body: "weekly\n")
        #expect(kind(precedence) == .autoReply("Precedence: auto_reply"))
        let junk = Replies.message(to: Self.to, headers: ["Precedence: junk"], body: "I am away.\n")
        #expect(kind(junk) == .autoReply("Precedence: junk"))
        let xAutoreply = Replies.message(to: Self.to, headers: ["X-Autoreply: yes"], body: "weekly\n")
        #expect(kind(xAutoreply) == .autoReply("X-Autoreply header"))
        #expect(kind(Replies.dsn(to: "bounces+x@courier.example", recipient: "a@b.example", status: "5.1.1")) == .bounce)
        let daemon = Replies.message(from: "MAILER-DAEMON@mx.example", to: Self.to, body: "Your mail could not be delivered.\n")
        guard case .unrecognized = kind(daemon) else {
            Issue.record("a bounce in a format of its own is no letter: \(kind(daemon))")
            return
        }
    }

    @Test func replyTokensNameTheReaderAndTheEditionAndCannotBeForged() throws {
        let signer = try LinkSigner(secret: String(repeating: "k", count: 32))
        let replies = ReplyAddress(base: try EmailAddress("reply@courier.example"), signer: signer)
        let reference = ReplyAddress.Reference(date: Day("2026-11-24")!, kind: .weekly, subscriberID: 42)
        let address = replies.address(for: reference).description
        #expect(address.hasPrefix("reply+20261124w-42-") && address.hasSuffix("@courier.example"))
        #expect(replies.reference(in: "<\(address.uppercased())>") == reference)
        for kind in EditionKind.allCases {
            let other = ReplyAddress.Reference(date: Day("2026-11-24")!, kind: kind, subscriberID: 42)
            #expect(replies.reference(in: replies.address(for: other).description) == other)
        }
        // Another reader, another edition or kind, a VERP token under the reply address: refused.
        let verp = BounceAddress(base: try EmailAddress("bounces@courier.example"), signer: signer)
            .sender(for: .init(date: Day("2026-11-24")!, subscriberID: 42)).description
        for forged in [
            address.replacingOccurrences(of: "-42-", with: "-43-"),
            address.replacingOccurrences(of: "20261124w", with: "20261124d"),
            address.replacingOccurrences(of: "20261124w", with: "20261125w"),
            verp.replacingOccurrences(of: "bounces+20261124", with: "reply+20261124w"),
            address.replacingOccurrences(of: "@courier.example", with: "@elsewhere.example"),
        ] {
            #expect(replies.reference(in: forged) == nil, "\(forged)")
        }
        #expect(!reference.isExpired(today: Day("2027-01-08")!))
        #expect(reference.isExpired(today: Day("2027-01-09")!))
    }

    @Test func trustNeedsTheReadersOwnAddressAndATrustedPass() throws {
        var reader = Subscriber(email: try EmailAddress("reader0@reader.example"), status: .active)
        reader.id = 1
        let readerOne = reader
        let reference = ReplyAddress.Reference(date: Day("2026-11-24")!, kind: .daily, subscriberID: 1)
        let trust = ReplyTrust(trustedAuthservIds: ["mx.courier.example"])
        func refusal(
            from: String = "reader0@reader.example", _ results: [String] = [], reader: Subscriber? = nil,
            reference: ReplyAddress.Reference? = reference, today: Day = Day("2026-11-25")!
        ) throws -> ReplyTrust.Refusal? {
            trust.refusal(
                reference: reference, reader: reader ?? readerOne, from: try EmailAddress(from),
                authenticationResults: results, today: today)
        }
        #expect(try refusal() == nil, "no trusted results: the address is what counts")
        #expect(try refusal(from: "READER0@Reader.Example") == nil)
        #expect(try refusal(from: "mallory@evil.example") == .fromMismatch(from: "mallory@evil.example"))
        #expect(try refusal(reference: nil) == .noToken)
        #expect(try refusal(today: Day("2027-02-01")!) == .expired(Day("2026-11-24")!))
        var gone = reader
        gone.status = .unsubscribed
        #expect(try refusal(reader: gone) == .notActive(.unsubscribed))
        let dkimPass = "mx.courier.example; dkim=pass (2048-bit key) header.d=reader.example header.s=s1; spf=fail smtp.mailfrom=reader.example"
        let spfPass = "mx.courier.example 1; spf=pass smtp.mailfrom=sam@reader.example; dkim=none"
        let failing = "mx.courier.example; dkim=fail header.d=reader.example; spf=softfail smtp.mailfrom=reader.example; dmarc=fail"
        let otherDomain = "mx.courier.example; dkim=pass header.d=bulk-sender.example; spf=pass smtp.mailfrom=bulk-sender.example"
        let untrusted = "mx.evil.example; dkim=pass header.d=reader.example; spf=pass smtp.mailfrom=reader.example"
        #expect(try refusal([dkimPass]) == nil)
        #expect(try refusal([spfPass]) == nil)
        #expect(try refusal([untrusted]) == nil, "an untrusted server's results are ignored")
        guard case .authenticationFailed(let why)? = try refusal([failing]) else {
            Issue.record("a failing trusted result must refuse")
            return
        }
        #expect(why.contains("dkim=fail") && why.contains("reader.example"))
        #expect(try refusal([otherDomain]) != nil, "a pass for another domain is no pass for the From's")
        #expect(try refusal([untrusted, failing]) != nil, "a forged pass above the trusted failure changes nothing")
    }

    /// Each command on a reader value, with the preferences page's rules: what changes, what the "Done:" mail says,
    /// and how to undo it. Pure: no store.
    @Test func commandsChangeTheReaderAsThePreferencesPageWould() throws {
        var reader = Subscriber(email: try EmailAddress("reader0@reader.example"), status: .active)
        let today = Day("2026-11-25")!
        let now = Fixtures.date("2026-11-25T08:00:00Z")
        func apply(_ command: ReplyCommand) throws -> InboundMails.Done? {
            try command.apply(to: &reader, today: today, now: now, signUpURL: "https://courier.example/subscribe")
        }
        let weekly = try #require(try apply(.cadence(.weekly)))
        #expect(reader.cadence == .weekly && weekly.summary == "your digest is now weekly" && weekly.undo == "reply \"daily\"")
        #expect(try apply(.cadence(.weekly))?.undo == nil, "already weekly: nothing to undo")
        let paused = try #require(try apply(.pause(days: 14)))
        #expect(reader.pausedUntil == Day("2026-12-09") && paused.undo == "reply \"resume\"")
        #expect(try apply(.pauseUntil(Day("2027-01-10")!))?.undo == "reply \"pause until 2026-12-09\"")
        let past = try #require(try apply(.pauseUntil(Day("2026-11-20")!)))
        #expect(past.summary.hasPrefix("nothing changed") && reader.pausedUntil == Day("2027-01-10"))
        #expect(try apply(.pauseUntil(Day("2028-01-10")!))?.sentences.first?.hasPrefix("Choose a day within a year") == true)
        #expect(try apply(.resume)?.undo == "reply \"pause until 2027-01-10\"" && reader.pausedUntil == nil)
        #expect(try apply(.resume)?.summary == "your digest was not paused")
        #expect(try apply(.vote([3])) == nil, "votes are counted elsewhere")
        let stop = try #require(try apply(.stop))
        #expect(reader.status == .unsubscribed && reader.unsubscribedAt == now)
        #expect(stop.undo == "sign up again at https://courier.example/subscribe")
        #expect([ReplyCommand.vote([3, 7]), .pause(days: 14), .pauseUntil(Day("2027-01-10")!)].map(\.word)
            == ["+3 +7", "pause 14", "pause until 2027-01-10"])
    }
}
