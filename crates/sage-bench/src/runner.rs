//! Running a scenario: closed-model virtual agents or an open-model
//! arrival rate, each request a real protocol exchange, every outcome
//! recorded, with a live progress display.
//!
//! Layer: the bench's load generator. **Closed model**: one task per
//! virtual agent; in each stage the first `agents` of them are active;
//! an active agent handshakes first (when the scenario says so), then
//! runs operations drawn from the mix, each followed by a think time.
//! Latency counts from the request's actual start. **Open model**:
//! requests start at the stage's `arrival_rate`, whatever the node's
//! latency, on the agents of the pool in turn; latency counts from the
//! *intended* start, so a slow node shows as latency instead of as a
//! slower generator (no coordinated omission). An arrival beyond
//! `max_in_flight` is counted as `dropped`, never delayed.
//!
//! Success means the node verified the request and answered correctly:
//! for `handshake`, `send` and `renew` the client checked the node's
//! RFC 9421 signature, the answered message id and opened its encrypted
//! record; for `resolve` the node answered 200 with the asked DID's
//! record; for `echo` 200 with the same bytes. Failures are counted by
//! code ([`client_error_code`]).
//!
//! The measured window is the scenario's planned duration: a request is
//! counted when it ends inside it; requests still in flight at its end
//! are waited for (up to the client timeout) but not counted.

use core::time::Duration;
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use sage_client::ClientError;
use sage_core::did::Did;
use sage_core::rand_core::Rng as _;
use tokio::task::JoinSet;

use crate::error::BenchError;
use crate::scenario::{Model, Operation, Scenario};
use crate::stats::Recorder;
use crate::target::{Agent, Target};

/// The task name of the records the agents send.
pub const TASK: &str = "sage-bench";

/// How long stopping waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(35);

/// How often the progress display refreshes.
const TICK: Duration = Duration::from_millis(500);

/// An error code in a report.
pub type ErrorCode = Cow<'static, str>;

/// The report code of a client error.
pub fn client_error_code(error: &ClientError) -> ErrorCode {
    Cow::Borrowed(match error {
        ClientError::InvalidDid(_) => "invalid_did",
        ClientError::InvalidUrl { .. } => "invalid_url",
        ClientError::Incomplete(_) => "incomplete",
        ClientError::HttpClient => "http_client",
        ClientError::InvalidTask => "invalid_task",
        ClientError::Resolve(_) => "resolve",
        ClientError::NoKemKey => "no_kem_key",
        ClientError::NoEndpoint => "no_endpoint",
        ClientError::Card(_) => "agent_card",
        ClientError::Unavailable { .. } => "unavailable",
        ClientError::OutcomeUnknown => "outcome_unknown",
        ClientError::Rejected => "rejected",
        ClientError::HandshakeRefused { .. } => "handshake_refused",
        ClientError::Handshake(_) => "handshake_invalid",
        ClientError::PayloadTooLarge => "payload_too_large",
        ClientError::BadRequest => "bad_request",
        ClientError::UpstreamUnavailable => "upstream_unavailable",
        ClientError::UnexpectedStatus(status) => return Cow::Owned(format!("http_{status}")),
        ClientError::ResponseTooLarge { .. } => "response_too_large",
        ClientError::ResponseSignature(_) => "response_signature",
        ClientError::ResponseIdentity => "response_identity",
        ClientError::MalformedResponse(_) => "malformed_response",
        ClientError::ResponseMismatch => "response_mismatch",
        ClientError::Session(_) => "session",
        ClientError::Signing(_) => "signing",
        ClientError::Envelope(_) => "envelope",
        _ => "client_other",
    })
}

fn http_error_code(error: &reqwest::Error) -> ErrorCode {
    Cow::Borrowed(if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else {
        "transport"
    })
}

/// A small, fast, non-cryptographic generator for the run's choices
/// (operation, payload size, think time, DID); seeded from the OS.
#[derive(Debug)]
struct Dice(u64);

impl Dice {
    fn seeded() -> Self {
        let mut seed = [0u8; 8];
        getrandom::rand_core::UnwrapErr(getrandom::SysRng).fill_bytes(&mut seed);
        Self(u64::from_le_bytes(seed))
    }

    /// SplitMix64.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// One of `items`, by weight; `None` when every weight is zero.
    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> Option<T> {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut roll = self.below(total);
        for (item, weight) in items {
            let weight = u64::from(*weight);
            if roll < weight {
                return Some(*item);
            }
            roll -= weight;
        }
        None
    }
}

/// What every request task shares.
struct Shared {
    scenario: Scenario,
    mix: Vec<(Operation, u32)>,
    sizes: Vec<(usize, u32)>,
    payload: Vec<u8>,
    peer: sage_client::Peer,
    base_url: String,
    token: Option<String>,
    echo_url: Option<String>,
    http: reqwest::Client,
    dids: Vec<Did>,
    recorder: Mutex<Recorder>,
    start: Instant,
    deadline: Instant,
    active: AtomicUsize,
    stopping: AtomicBool,
    in_flight: AtomicUsize,
}

impl Shared {
    fn record(&self, operation: Operation, started: Instant, outcome: Result<(), ErrorCode>) {
        let ended = Instant::now();
        if ended > self.deadline {
            return;
        }
        let at = ended.duration_since(self.start);
        let latency = ended.duration_since(started);
        let mut recorder = self.recorder.lock().unwrap_or_else(PoisonError::into_inner);
        match outcome {
            Ok(()) => recorder.record(operation, at, Ok(latency)),
            Err(code) => recorder.record(operation, at, Err(&code)),
        }
    }

    fn payload(&self, dice: &mut Dice) -> &[u8] {
        let size = dice.weighted(&self.sizes).unwrap_or(0);
        self.payload.get(..size).unwrap_or(&self.payload)
    }
}

/// The raw results of a run.
#[derive(Debug)]
pub struct RunResults {
    /// Everything recorded.
    pub recorder: Recorder,
    /// The measured window (the planned duration).
    pub elapsed: Duration,
}

/// Checks that the target can run every operation of the mix.
///
/// # Errors
/// [`BenchError::Usage`] for `resolve` without a management token and
/// `echo` without an echo URL.
pub fn check_target(scenario: &Scenario, target: &Target) -> Result<(), BenchError> {
    let runs = |op| scenario.mix.get(&op).is_some_and(|w| *w > 0);
    if runs(Operation::Resolve) && target.token.is_none() {
        return Err(BenchError::Usage(
            "the scenario resolves DIDs: give the node's management token (--token or \
             SAGE_BENCH_TOKEN)",
        ));
    }
    if runs(Operation::Echo) && target.echo_url.is_none() {
        return Err(BenchError::Usage(
            "the scenario runs the echo reference: give --echo-url",
        ));
    }
    Ok(())
}

/// Runs `scenario` against `target` with `agents` (at least the
/// scenario's [`Scenario::max_agents`]; fewer are all used).
///
/// # Errors
/// As [`check_target`]; [`BenchError::Usage`] without agents.
pub async fn run(
    scenario: &Scenario,
    target: &Target,
    agents: Vec<Agent>,
    show_progress: bool,
) -> Result<RunResults, BenchError> {
    check_target(scenario, target)?;
    if agents.is_empty() {
        return Err(BenchError::Usage("no agents to run with"));
    }
    let largest = scenario.payload.iter().map(|p| p.bytes).max().unwrap_or(0);
    let total = scenario.total_duration();
    let start = Instant::now();
    let shared = Arc::new(Shared {
        mix: scenario.mix.iter().map(|(op, w)| (*op, *w)).collect(),
        sizes: scenario
            .payload
            .iter()
            .map(|p| (p.bytes, p.weight))
            .collect(),
        payload: (0..largest).map(|i| (i % 251) as u8).collect(),
        peer: target.peer.clone(),
        base_url: target.base_url.clone(),
        token: target.token.clone(),
        echo_url: target.echo_url.clone(),
        http: target.http.clone(),
        dids: agents.iter().map(|a| a.did.clone()).collect(),
        recorder: Mutex::new(Recorder::new(Recorder::interval_for(total))),
        start,
        deadline: start + total,
        active: AtomicUsize::new(0),
        stopping: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
        scenario: scenario.clone(),
    });
    let agents: Vec<Arc<Agent>> = agents.into_iter().map(Arc::new).collect();
    let progress = progress_bar(total, show_progress);
    let ticker = tokio::spawn(tick(Arc::clone(&shared), progress.clone()));
    let mut tasks = match scenario.model() {
        Model::Closed => closed(&shared, &agents).await,
        Model::Open => open(&shared, &agents).await,
    };
    shared.stopping.store(true, Ordering::Relaxed);
    ticker.abort();
    progress.finish_and_clear();
    if tokio::time::timeout(DRAIN_TIMEOUT, async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        tasks.abort_all();
    }
    // Aborted tasks may still hold the shared state: take the recorder.
    let mut recorder = core::mem::replace(
        &mut *shared
            .recorder
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
        Recorder::new(Duration::from_secs(1)),
    );
    recorder.finish(total);
    Ok(RunResults {
        recorder,
        elapsed: total,
    })
}

/// Closed model: all agent tasks, the stages switching how many are
/// active; returns at the deadline with the tasks still running.
async fn closed(shared: &Arc<Shared>, agents: &[Arc<Agent>]) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    if let Some(first) = shared.scenario.stages.first() {
        shared.active.store(
            usize::try_from(first.agents).unwrap_or(usize::MAX),
            Ordering::Relaxed,
        );
    }
    for (index, agent) in agents.iter().enumerate() {
        tasks.spawn(closed_agent(index, Arc::clone(agent), Arc::clone(shared)));
    }
    let mut stage_start = shared.start;
    for stage in &shared.scenario.stages {
        shared.active.store(
            usize::try_from(stage.agents).unwrap_or(usize::MAX),
            Ordering::Relaxed,
        );
        stage_start += stage.duration.0;
        tokio::time::sleep_until(stage_start.into()).await;
    }
    tasks
}

async fn closed_agent(index: usize, agent: Arc<Agent>, shared: Arc<Shared>) {
    let mut dice = Dice::seeded();
    let mut greeted = !shared.scenario.handshake_first;
    let think = shared.scenario.think_time;
    while !shared.stopping.load(Ordering::Relaxed) {
        if index >= shared.active.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let operation = if greeted {
            dice.weighted(&shared.mix).unwrap_or(Operation::Send)
        } else {
            greeted = true;
            Operation::Handshake
        };
        let started = Instant::now();
        let outcome = perform(operation, &agent, &shared, &mut dice).await;
        shared.record(operation, started, outcome);
        let spread = think.max.0.saturating_sub(think.min.0);
        let pause = think.min.0
            + Duration::from_micros(dice.below(u64::try_from(spread.as_micros()).unwrap_or(0) + 1));
        if !pause.is_zero() {
            // Never past the deadline: the run must not wait out a pause.
            let wake = (Instant::now() + pause).min(shared.deadline);
            tokio::time::sleep_until(wake.into()).await;
        }
    }
}

/// Open model: starts requests at each stage's arrival rate; returns at
/// the deadline with the requests in flight.
async fn open(shared: &Arc<Shared>, agents: &[Arc<Agent>]) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    let mut dice = Dice::seeded();
    let mut turn = 0usize;
    let max_in_flight = usize::try_from(shared.scenario.max_in_flight).unwrap_or(usize::MAX);
    let mut stage_start = shared.start;
    for stage in &shared.scenario.stages {
        let pool = usize::try_from(stage.agents)
            .unwrap_or(usize::MAX)
            .min(agents.len())
            .max(1);
        shared.active.store(pool, Ordering::Relaxed);
        let rate = stage.arrival_rate.unwrap_or(1.0);
        let arrivals = (rate * stage.duration.0.as_secs_f64()).floor() as u64;
        for n in 0..arrivals {
            let intended = stage_start + Duration::from_secs_f64(n as f64 / rate);
            tokio::time::sleep_until(intended.into()).await;
            while tasks.try_join_next().is_some() {}
            let operation = dice.weighted(&shared.mix).unwrap_or(Operation::Send);
            if shared.in_flight.load(Ordering::Relaxed) >= max_in_flight {
                shared.record(operation, intended, Err(Cow::Borrowed("dropped")));
                continue;
            }
            let Some(agent) = agents.get(turn % pool) else {
                continue;
            };
            turn = turn.wrapping_add(1);
            shared.in_flight.fetch_add(1, Ordering::Relaxed);
            let agent = Arc::clone(agent);
            let shared = Arc::clone(shared);
            let mut task_dice = Dice(dice.next());
            tasks.spawn(async move {
                let outcome = perform(operation, &agent, &shared, &mut task_dice).await;
                // From the intended start: the wait for a busy agent or
                // generator is the node's latency as a user sees it.
                shared.record(operation, intended, outcome);
                shared.in_flight.fetch_sub(1, Ordering::Relaxed);
            });
        }
        stage_start += stage.duration.0;
    }
    tokio::time::sleep_until(shared.deadline.into()).await;
    tasks
}

/// One request; `Ok` only when the node verified it and answered
/// correctly.
async fn perform(
    operation: Operation,
    agent: &Agent,
    shared: &Shared,
    dice: &mut Dice,
) -> Result<(), ErrorCode> {
    let code = |e: ClientError| client_error_code(&e);
    match operation {
        Operation::Handshake => agent
            .client
            .handshake(&shared.peer)
            .await
            .map(|_| ())
            .map_err(code),
        Operation::Send => send(agent, shared, dice).await,
        Operation::Renew => {
            agent.client.forget(&shared.peer).await.map_err(code)?;
            send(agent, shared, dice).await
        }
        Operation::Resolve => resolve(shared, dice).await,
        Operation::Echo => echo(shared, dice).await,
    }
}

async fn send(agent: &Agent, shared: &Shared, dice: &mut Dice) -> Result<(), ErrorCode> {
    let reply = agent
        .client
        .send(&shared.peer, shared.payload(dice), Some(TASK))
        .await
        .map_err(|e| client_error_code(&e))?;
    if reply.plaintext.is_empty() {
        Err(Cow::Borrowed("empty_reply"))
    } else {
        Ok(())
    }
}

async fn resolve(shared: &Shared, dice: &mut Dice) -> Result<(), ErrorCode> {
    let index = usize::try_from(dice.below(shared.dids.len() as u64)).unwrap_or(0);
    let did = shared.dids.get(index).ok_or(Cow::Borrowed("no_did"))?;
    let token = shared.token.as_deref().unwrap_or_default();
    let response = shared
        .http
        .get(format!("{}/v1/dids/{}", shared.base_url, did.as_str()))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| http_error_code(&e))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| http_error_code(&e))?;
    if status != 200 {
        return Err(Cow::Owned(format!("http_{status}")));
    }
    let answer: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| Cow::Borrowed("malformed_response"))?;
    let answered = answer
        .get("record")
        .and_then(|r| r.get("did"))
        .and_then(serde_json::Value::as_str);
    if answered == Some(did.as_str()) {
        Ok(())
    } else {
        Err(Cow::Borrowed("response_mismatch"))
    }
}

async fn echo(shared: &Shared, dice: &mut Dice) -> Result<(), ErrorCode> {
    let url = shared
        .echo_url
        .as_deref()
        .ok_or(Cow::Borrowed("no_echo_url"))?;
    let payload = shared.payload(dice);
    let response = shared
        .http
        .post(url)
        .body(payload.to_vec())
        .send()
        .await
        .map_err(|e| http_error_code(&e))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| http_error_code(&e))?;
    if status != 200 {
        Err(Cow::Owned(format!("http_{status}")))
    } else if body.as_ref() != payload {
        Err(Cow::Borrowed("response_mismatch"))
    } else {
        Ok(())
    }
}

fn progress_bar(total: Duration, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(u64::try_from(total.as_millis()).unwrap_or(u64::MAX));
    if let Ok(style) = ProgressStyle::with_template("{elapsed_precise} [{bar:24}] {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Refreshes the progress display: elapsed, active agents, rate, totals,
/// p50/p99 of the last tick.
async fn tick(shared: Arc<Shared>, bar: ProgressBar) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = Instant::now();
    loop {
        ticks.tick().await;
        let now = Instant::now();
        let seconds = now.duration_since(last).as_secs_f64().max(0.001);
        last = now;
        let live = shared
            .recorder
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take_live();
        bar.set_position(u64::try_from(now.duration_since(shared.start).as_millis()).unwrap_or(0));
        bar.set_message(format!(
            "agents {} | {:.0}/s | ok {} | errors {} | p50 {:.2} ms | p99 {:.2} ms",
            shared.active.load(Ordering::Relaxed),
            live.ok as f64 / seconds,
            live.total_ok,
            live.total_errors,
            live.p50_ms,
            live.p99_ms
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_choices_follow_their_weights() {
        let mut dice = Dice(7);
        let items = [
            (Operation::Send, 3),
            (Operation::Resolve, 1),
            (Operation::Echo, 0),
        ];
        let mut counts = [0u32; 3];
        for _ in 0..40_000 {
            match dice.weighted(&items) {
                Some(Operation::Send) => counts[0] += 1,
                Some(Operation::Resolve) => counts[1] += 1,
                _ => counts[2] += 1,
            }
        }
        assert_eq!(counts[2], 0);
        let share = f64::from(counts[0]) / 40_000.0;
        assert!((share - 0.75).abs() < 0.02, "{share}");
        assert_eq!(dice.weighted::<Operation>(&[(Operation::Send, 0)]), None);
    }

    #[test]
    fn client_errors_map_to_stable_codes() {
        assert_eq!(client_error_code(&ClientError::Rejected), "rejected");
        assert_eq!(
            client_error_code(&ClientError::UnexpectedStatus(429)),
            "http_429"
        );
        assert_eq!(
            client_error_code(&ClientError::Unavailable { attempts: 1 }),
            "unavailable"
        );
    }
}
