//! Scenario files: what a run does, read from versioned YAML under
//! `loadtest/scenarios/`.
//!
//! Layer: the bench's input model. A [`Scenario`] has stages (a duration
//! and a target number of virtual agents, or an arrival rate for an
//! open-model run), an operation mix, a payload size distribution, a
//! think time and [`Thresholds`]. [`Scenario::load`] parses a file, with
//! `${VAR}` / `${VAR:-default}` substitution from the environment (so a
//! soak's duration can be set at run time), and [`Scenario::validate`]
//! reports every problem at once.
//!
//! What it does not do: run anything ([`crate::runner`]) or judge results
//! ([`crate::thresholds`]).
//!
//! Invariants of a validated scenario: at least one stage, every stage
//! longer than zero; either every stage has an `arrival_rate` (open model)
//! or none has (closed model); the mix and the payload distribution have
//! positive total weights; payloads fit the node's default body limit.

use core::fmt;
use core::time::Duration;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use sage_core::session::SessionConfig;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::BenchError;

/// The scenario format this crate reads.
pub const SCENARIO_VERSION: u32 = 1;

/// The largest payload a scenario may ask for: the node's default body
/// limit (1 MiB) leaves room for the base64 and the envelope at 512 KiB.
pub const MAX_PAYLOAD_BYTES: usize = 512 * 1024;

/// A duration written as `250ms`, `20s`, `5m`, `2h` (or a sum: `1m30s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Span(pub Duration);

impl Span {
    /// Parses `250ms`, `20s`, `5m`, `2h`, `1m30s`.
    ///
    /// # Errors
    /// `None` for anything else (no unit, an unknown unit, an overflow).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let mut total = Duration::ZERO;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return None;
            }
            let (number, tail) = rest.split_at(digits);
            let number: u64 = number.parse().ok()?;
            let unit_len = tail
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(tail.len());
            let (unit, tail) = tail.split_at(unit_len);
            let part = match unit {
                "ms" => Duration::from_millis(number),
                "s" => Duration::from_secs(number),
                "m" => Duration::from_secs(number.checked_mul(60)?),
                "h" => Duration::from_secs(number.checked_mul(3600)?),
                _ => return None,
            };
            total = total.checked_add(part)?;
            rest = tail;
        }
        Some(Self(total))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if !ms.is_multiple_of(1000) {
            write!(f, "{ms}ms")
        } else if ms.is_multiple_of(3_600_000) && ms > 0 {
            write!(f, "{}h", ms / 3_600_000)
        } else if ms.is_multiple_of(60_000) && ms > 0 {
            write!(f, "{}m", ms / 60_000)
        } else {
            write!(f, "{}s", ms / 1000)
        }
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{text:?} is not a duration (write 250ms, 20s, 5m, 2h or 1m30s)"
            ))
        })
    }
}

/// One kind of request a virtual agent makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// A new handshake (§6.5), replacing the agent's session.
    Handshake,
    /// One encrypted, signed record on the agent's session (a handshake
    /// first when it has none); the node's signed, encrypted receipt is
    /// verified and opened.
    Send,
    /// `GET /v1/dids/{did}` with the management token: a DID resolution
    /// through the node's caching resolver.
    Resolve,
    /// Session expiry and renewal: the agent drops its session, then
    /// sends a record, which runs a new handshake first.
    Renew,
    /// An unprotected reference: a plain HTTP POST of the payload to the
    /// echo URL, which must answer 200 with the same bytes.
    Echo,
}

impl Operation {
    /// Every operation, in report order.
    pub const ALL: [Self; 5] = [
        Self::Handshake,
        Self::Send,
        Self::Resolve,
        Self::Renew,
        Self::Echo,
    ];

    /// The name used in files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Handshake => "handshake",
            Self::Send => "send",
            Self::Resolve => "resolve",
            Self::Renew => "renew",
            Self::Echo => "echo",
        }
    }

    /// Whether the operation carries a payload.
    pub fn has_payload(self) -> bool {
        matches!(self, Self::Send | Self::Renew | Self::Echo)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stage of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// How long the stage lasts.
    pub duration: Span,
    /// Closed model: the number of virtual agents active in the stage.
    /// Open model: the pool of agent identities the arrivals use.
    pub agents: u32,
    /// Open model: requests started per second, whatever the latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_rate: Option<f64>,
}

/// One payload size and its weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayloadSize {
    /// The payload length in bytes.
    pub bytes: usize,
    /// Its relative weight.
    pub weight: u32,
}

/// The pause between two operations of one closed-model agent, drawn
/// uniformly from `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThinkTime {
    /// The shortest pause.
    #[serde(default)]
    pub min: Span,
    /// The longest pause.
    #[serde(default)]
    pub max: Span,
}

/// Limits on one operation's results.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationThresholds {
    /// Largest median latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<Span>,
    /// Largest 95th-percentile latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<Span>,
    /// Largest 99th-percentile latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<Span>,
    /// Largest share of failed requests, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_error_rate: Option<f64>,
    /// Fewest successful requests per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_throughput: Option<f64>,
}

/// What a run must achieve; a breach makes the command exit non-zero.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Largest share of failed requests over all operations, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_error_rate: Option<f64>,
    /// Fewest successful requests per second over all operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_throughput: Option<f64>,
    /// Per-operation limits.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operations: BTreeMap<Operation, OperationThresholds>,
}

/// The agents' session limits (PROTOCOL.md §7.1.7): a session that
/// reaches one is replaced by a new handshake inside the next `send`, so
/// short limits exercise expiry and renewal under load. Unset limits keep
/// the protocol defaults (1 h, 10 min idle, 1000 records). The node
/// enforces its own limits (`session.*`) as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionLimits {
    /// Absolute session age.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<Span>,
    /// Time without traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Span>,
    /// Records sent plus received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_messages: Option<u64>,
}

impl SessionLimits {
    /// The client session configuration with these limits.
    pub fn config(&self) -> SessionConfig {
        let mut config = SessionConfig::DEFAULT;
        if let Some(age) = self.max_age {
            config.policy.max_age = age.0;
        }
        if let Some(idle) = self.idle_timeout {
            config.policy.idle_timeout = idle.0;
        }
        if let Some(messages) = self.max_messages {
            config.policy.max_messages = messages;
        }
        config
    }
}

fn default_handshake_first() -> bool {
    true
}

fn default_payload() -> Vec<PayloadSize> {
    vec![PayloadSize {
        bytes: 64,
        weight: 1,
    }]
}

fn default_max_in_flight() -> u32 {
    1024
}

/// A load-test scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The file format version ([`SCENARIO_VERSION`]).
    pub version: u32,
    /// A short name (`baseline`).
    pub name: String,
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// The stages, run in order.
    pub stages: Vec<Stage>,
    /// The operation mix: each operation's relative weight.
    pub mix: BTreeMap<Operation, u32>,
    /// Closed model: each agent's first operation is a handshake.
    #[serde(default = "default_handshake_first")]
    pub handshake_first: bool,
    /// The payload size distribution.
    #[serde(default = "default_payload")]
    pub payload: Vec<PayloadSize>,
    /// The closed-model pause between an agent's operations.
    #[serde(default)]
    pub think_time: ThinkTime,
    /// The agents' session limits.
    #[serde(default)]
    pub session: SessionLimits,
    /// Open model: the most requests in flight; an arrival beyond it is
    /// counted as an error (`dropped`), never delayed.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: u32,
    /// What the run must achieve.
    #[serde(default)]
    pub thresholds: Thresholds,
}

/// One rule a scenario breaks.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ScenarioProblem {
    /// `version` is not [`SCENARIO_VERSION`].
    UnsupportedVersion(u32),
    /// `name` is empty.
    EmptyName,
    /// There is no stage.
    NoStages,
    /// A stage lasts zero time.
    EmptyStage(usize),
    /// A closed-model stage has no agent.
    NoAgents(usize),
    /// An arrival rate is not a positive number.
    BadArrivalRate(usize),
    /// Some stages have an arrival rate and others do not.
    MixedModels,
    /// The mix is empty or all its weights are zero.
    EmptyMix,
    /// The payload distribution is empty or all its weights are zero.
    EmptyPayload,
    /// A payload is larger than [`MAX_PAYLOAD_BYTES`].
    PayloadTooLarge(usize),
    /// The think time's `min` is above its `max`.
    ThinkTimeInverted,
    /// An error rate is outside 0..=1.
    BadErrorRate(String),
    /// A throughput is negative or not a number.
    BadThroughput(String),
    /// A threshold names an operation the mix never runs.
    ThresholdWithoutOperation(Operation),
    /// `max_in_flight` is zero.
    NoInFlight,
    /// A session limit is zero.
    ZeroSessionLimit,
}

impl fmt::Display for ScenarioProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedVersion(v) => {
                write!(
                    f,
                    "version {v} is not supported (expected {SCENARIO_VERSION})"
                )
            }
            Self::EmptyName => f.write_str("name is empty"),
            Self::NoStages => f.write_str("no stages"),
            Self::EmptyStage(i) => write!(f, "stage {i} lasts zero time"),
            Self::NoAgents(i) => write!(f, "stage {i} has no agents"),
            Self::BadArrivalRate(i) => write!(f, "stage {i}: arrival_rate must be positive"),
            Self::MixedModels => {
                f.write_str("either every stage has an arrival_rate (open model) or none has")
            }
            Self::EmptyMix => f.write_str("the mix has no operation with a positive weight"),
            Self::EmptyPayload => f.write_str("the payload has no size with a positive weight"),
            Self::PayloadTooLarge(n) => {
                write!(f, "payload of {n} bytes exceeds {MAX_PAYLOAD_BYTES}")
            }
            Self::ThinkTimeInverted => f.write_str("think_time.min is above think_time.max"),
            Self::BadErrorRate(at) => write!(f, "{at}: an error rate is between 0 and 1"),
            Self::BadThroughput(at) => write!(f, "{at}: a throughput is a number >= 0"),
            Self::ThresholdWithoutOperation(op) => {
                write!(f, "thresholds name {op}, which the mix never runs")
            }
            Self::NoInFlight => f.write_str("max_in_flight must be at least 1"),
            Self::ZeroSessionLimit => f.write_str("a session limit must be above zero"),
        }
    }
}

/// Whether runs are closed-model (agents wait for answers) or open-model
/// (requests start at a fixed rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Virtual agents, each waiting for its answer and a think time.
    Closed,
    /// A fixed arrival rate; latency counts from the intended start.
    Open,
}

impl Scenario {
    /// Parses a scenario from YAML text; `${VAR}` and `${VAR:-default}`
    /// are replaced from `properties`.
    ///
    /// # Errors
    /// The parser's error.
    pub fn from_yaml(
        text: &str,
        properties: HashMap<String, String>,
    ) -> Result<Self, serde_saphyr::Error> {
        let options = serde_saphyr::options! {
            with_snippet: false,
            strict_booleans: true,
        }
        .with_properties(properties);
        serde_saphyr::from_str_with_options(text, options)
    }

    /// Reads, parses and validates a scenario file, with substitution
    /// from the process environment.
    ///
    /// # Errors
    /// [`BenchError::Io`], [`BenchError::ScenarioSyntax`],
    /// [`BenchError::ScenarioInvalid`].
    pub fn load(path: &Path) -> Result<Self, BenchError> {
        let text = std::fs::read_to_string(path).map_err(|source| BenchError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let scenario = Self::from_yaml(&text, std::env::vars().collect()).map_err(|source| {
            BenchError::ScenarioSyntax {
                path: path.to_path_buf(),
                source: Box::new(source),
            }
        })?;
        let problems = scenario.validate();
        if problems.is_empty() {
            Ok(scenario)
        } else {
            Err(BenchError::ScenarioInvalid {
                scenario: path.display().to_string(),
                problems,
            })
        }
    }

    /// Every rule the scenario breaks (empty when valid).
    pub fn validate(&self) -> Vec<ScenarioProblem> {
        let mut problems = Vec::new();
        if self.version != SCENARIO_VERSION {
            problems.push(ScenarioProblem::UnsupportedVersion(self.version));
        }
        if self.name.trim().is_empty() {
            problems.push(ScenarioProblem::EmptyName);
        }
        if self.stages.is_empty() {
            problems.push(ScenarioProblem::NoStages);
        }
        let open = self
            .stages
            .iter()
            .filter(|s| s.arrival_rate.is_some())
            .count();
        if open != 0 && open != self.stages.len() {
            problems.push(ScenarioProblem::MixedModels);
        }
        for (i, stage) in self.stages.iter().enumerate() {
            if stage.duration.0.is_zero() {
                problems.push(ScenarioProblem::EmptyStage(i));
            }
            if stage.agents == 0 {
                problems.push(ScenarioProblem::NoAgents(i));
            }
            if let Some(rate) = stage.arrival_rate
                && !(rate.is_finite() && rate > 0.0)
            {
                problems.push(ScenarioProblem::BadArrivalRate(i));
            }
        }
        if self.mix.values().all(|w| *w == 0) {
            problems.push(ScenarioProblem::EmptyMix);
        }
        if self.payload.iter().all(|p| p.weight == 0) {
            problems.push(ScenarioProblem::EmptyPayload);
        }
        for size in &self.payload {
            if size.bytes > MAX_PAYLOAD_BYTES {
                problems.push(ScenarioProblem::PayloadTooLarge(size.bytes));
            }
        }
        if self.think_time.min > self.think_time.max {
            problems.push(ScenarioProblem::ThinkTimeInverted);
        }
        if self.max_in_flight == 0 {
            problems.push(ScenarioProblem::NoInFlight);
        }
        let session = &self.session;
        if session.max_age.is_some_and(|s| s.0.is_zero())
            || session.idle_timeout.is_some_and(|s| s.0.is_zero())
            || session.max_messages == Some(0)
        {
            problems.push(ScenarioProblem::ZeroSessionLimit);
        }
        let thresholds = &self.thresholds;
        check_rate(&mut problems, "thresholds", thresholds.max_error_rate);
        check_throughput(&mut problems, "thresholds", thresholds.min_throughput);
        for (op, limits) in &thresholds.operations {
            let runs = self.mix.get(op).is_some_and(|w| *w > 0)
                || (*op == Operation::Handshake
                    && self.handshake_first
                    && self.model() == Model::Closed);
            if !runs {
                problems.push(ScenarioProblem::ThresholdWithoutOperation(*op));
            }
            let at = format!("thresholds.operations.{op}");
            check_rate(&mut problems, &at, limits.max_error_rate);
            check_throughput(&mut problems, &at, limits.min_throughput);
        }
        problems
    }

    /// The run's model.
    pub fn model(&self) -> Model {
        if self.stages.iter().any(|s| s.arrival_rate.is_some()) {
            Model::Open
        } else {
            Model::Closed
        }
    }

    /// The planned length of the run.
    pub fn total_duration(&self) -> Duration {
        self.stages.iter().map(|s| s.duration.0).sum()
    }

    /// The most agents any stage uses.
    pub fn max_agents(&self) -> u32 {
        self.stages.iter().map(|s| s.agents).max().unwrap_or(0)
    }

    /// The same scenario with every stage scaled so that the run lasts
    /// `total` (a shortened CI run keeps the shape of the stages). A stage
    /// never shrinks below one millisecond.
    #[must_use]
    pub fn scaled_to(&self, total: Duration) -> Self {
        let planned = self.total_duration().as_secs_f64();
        let mut scaled = self.clone();
        if planned <= 0.0 {
            return scaled;
        }
        let factor = total.as_secs_f64() / planned;
        for stage in &mut scaled.stages {
            let secs = (stage.duration.0.as_secs_f64() * factor).max(0.001);
            stage.duration = Span(Duration::from_millis((secs * 1000.0).round() as u64));
        }
        scaled
    }
}

fn check_rate(problems: &mut Vec<ScenarioProblem>, at: &str, rate: Option<f64>) {
    if let Some(rate) = rate
        && !(0.0..=1.0).contains(&rate)
    {
        problems.push(ScenarioProblem::BadErrorRate(at.to_owned()));
    }
}

fn check_throughput(problems: &mut Vec<ScenarioProblem>, at: &str, throughput: Option<f64>) {
    if let Some(value) = throughput
        && !(value.is_finite() && value >= 0.0)
    {
        problems.push(ScenarioProblem::BadThroughput(at.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../loadtest/scenarios");

    fn minimal() -> Scenario {
        Scenario::from_yaml(
            "version: 1\nname: t\nstages:\n  - { duration: 10s, agents: 2 }\nmix: { send: 1 }\n",
            HashMap::new(),
        )
        .unwrap()
    }

    #[test]
    fn spans_parse_every_unit_and_sums() {
        assert_eq!(Span::parse("250ms"), Some(Span(Duration::from_millis(250))));
        assert_eq!(Span::parse("20s"), Some(Span(Duration::from_secs(20))));
        assert_eq!(Span::parse("5m"), Some(Span(Duration::from_secs(300))));
        assert_eq!(Span::parse("2h"), Some(Span(Duration::from_secs(7200))));
        assert_eq!(Span::parse("1m30s"), Some(Span(Duration::from_secs(90))));
        for bad in ["", "10", "s", "10d", "1.5s", "-1s"] {
            assert_eq!(Span::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn spans_print_in_their_largest_whole_unit() {
        for text in ["250ms", "20s", "5m", "2h", "1500ms"] {
            assert_eq!(Span::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn every_versioned_scenario_file_parses_and_validates() {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(SCENARIOS).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
                names.push(scenario.name);
            }
        }
        names.sort();
        assert_eq!(
            names,
            [
                "baseline",
                "concurrent-200",
                "echo",
                "handshake-storm",
                "mixed",
                "open-rate",
                "soak",
                "spike",
                "stress"
            ]
        );
    }

    #[test]
    fn environment_variables_fill_placeholders() {
        let text = "version: 1\nname: soak\nstages:\n  - duration: ${D:-10m}\n    agents: 5\nmix: { send: 1 }\n";
        let default = Scenario::from_yaml(text, HashMap::new()).unwrap();
        assert_eq!(default.total_duration(), Duration::from_secs(600));
        let set = Scenario::from_yaml(text, [("D".to_owned(), "2h".to_owned())].into()).unwrap();
        assert_eq!(set.total_duration(), Duration::from_secs(7200));
    }

    #[test]
    fn defaults_are_a_64_byte_payload_a_first_handshake_and_no_think_time() {
        let scenario = minimal();
        assert!(scenario.validate().is_empty());
        assert_eq!(scenario.payload, default_payload());
        assert!(scenario.handshake_first);
        assert_eq!(scenario.think_time, ThinkTime::default());
        assert_eq!(scenario.model(), Model::Closed);
    }

    #[test]
    fn unknown_fields_and_operations_are_refused() {
        let typo = "version: 1\nname: t\nstages: []\nmix: { send: 1 }\nthinktime: {}\n";
        assert!(Scenario::from_yaml(typo, HashMap::new()).is_err());
        let op = "version: 1\nname: t\nstages: []\nmix: { sned: 1 }\n";
        assert!(Scenario::from_yaml(op, HashMap::new()).is_err());
    }

    #[test]
    fn validation_reports_every_problem_at_once() {
        let mut scenario = minimal();
        scenario.version = 2;
        scenario.stages.push(Stage {
            duration: Span(Duration::ZERO),
            agents: 0,
            arrival_rate: Some(-1.0),
        });
        scenario.mix = [(Operation::Send, 0)].into();
        scenario.payload = vec![PayloadSize {
            bytes: MAX_PAYLOAD_BYTES + 1,
            weight: 1,
        }];
        scenario.think_time = ThinkTime {
            min: Span(Duration::from_secs(2)),
            max: Span(Duration::from_secs(1)),
        };
        scenario.thresholds.max_error_rate = Some(1.5);
        scenario.thresholds.operations.insert(
            Operation::Resolve,
            OperationThresholds {
                min_throughput: Some(f64::NAN),
                ..OperationThresholds::default()
            },
        );
        let problems = scenario.validate();
        for expected in [
            ScenarioProblem::UnsupportedVersion(2),
            ScenarioProblem::MixedModels,
            ScenarioProblem::EmptyStage(1),
            ScenarioProblem::NoAgents(1),
            ScenarioProblem::BadArrivalRate(1),
            ScenarioProblem::EmptyMix,
            ScenarioProblem::PayloadTooLarge(MAX_PAYLOAD_BYTES + 1),
            ScenarioProblem::ThinkTimeInverted,
            ScenarioProblem::BadErrorRate("thresholds".into()),
            ScenarioProblem::ThresholdWithoutOperation(Operation::Resolve),
            ScenarioProblem::BadThroughput("thresholds.operations.resolve".into()),
        ] {
            assert!(
                problems.contains(&expected),
                "{expected} missing from {problems:?}"
            );
        }
    }

    #[test]
    fn a_handshake_threshold_is_valid_when_agents_handshake_first() {
        let mut scenario = minimal();
        scenario
            .thresholds
            .operations
            .insert(Operation::Handshake, OperationThresholds::default());
        assert!(scenario.validate().is_empty());
        scenario.handshake_first = false;
        assert_eq!(
            scenario.validate(),
            [ScenarioProblem::ThresholdWithoutOperation(
                Operation::Handshake
            )]
        );
    }

    #[test]
    fn scaling_keeps_the_shape_of_the_stages() {
        let mut scenario = minimal();
        scenario.stages = vec![
            Stage {
                duration: Span(Duration::from_secs(30)),
                agents: 50,
                arrival_rate: None,
            },
            Stage {
                duration: Span(Duration::from_secs(90)),
                agents: 100,
                arrival_rate: None,
            },
        ];
        let short = scenario.scaled_to(Duration::from_secs(20));
        assert_eq!(short.stages[0].duration.0, Duration::from_secs(5));
        assert_eq!(short.stages[1].duration.0, Duration::from_secs(15));
        assert_eq!(short.max_agents(), 100);
    }

    #[test]
    fn session_limits_override_only_what_they_set() {
        let text = "version: 1\nname: s\nstages:\n  - { duration: 5s, agents: 1 }\nmix: { send: 1 }\n\
                    session: { max_age: 30s, max_messages: 50 }\n";
        let scenario = Scenario::from_yaml(text, HashMap::new()).unwrap();
        let config = scenario.session.config();
        assert_eq!(config.policy.max_age, Duration::from_secs(30));
        assert_eq!(config.policy.max_messages, 50);
        assert_eq!(
            config.policy.idle_timeout,
            SessionConfig::DEFAULT.policy.idle_timeout
        );
        assert_eq!(config.rekey_interval, SessionConfig::DEFAULT.rekey_interval);
        let mut zero = scenario;
        zero.session.max_messages = Some(0);
        assert_eq!(zero.validate(), [ScenarioProblem::ZeroSessionLimit]);
    }

    #[test]
    fn a_stage_with_an_arrival_rate_makes_an_open_model_run() {
        let text = "version: 1\nname: o\nstages:\n  - { duration: 5s, agents: 4, arrival_rate: 50 }\nmix: { send: 1 }\n";
        let scenario = Scenario::from_yaml(text, HashMap::new()).unwrap();
        assert!(scenario.validate().is_empty());
        assert_eq!(scenario.model(), Model::Open);
    }
}
