extension ComposeAhead {
    /// What the compose-ahead buffer holds and who may do what next: the composer, the finishing workers
    /// (DKIM signing) and the senders each ask for their next step and report what they did. A value whose
    /// events return actions and do no waiting, so every transition is tested without threads
    /// (`ComposeAheadStateTests`); `ComposeAhead` runs it under one lock.
    ///
    /// Items keep the order they were composed in: each has a slot, the senders take the front slot once it
    /// is finished, and the finishers take the oldest slot still to finish. So however many finishers there
    /// are and whichever of them ends first, the senders see the messages in the order the composer made them.
    struct State {
        enum Slot {
            /// Composed; to be finished by a finisher.
            case composed(Item)
            /// A finisher is working on it.
            case finishing
            /// Ready for a sender.
            case ready(Item)
        }

        /// At most this many slots (composed and not yet taken) at once.
        let capacity: Int
        /// Whether items pass through finishers; without, a composed item is ready at once.
        let finishes: Bool
        /// Oldest first; `slots[0]` is the item number `taken`.
        private(set) var slots: [Slot] = []
        /// Items the senders have taken so far.
        private(set) var taken = 0
        /// The composer has no more.
        private(set) var exhausted = false
        private(set) var stopping = false

        init(capacity: Int, finishes: Bool) {
            self.capacity = max(1, capacity)
            self.finishes = finishes
        }

        /// Whom an event lets go on: the threads of that kind to wake, one each (or all of them), so no thread
        /// is woken only to wait again.
        struct Wakes: OptionSet, Equatable {
            let rawValue: Int
            /// The composer: there is room again.
            static var composer: Wakes { Wakes(rawValue: 1) }
            /// A finisher: an item is waiting to be finished.
            static var finisher: Wakes { Wakes(rawValue: 2) }
            /// A sender: the front item is ready.
            static var sender: Wakes { Wakes(rawValue: 4) }
            /// Every thread: the composer has no more, or the buffer stops.
            static var everyone: Wakes { Wakes(rawValue: 8) }
        }

        enum ComposerAction: Equatable {
            case compose
            case wait
            case exit
        }

        /// The composer asks whether to compose the next item.
        func composerNext() -> ComposerAction {
            if stopping || exhausted { return .exit }
            return slots.count < capacity ? .compose : .wait
        }

        /// The composer made `item`; nil: it has no more (and exits).
        mutating func composed(_ item: Item?) -> Wakes {
            guard let item else {
                exhausted = true
                return .everyone
            }
            slots.append(finishes ? .composed(item) : .ready(item))
            return finishes ? .finisher : slots.count == 1 ? .sender : []
        }

        enum FinisherAction {
            /// Finish `item`, then report it with `finished(number:_:)`.
            case finish(number: Int, Item)
            case wait
            case exit
        }

        /// A finisher asks for work: the oldest item still to finish.
        mutating func finisherNext() -> FinisherAction {
            if stopping { return .exit }
            for index in slots.indices {
                if case .composed(let item) = slots[index] {
                    slots[index] = .finishing
                    return .finish(number: taken + index, item)
                }
            }
            return exhausted ? .exit : .wait
        }

        /// A finisher is done with item `number`: a sender may go on if it is the front one.
        mutating func finished(number: Int, _ item: Item) -> Wakes {
            slots[number - taken] = .ready(item)
            return number == taken ? .sender : []
        }

        enum TakeAction {
            /// Send `item`, after waking `wakes`: the composer (there is room now) and, when the next item is
            /// ready too, another sender.
            case take(Item, wakes: Wakes)
            case wait
            /// Nothing more will come: the composer has no more and every item was taken, or the buffer stops.
            case end
        }

        /// A sender asks for the next item in order.
        mutating func take() -> TakeAction {
            if stopping { return .end }
            guard let first = slots.first else { return exhausted ? .end : .wait }
            guard case .ready(let item) = first else { return .wait }
            slots.removeFirst()
            taken += 1
            var wakes: Wakes = exhausted ? [] : .composer
            if case .ready = slots.first { wakes.insert(.sender) }
            return .take(item, wakes: wakes)
        }

        /// Stop composing and finishing: the composer and the finishers exit once done with the item in hand.
        mutating func stop() -> Wakes {
            stopping = true
            return .everyone
        }

        /// Once every thread has exited: how many items were never taken, dropped here.
        mutating func drain() -> Int {
            let left = slots.count
            slots = []
            return left
        }
    }
}
