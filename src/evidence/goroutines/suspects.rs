//! Leak suspects: big groups of goroutines blocked a long time, with the
//! known signatures named. Each suspect carries a stable `key` that search,
//! similar incidents and playbook suggestions match on, a cause category
//! from the taxonomy, and the playbooks to follow.

use super::{GroupView, Suspect, SuspectEvidence};

/// A group this big, waiting this long, is a suspect.
pub const MIN_GROUP_SIZE: u64 = 10;
/// Minutes a group must have waited (the dump shows waits of a minute and
/// more only) before it counts as stuck.
pub const MIN_WAIT_MINUTES: u32 = 1;

/// The cause categories of the taxonomy that suspects use.
pub mod category {
    pub const GOROUTINE_LEAK: &str = "goroutine leak";
    pub const MISSING_TIMEOUT: &str = "missing timeout";
    pub const CONTEXT_NOT_PROPAGATED: &str = "context not propagated";
    pub const RESOURCE_EXHAUSTION: &str = "resource exhaustion";
}

/// Playbook slugs, as the starter playbooks are named.
pub mod playbook {
    pub const HTTP_CLIENT_HARDENING: &str = "http-client-hardening";
    pub const GOROUTINE_LEAK_HUNT: &str = "goroutine-leak-hunt";
    pub const CONTEXT_DEADLINES: &str = "context-deadlines";
    pub const LOCK_CONTENTION: &str = "lock-contention";
}

/// The stable keys of the suspects.
pub mod key {
    pub const HTTP_CLIENT_PERSISTCONN: &str = "http-client-persistconn";
    pub const HTTP_HANDLER_STUCK: &str = "http-handler-stuck";
    pub const CHAN_SEND_NO_RECEIVER: &str = "chan-send-no-receiver";
    pub const CHAN_RECEIVE_NO_SENDER: &str = "chan-receive-no-sender";
    pub const NIL_CHANNEL_WAIT: &str = "nil-channel-wait";
    pub const SELECT_NEVER_READY: &str = "select-never-ready";
    pub const CONTEXT_NEVER_CANCELLED: &str = "context-never-cancelled";
    pub const MUTEX_PILEUP: &str = "mutex-pileup";
    pub const WAITGROUP_PILEUP: &str = "waitgroup-pileup";
    pub const LEAKED_GOROUTINE: &str = "leaked-goroutine";
    /// From a heap profile: timers made in a loop and kept until they fire.
    pub const TIMER_IN_LOOP: &str = "timer-in-loop";
}

/// What a rule names a group.
struct Kind {
    key: &'static str,
    signature: &'static str,
    explanation: &'static str,
    cause_category: &'static str,
    playbooks: &'static [&'static str],
    /// The runtime itself says these goroutines are stuck: no size or wait
    /// threshold applies.
    certain: bool,
}

const LEAKED: Kind = Kind {
    key: key::LEAKED_GOROUTINE,
    signature: "goroutines the runtime's leak detector marked (leaked)",
    explanation: "The goroutine leak profile found these goroutines blocked on something no live goroutine can \
        ever reach: they will never run again and hold their memory for good. Find where they are started and \
        give the blocked operation a peer, a buffer, or a way out through a context.",
    cause_category: category::GOROUTINE_LEAK,
    playbooks: &[playbook::GOROUTINE_LEAK_HUNT],
    certain: true,
};

const HTTP_CLIENT: Kind = Kind {
    key: key::HTTP_CLIENT_PERSISTCONN,
    signature: "HTTP client connections piling up in persistConn readLoop / writeLoop / roundTrip",
    explanation: "Each outgoing HTTP connection keeps a readLoop and a writeLoop goroutine, and each request in \
        flight waits in roundTrip. Hundreds of them waiting for minutes mean requests that never finish: an \
        http.Client without a Timeout (or requests without a context deadline) talking to a slow or silent \
        server, or response bodies that are never closed.",
    cause_category: category::MISSING_TIMEOUT,
    playbooks: &[playbook::HTTP_CLIENT_HARDENING, playbook::GOROUTINE_LEAK_HUNT],
    certain: false,
};

const HTTP_HANDLER: Kind = Kind {
    key: key::HTTP_HANDLER_STUCK,
    signature: "HTTP handlers that never return",
    explanation: "Server goroutines are parked inside a handler for minutes: the handler waits on something \
        that does not come and ignores the request's context, so connections and goroutines accumulate.",
    cause_category: category::CONTEXT_NOT_PROPAGATED,
    playbooks: &[playbook::CONTEXT_DEADLINES, playbook::GOROUTINE_LEAK_HUNT],
    certain: false,
};

const MUTEX: Kind = Kind {
    key: key::MUTEX_PILEUP,
    signature: "goroutines queued on one mutex",
    explanation: "Many goroutines wait to lock the same sync.Mutex or RWMutex for minutes: one holder keeps the \
        lock across a slow operation (I/O, a channel wait, a call to another service) and everyone else queues \
        behind it. Look for the goroutine inside the locked section.",
    cause_category: category::RESOURCE_EXHAUSTION,
    playbooks: &[playbook::LOCK_CONTENTION, playbook::GOROUTINE_LEAK_HUNT],
    certain: false,
};

const WAITGROUP: Kind = Kind {
    key: key::WAITGROUP_PILEUP,
    signature: "goroutines waiting on a WaitGroup that never finishes",
    explanation: "These goroutines wait in sync.WaitGroup.Wait for minutes: a worker they wait for never called \
        Done (it never started, returned early without Done, or is itself stuck).",
    cause_category: category::GOROUTINE_LEAK,
    playbooks: &[playbook::GOROUTINE_LEAK_HUNT],
    certain: false,
};

const NIL_CHANNEL: Kind = Kind {
    key: key::NIL_CHANNEL_WAIT,
    signature: "operations on a nil channel, which block forever",
    explanation: "A send or receive on a nil channel never completes. The usual source is a context that can \
        never be cancelled: context.Background().Done() and context.TODO().Done() return nil.",
    cause_category: category::CONTEXT_NOT_PROPAGATED,
    playbooks: &[playbook::CONTEXT_DEADLINES, playbook::GOROUTINE_LEAK_HUNT],
    certain: false,
};

const CONTEXT: Kind = Kind {
    key: key::CONTEXT_NEVER_CANCELLED,
    signature: "goroutines waiting on a context that is never cancelled",
    explanation: "These goroutines take a context and wait on it for minutes: their context's cancel function \
        was dropped or never called, or its deadline is far away, so ctx.Done() never closes. Pass the \
        request's context down, call cancel on every path, and give background work a deadline.",
    cause_category: category::CONTEXT_NOT_PROPAGATED,
    playbooks: &[playbook::CONTEXT_DEADLINES, playbook::GOROUTINE_LEAK_HUNT],
    certain: false,
};

const CHAN_SEND: Kind = Kind {
    key: key::CHAN_SEND_NO_RECEIVER,
    signature: "channel sends with no receiver",
    explanation: "Goroutines block sending on a channel nobody reads any more: the receiver returned (often on \
        a timeout or an error) and the senders leak. Buffer the channel for the results expected, or select on \
        a done channel or context when sending.",
    cause_category: category::GOROUTINE_LEAK,
    playbooks: &[playbook::GOROUTINE_LEAK_HUNT],
    certain: false,
};

const CHAN_RECEIVE: Kind = Kind {
    key: key::CHAN_RECEIVE_NO_SENDER,
    signature: "channel receives with no sender",
    explanation: "Goroutines block receiving from a channel that nothing writes and nobody closes: the \
        producer never started, exited without close, or ranges over a channel left open.",
    cause_category: category::GOROUTINE_LEAK,
    playbooks: &[playbook::GOROUTINE_LEAK_HUNT],
    certain: false,
};

const SELECT: Kind = Kind {
    key: key::SELECT_NEVER_READY,
    signature: "selects none of whose cases ever becomes ready",
    explanation: "Goroutines sit in a select for minutes: no case they wait on is ever ready, and there is no \
        done channel, context or timeout case to leave by.",
    cause_category: category::GOROUTINE_LEAK,
    playbooks: &[playbook::GOROUTINE_LEAK_HUNT, playbook::CONTEXT_DEADLINES],
    certain: false,
};

/// Names a group, if a signature fits it; size and wait are checked after.
fn classify(group: &GroupView) -> Option<&'static Kind> {
    let state = wait_reason(&group.state);
    let has = |prefix: &str| group.frames.iter().any(|frame| frame.function.starts_with(prefix));
    if group.leaked {
        return Some(&LEAKED);
    }
    if has("net/http.(*persistConn).") {
        return Some(&HTTP_CLIENT);
    }
    if state.starts_with("sync.WaitGroup.Wait") || has("sync.(*WaitGroup).Wait") {
        return Some(&WAITGROUP);
    }
    let mutex_state = ["sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.RWMutex.RLock"];
    if mutex_state.contains(&state)
        || has("sync.(*Mutex).Lock")
        || has("sync.(*RWMutex).Lock")
        || has("sync.(*RWMutex).RLock")
    {
        return Some(&MUTEX);
    }
    if state.ends_with("(nil chan)") || state == "select (no cases)" {
        return Some(&NIL_CHANNEL);
    }
    let waits_on_channel = matches!(state, "chan receive" | "chan send" | "select");
    if waits_on_channel && has("net/http.(*conn).serve") {
        return Some(&HTTP_HANDLER);
    }
    if matches!(state, "chan receive" | "select") && takes_a_context(group) {
        return Some(&CONTEXT);
    }
    match state {
        "chan send" => Some(&CHAN_SEND),
        "chan receive" => Some(&CHAN_RECEIVE),
        "select" => Some(&SELECT),
        _ => None,
    }
}

/// The state without the markers the runtime adds to it: `(leaked)`,
/// `(durable)`, `(scan)`, `(synctest)`.
pub fn wait_reason(state: &str) -> &str {
    let mut reason = state.trim();
    for marker in [" (leaked)", " (durable)", " (scan)", " (synctest)"] {
        reason = reason.strip_suffix(marker).unwrap_or(reason);
    }
    reason
}

/// Whether the blocked goroutine waits on a context: a `context.` frame
/// on its stack (`context.propagateCancel.func1`, `(*cancelCtx).Done`), or
/// an interface value among its first two arguments (where Go code passes
/// `ctx context.Context`, after the receiver of a method).
fn takes_a_context(group: &GroupView) -> bool {
    if group.frames.iter().any(|frame| frame.function.starts_with("context.")) {
        return true;
    }
    let Some(args) = group.user_args.as_deref() else { return false };
    top_level_args(args).into_iter().take(2).any(is_interface_value)
}

/// `0x1, {0x2, 0x3}, 0x4` → `["0x1", "{0x2, 0x3}", "0x4"]`.
fn top_level_args(args: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (at, byte) in args.bytes().enumerate() {
        match byte {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                parts.push(args[start..at].trim());
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(args[start..].trim());
    parts
}

/// An interface is printed as two words, both pointers: `{0x50c410?,
/// 0xc0000a20c0?}`. A string is two words too, but its second is a length.
fn is_interface_value(arg: &str) -> bool {
    let Some(inner) = arg.strip_prefix('{').and_then(|a| a.strip_suffix('}')) else { return false };
    let words: Vec<&str> = inner.split(',').map(|w| w.trim().trim_end_matches('?')).collect();
    let looks_like_pointer = |word: &str| {
        word.strip_prefix("0x").and_then(|hex| u64::from_str_radix(hex, 16).ok()).is_some_and(|v| v > 0xffff)
    };
    words.len() == 2 && words.iter().all(|w| looks_like_pointer(w))
}

/// For a lock pile-up in a method (`main.(*cache).get`), the small groups
/// in another method of the same type and not waiting for a lock: the
/// likely holder (`main.(*cache).refreshAll`, inside the locked section).
fn likely_holders(groups: &[GroupView], waiting: &GroupView) -> Vec<usize> {
    const MAX_HOLDER_GROUP: u64 = 2;
    let Some(user) = waiting.user_function.as_deref() else { return Vec::new() };
    let Some((receiver, _)) = user.rsplit_once(").") else { return Vec::new() };
    let prefix = format!("{receiver}).");
    groups
        .iter()
        .enumerate()
        .filter(|(_, group)| {
            group.count <= MAX_HOLDER_GROUP
                && !matches!(classify(group), Some(k) if k.key == key::MUTEX_PILEUP)
        })
        .filter(|(_, group)| {
            group.user_function.as_deref().is_some_and(|f| f.starts_with(&prefix) && f != user)
        })
        .map(|(index, _)| index)
        .collect()
}

/// The suspects of a dump's groups, one per key (its biggest group first,
/// the other groups listed), biggest first.
pub fn find_suspects(groups: &[GroupView], waits_known: bool) -> Vec<Suspect> {
    let mut suspects: Vec<Suspect> = Vec::new();
    for (index, group) in groups.iter().enumerate() {
        let Some(kind) = classify(group) else { continue };
        let stuck = match group.max_wait_minutes {
            Some(wait) => wait >= MIN_WAIT_MINUTES,
            // debug=1 profiles show no waits: only the signatures that
            // need none count there.
            None => {
                !waits_known
                    && matches!(
                        kind.key,
                        key::HTTP_CLIENT_PERSISTCONN | key::MUTEX_PILEUP | key::WAITGROUP_PILEUP
                    )
            }
        };
        let big_and_stuck = stuck && group.count >= MIN_GROUP_SIZE;
        if !(kind.certain || big_and_stuck) {
            continue;
        }
        if let Some(existing) = suspects.iter_mut().find(|s| s.key == kind.key) {
            existing.groups.push(index);
            let evidence = &mut existing.evidence;
            evidence.count += group.count;
            evidence.min_wait_minutes = min_option(evidence.min_wait_minutes, group.min_wait_minutes);
            evidence.max_wait_minutes = evidence.max_wait_minutes.max(group.max_wait_minutes);
            if !evidence.states.contains(&group.state) {
                evidence.states.push(group.state.clone());
            }
            continue;
        }
        suspects.push(Suspect {
            group: index,
            groups: vec![index],
            key: kind.key.to_string(),
            signature: kind.signature.to_string(),
            explanation: kind.explanation.to_string(),
            cause_category: kind.cause_category.to_string(),
            playbooks: kind.playbooks.iter().map(|p| p.to_string()).collect(),
            evidence: SuspectEvidence {
                count: group.count,
                state: group.state.clone(),
                states: vec![group.state.clone()],
                min_wait_minutes: group.min_wait_minutes,
                max_wait_minutes: group.max_wait_minutes,
                top_function: group.top_function.clone(),
                user_function: group.user_function.clone(),
                created_by: group.created_by.clone(),
                likely_holders: if kind.key == key::MUTEX_PILEUP {
                    likely_holders(groups, group)
                } else {
                    Vec::new()
                },
            },
        });
    }
    suspects.sort_by(|a, b| b.evidence.count.cmp(&a.evidence.count).then(a.group.cmp(&b.group)));
    suspects
}

fn min_option(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_are_told_from_strings_and_pointers() {
        assert!(is_interface_value("{0x50c410?, 0xc0000a20c0?}"));
        assert!(!is_interface_value("{0x4c1b2e, 0x3}"));
        assert!(!is_interface_value("0xc0000a20c0"));
        assert!(!is_interface_value("{0x1, 0x2, 0x3}"));
        assert_eq!(top_level_args("0x1, {0x2, 0x3}, 0x4"), ["0x1", "{0x2, 0x3}", "0x4"]);
    }

    #[test]
    fn markers_are_taken_off_the_wait_reason() {
        assert_eq!(wait_reason("chan send (leaked)"), "chan send");
        assert_eq!(wait_reason("chan receive (durable)"), "chan receive");
        assert_eq!(wait_reason("chan receive (nil chan)"), "chan receive (nil chan)");
    }
}
