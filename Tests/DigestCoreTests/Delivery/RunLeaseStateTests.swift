import Testing

@testable import DigestCore

/// `RunLease.State`: the run lock's renewal schedule and validity, event by event, without threads or a
/// database. Time is an input: seconds on the monotonic clock, as `RunLease.uptime` reads them.
@Suite struct RunLeaseStateTests {
    typealias State = RunLease.State

    /// A 60-second lease taken with a write sent at uptime 100.
    func lease() -> State {
        State(length: 60, takenAt: 100)
    }

    // MARK: The renewal schedule

    @Test func theRenewingThreadRenewsEveryThirdOfALease() {
        var state = lease()
        #expect(state.renewerStep(now: 100) == .wait(seconds: 20))
        // A wake-up before the renewal is due (spurious, or the wall clock stepped) waits for what is left.
        #expect(state.renewerStep(now: 105) == .wait(seconds: 15))
        #expect(state.renewerStep(now: 120) == .renew)
        // The next renewal is due a third of a lease after the answer, not after the question.
        #expect(state.renewerRenewed(startedAt: 120, .renewed, now: 121) == .wait(seconds: 20))
        #expect(state.validUntil == 180)
        #expect(state.renewerStep(now: 141) == .renew)
    }

    /// The process slept past its renewal (SIGSTOP, a frozen VM): the thread renews at once when it wakes.
    @Test func aRenewingThreadThatWakesLateRenewsAtOnce() {
        var state = lease()
        #expect(state.renewerStep(now: 100) == .wait(seconds: 20))
        #expect(state.renewerStep(now: 400) == .renew)
        #expect(state.renewerRenewed(startedAt: 400, .renewed, now: 400) == .wait(seconds: 20))
        #expect(state.validUntil == 460)
    }

    // MARK: Validity on the monotonic clock

    @Test func aLeaseIsValidWithoutAskingWhileMoreThanAThirdIsLeft() {
        let state = lease()
        #expect(state.check(now: 100) == .valid)
        #expect(state.check(now: 139.9) == .valid)
        // Less than a third left: the renewals should have moved it on, so they stopped; ask the database.
        #expect(state.check(now: 140) == .confirm)
        #expect(state.check(now: 400) == .confirm)
    }

    @Test func aConfirmedRenewalExtendsTheLeaseFromWhenItWasSent() {
        var state = lease()
        #expect(state.check(now: 250) == .confirm)
        #expect(state.renewalEnded(startedAt: 250, .renewed) == .ours)
        #expect(state.validUntil == 310)
        #expect(state.check(now: 251) == .valid)
    }

    /// A check's renewal and the thread's may cross: the one sent earlier, answered later, keeps the later expiry.
    @Test func crossingRenewalsKeepTheLaterExpiry() {
        var state = lease()
        #expect(state.renewalEnded(startedAt: 150, .renewed) == .ours)
        #expect(state.renewalEnded(startedAt: 140, .renewed) == .ours)
        #expect(state.validUntil == 210)
    }

    /// A renewal the database did not answer (its write failed) neither confirms nor loses the lease: it holds
    /// while the last confirmed renewal lasts, and is asked again after.
    @Test func anUnansweredRenewalHoldsOnlyWhileTheLastConfirmedOneLasts() {
        var state = lease()
        #expect(state.renewalEnded(startedAt: 159, .unanswered) == .ours)
        #expect(state.validUntil == 160)
        #expect(state.renewalEnded(startedAt: 160, .unanswered) == .lost)
        #expect(!state.lost, "not known to be another run's")
        #expect(state.check(now: 161) == .confirm)
        // The renewing thread gives up and stops the run.
        #expect(state.renewerRenewed(startedAt: 160, .unanswered, now: 161) == .lost)
        // The row may still be this run's: it is given back.
        #expect(state.release() == .giveBack)
    }

    // MARK: A lost lease

    @Test func aLeaseAnotherRunHoldsIsLostForGood() {
        var state = lease()
        #expect(state.check(now: 170) == .confirm)
        #expect(state.renewalEnded(startedAt: 170, .heldByAnother) == .lost)
        #expect(state.lost)
        #expect(state.check(now: 171) == .lost)
        // A later renewal that crossed it does not bring it back.
        #expect(state.renewalEnded(startedAt: 171, .renewed) == .ours)
        #expect(state.check(now: 172) == .lost)
        // The renewing thread, when it wakes, stops the run instead of renewing.
        #expect(state.renewerStep(now: 100) == .wait(seconds: 20))
        #expect(state.renewerStep(now: 120) == .lost)
        // The row is the other run's now: left alone.
        #expect(state.release() == .leave)
    }

    @Test func theRenewingThreadThatMeetsAnotherHolderStopsTheRun() {
        var state = lease()
        #expect(state.renewerStep(now: 100) == .wait(seconds: 20))
        #expect(state.renewerStep(now: 120) == .renew)
        #expect(state.renewerRenewed(startedAt: 120, .heldByAnother, now: 121) == .lost)
        #expect(state.check(now: 121) == .lost)
    }

    // MARK: Release

    @Test func releaseEndsTheRenewingThreadAndGivesTheLeaseBack() {
        var state = lease()
        #expect(state.renewerStep(now: 100) == .wait(seconds: 20))
        #expect(state.release() == .giveBack)
        #expect(state.renewerStep(now: 101) == .exit)
        // Released while a renewal was on its way: the thread ends when it comes back.
        var renewing = lease()
        _ = renewing.renewerStep(now: 100)
        #expect(renewing.renewerStep(now: 120) == .renew)
        _ = renewing.release()
        #expect(renewing.renewerRenewed(startedAt: 120, .renewed, now: 121) == .exit)
    }
}
