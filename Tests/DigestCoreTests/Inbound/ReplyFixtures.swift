import Foundation

@testable import DigestCore

/// Replies to a digest as mail programs write them: who answers, to which reply address, and the body in the shape
/// each program gives it (top- or bottom-posted, quoted how it quotes, encoded how it encodes).
enum Replies {
    /// A whole message: headers, then `body` (already in its transfer encoding), CRLF line ends.
    static func message(
        from: String = "reader0@reader.example", to: String, subject: String = "Re: Top stories of 24 November",
        messageID: String = "<\(UUID().uuidString)@mail.reader.example>", headers: [String] = [],
        contentType: String = "text/plain; charset=utf-8", encoding: String? = nil, body: String
    ) -> String {
        var lines = [
            "Return-Path: <\(from)>", "Delivered-To: \(to)", "From: \(from)", "To: \(to)", "Subject: \(subject)",
            "Date: Wed, 25 Nov 2026 07:30:00 +0000", "Message-ID: \(messageID)", "In-Reply-To: <digest.20261124.1.f00d@courier.example>",
            "MIME-Version: 1.0", "Content-Type: \(contentType)",
        ]
        if let encoding { lines.append("Content-Transfer-Encoding: \(encoding)") }
        lines += headers
        return (lines.joined(separator: "\r\n") + "\r\n\r\n" + body).replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "\n", with: "\r\n")
    }

    /// The quoted digest, with the numbers printed beside its items: a "+3" here is the digest's, not the reader's.
    static let quotedDigest = """
        > Top stories
        > 1. Budget passes +1
        > 2. Rain tomorrow +2
        > 3. New library opens +3
        > Reply with +3 to vote for item 3, or "weekly" to get the week's best.
        """

    /// Gmail, top-posted: text/plain and HTML, the quote under an "On … wrote:" wrapped over two lines, and in the
    /// HTML a gmail_quote div around a blockquote.
    static func gmail(_ own: String, to: String, from: String = "reader0@reader.example") -> String {
        message(
            from: from, to: to, contentType: "multipart/alternative; boundary=\"000000000000abcdef\"",
            body: """
                --000000000000abcdef
                Content-Type: text/plain; charset="UTF-8"

                \(own)

                On Tue, Nov 24, 2026 at 7:00 AM The Amman Courier <
                \(to)> wrote:

                \(quotedDigest)

                --000000000000abcdef
                Content-Type: text/html; charset="UTF-8"

                <div dir="ltr">\(own.replacingOccurrences(of: "\n", with: "<br>"))</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, Nov 24, 2026 at 7:00 AM The Amman Courier &lt;<a href="mailto:\(to)">\(to)</a>&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex"><div>Top stories<br>3. New library opens +3<br><div>weekly</div></div></blockquote></div>

                --000000000000abcdef--

                """)
    }

    /// Gmail, HTML only (as some clients send): the quote only in the gmail_quote div.
    static func gmailHTMLOnly(_ own: String, to: String) -> String {
        message(
            to: to, contentType: "text/html; charset=UTF-8",
            body: """
                <html><body><div dir="ltr"><div>\(own)</div><div><br></div></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, Nov 24, 2026 at 7:00 AM The Amman Courier wrote:<br></div><blockquote class="gmail_quote"><div><div>+3</div><blockquote><div>stop</div></blockquote><div>pause 14</div></div></blockquote></div></body></html>

                """)
    }

    /// Outlook, top-posted, quoted-printable: the quote under a line of underscores and a From/Sent/To/Subject
    /// block, not marked with ">".
    static func outlook(_ own: String, to: String) -> String {
        message(
            to: to, contentType: "text/plain; charset=\"iso-8859-1\"", encoding: "quoted-printable",
            body: """
                \(own)=0D
                =0D
                ________________________________=0D
                From: The Amman Courier <\(to)>=0D
                Sent: Tuesday, November 24, 2026 7:00 AM=0D
                To: reader0@reader.example=0D
                Subject: Top stories of 24 November=0D
                =0D
                Top stories=0D
                3. New library opens +3=0D
                Reply with +3 to vote, or stop to unsubscribe. Caf=E9 opens.=0D

                """)
    }

    /// Outlook's HTML, only: the reply, then `divRplyFwdMsg` and the quoted digest after it, unmarked.
    static func outlookHTML(_ own: String, to: String) -> String {
        message(
            to: to, contentType: "text/html; charset=\"us-ascii\"", encoding: "quoted-printable",
            body: """
                <html><head><style>p {margin:0}</style></head><body><div style=3D"font-family: Calibri">\(own)</div><hr s=
                tyle=3D"display:inline-block;width:98%"><div id=3D"divRplyFwdMsg" dir=3D"ltr"><font face=3D"Calibri"><b>From:</b> The Amman Courier<br><b>Sent:</b> Tuesday, November 24, 2026 7:00 AM</font></div><div>+3 +7 stop</div></body></html>

                """)
    }

    /// Outlook's plain text with "-----Original Message-----".
    static func outlookOriginalMessage(_ own: String, to: String) -> String {
        message(
            to: to,
            body: """
                \(own)

                -----Original Message-----
                From: The Amman Courier <\(to)>
                Sent: Tuesday, November 24, 2026 7:00 AM
                Subject: Top stories

                3. New library opens +3

                """)
    }

    /// Apple Mail on an iPhone, top-posted, quoted-printable: "Sent from my iPhone", an attribution, ">" quotes.
    static func appleMail(_ own: String, to: String) -> String {
        message(
            to: to, contentType: "text/plain; charset=utf-8", encoding: "quoted-printable",
            body: """
                \(own)

                Sent from my iPhone

                > On Nov 24, 2026, at 07:00, The Amman Courier <\(to)> wrote:
                >=20
                > =EF=BB=BFTop stories
                > 3. New library opens +3 =E2=80=A6 a very long line that Apple Mail breaks w=
                ith a soft line break

                """)
    }

    /// Thunderbird, bottom-posted: the attribution and the quote first, the reader's lines under them.
    static func thunderbird(_ own: String, to: String, base64: Bool = false) -> String {
        let text = """
            On 24/11/2026 07:00, The Amman Courier wrote:
            \(quotedDigest)

            \(own)

            --\u{20}
            Sam, reader since 2020
            +1 for the library (a signature says nothing)

            """
        guard base64 else { return message(to: to, contentType: "text/plain; charset=UTF-8; format=flowed", body: text) }
        let encoded = Data(text.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
        return message(to: to, contentType: "text/plain; charset=UTF-8", encoding: "base64", body: encoded + "\n")
    }

    /// Gmail in Arabic, base64: Arabic-Indic digits, the attribution with its verb first.
    static func arabic(_ own: String, to: String) -> String {
        let text = """
            \(own)

            في الثلاثاء، ٢٤ نوفمبر ٢٠٢٦ في ٧:٠٠ ص، كتب The Amman Courier <\(to)>:

            > أهم الأخبار
            > ٣. افتتاح مكتبة جديدة +٣

            """
        let encoded = Data(text.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
        return message(to: to, contentType: "text/plain; charset=\"UTF-8\"", encoding: "base64", body: encoded + "\n")
    }

    /// An out-of-office answer to a digest, marked as RFC 3834 says.
    static func outOfOffice(to: String) -> String {
        message(
            to: to, subject: "Automatic reply: Top stories of 24 November", headers: ["Auto-Submitted: auto-replied"],
            body: "I am away until Monday.\n+3\n")
    }

    /// A bounce report (RFC 3464).
    static func dsn(to: String, recipient: String, status: String) -> String {
        Reports.dsn(to: to, recipient: recipient, status: status, originalMessageID: "<x@courier.example>")
    }
}
