import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

extension StatsFiguresTests {
    /// The dashboard of the story's database (30 days ending 2026-11-24, everything of the story in it): every
    /// tile says what the story put there, and every bar and point of its charts stands for the figure of its
    /// night or day (the SVG parsed back).
    static func checkDashboard(_ client: some TestClientProtocol, headers: HTTPFields) async throws {
        let page = try await client.execute(uri: "/admin/?days=30", method: .get, headers: headers) { response in
            #expect(response.status == .ok)
            return response.text
        }
        func tile(_ label: String, _ value: String, _ delta: String) -> String {
            "class=\"label\">\(label)</a><span class=\"value\">\(value)</span><span class=\"delta\">\(delta)</span>"
        }
        // Readers by status, with the change over the period (all of the story: the period began with none).
        for (label, value, delta) in [
            ("Pending", "1", "+1"), ("Active", "2", "+2"), ("Unsubscribed", "2", "+2"), ("Bounced", "1", "+1"),
        ] {
            #expect(page.contains(tile(label, value, delta)), "\(label)")
        }
        // The last run at a glance, and the period's totals with the complaint rate over the 0.3 % line.
        for (label, value) in [("Sent", "2"), ("Deferred", "0"), ("Failed", "0"), ("Skipped", "0")] {
            #expect(page.contains("<span class=\"label\">\(label)</span><span class=\"value\">\(value)</span></li>"), "\(label)")
        }
        #expect(page.contains("exit 0 (everything sent or skipped)"))
        #expect(page.contains("<span class=\"label\">Messages sent</span><span class=\"value\">15</span>"))
        #expect(page.contains("<span class=\"label\">Sign-ups</span><span class=\"value\">6</span>"))
        #expect(page.contains("<span class=\"label\">Unsubscribes</span><span class=\"value\">2</span>"))
        #expect(page.contains("<span class=\"label\">Complaint rate</span><span class=\"value warn\">6.67 %</span>"))
        #expect(page.contains("<span class=\"label\">Hard-bounce rate</span><span class=\"value warn\">20 %</span>"))
        #expect(page.contains("<td>2026-11-25 06:00 UTC</td>"))

        let messages = try SVGChartReader(try #require(svg("messages", in: page)))
        let sent: [Double] = messages.bars.filter { $0.series == "Sent" }.map { $0.value }
        #expect(sent == [5, 4, 4, 2])
        #expect(messages.bars.allSatisfy { $0.series == "Sent" })
        let rates = try SVGChartReader(try #require(svg("rates", in: page)))
        let hard: [Double] = [0.2, 0.25, 0.25, 0]
        let complaints: [Double] = [0, 0.25, 0, 0]
        #expect(rates.points["Hard bounces"] == hard)
        #expect(rates.points["Complaints"] == complaints)
        #expect(rates.thresholds == [0.003, 0.02])
        // The list, day by day over the 30 days: six sign-ups and four confirmations on the 20th.
        let growth = try SVGChartReader(try #require(svg("growth", in: page)))
        let signedUp: [Double] = growth.points["Signed up"] ?? []
        #expect(signedUp.count == 30)
        #expect(signedUp.reduce(0, +) == 6)
        func values(_ series: String) -> [Double] { growth.bars.filter { $0.series == series }.map { $0.value } }
        #expect(values("Confirmed") == [4])
        #expect(values("Unsubscribed").reduce(0, +) == 2)
        #expect(values("Bounced") == [1])
        // Clicks per night: a bar for each night whose editions were clicked.
        let clicks = try SVGChartReader(try #require(svg("clicks", in: page)))
        #expect(clicks.bars.map(\.value) == [3, 1])
        #expect(clicks.summary.hasSuffix("4 clicks in all."))
    }

    /// The chart `id`'s SVG out of a page.
    static func svg(_ id: String, in page: String) -> String? {
        guard let start = page.range(of: "<svg class=\"chart\" role=\"img\" aria-labelledby=\"\(id)-title"),
            let end = page.range(of: "</svg>", range: start.upperBound..<page.endIndex)
        else { return nil }
        return String(page[start.lowerBound..<end.upperBound])
    }
}
