import Foundation

/// One mutex with several condition variables, so a thread can wake exactly the kind of thread that can act
/// now (a finisher for a composed message, a sender for a signed one) instead of every waiting thread: with
/// eight senders, two signers and a composer, `NSCondition.broadcast()` per event woke ten threads to let one
/// of them on, which cost more CPU per message than a DKIM signature's hashing.
///
/// "The pthread_cond_signal() function shall unblock at least one of the threads that are blocked on the
/// specified condition variable cond (if any threads are blocked on cond)." "The pthread_cond_wait() ...
/// functions shall block on a condition variable. ... They shall be called with mutex locked by the calling
/// thread" — https://pubs.opengroup.org/onlinepubs/9699919799/functions/pthread_cond_signal.html,
/// …/pthread_cond_wait.html. Wake-ups may be spurious, so every wait sits in a loop that checks its state.
final class ConditionLock: @unchecked Sendable {
    // @unchecked: the pthread objects are what make it safe to share; they never move (allocated, not stored inline).
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let count: Int

    /// A lock with `conditions` condition variables, numbered from 0.
    init(conditions: Int) {
        count = conditions
        self.conditions = .allocate(capacity: conditions)
        pthread_mutex_init(mutex, nil)
        for index in 0..<conditions { pthread_cond_init(self.conditions + index, nil) }
    }

    deinit {
        for index in 0..<count { pthread_cond_destroy(conditions + index) }
        pthread_mutex_destroy(mutex)
        conditions.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    /// Releases the lock, waits for `condition` to be signalled, and takes the lock again. Hold the lock.
    func wait(_ condition: Int) { pthread_cond_wait(conditions + condition, mutex) }

    /// Wakes one thread waiting on `condition` (nothing when none waits).
    func signal(_ condition: Int) { pthread_cond_signal(conditions + condition) }

    /// Wakes every thread waiting on `condition`.
    func broadcast(_ condition: Int) { pthread_cond_broadcast(conditions + condition) }
}
