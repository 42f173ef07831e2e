//! The harness: builds the C programs, runs every selected case in
//! interleaved rounds (each round runs every implementation once, in
//! table order), prints a progress line per round and a table per case,
//! checks the targets, and writes the JSON report.

pub mod child;
pub mod env;
pub mod programs;

use crate::cli::{Options, Sizes, USAGE};
use crate::report::{CaseResult, RunResult};
use crate::scenarios::{all_cases, Case, SCENARIOS};
use crate::targets::{self, TargetResult};
use env::{Env, Impl};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The JSON report (`--json FILE`).
#[derive(Debug, Serialize)]
pub struct Report {
    /// `ruv-bench`.
    pub tool: &'static str,
    /// `full` or `quick`.
    pub mode: &'static str,
    /// When the run started (Unix seconds).
    pub started_unix: u64,
    /// How long it took.
    pub seconds: f64,
    /// The options.
    pub options: Options,
    /// The sizes.
    pub sizes: Sizes,
    /// The machine.
    pub machine: Machine,
    /// The method, in short.
    pub method: &'static str,
    /// Every case.
    pub cases: Vec<CaseResult>,
    /// The targets of issue 5.
    pub targets: Vec<TargetResult>,
    /// Failed runs, over all cases.
    pub failures: usize,
}

/// What the run ran on.
#[derive(Debug, Serialize)]
pub struct Machine {
    /// CPUs available.
    pub cpus: usize,
    /// `uname -r`.
    pub kernel: String,
    /// The system libuv's `uv_version_string()`.
    pub libuv: String,
    /// uv-compat's `uv_version_string()`.
    pub uv_compat: String,
    /// Programs pinned with taskset.
    pub pinned: bool,
}

const METHOD: &str = "Each case runs every implementation once per round, in table order, for --rounds rounds; \
medians over rounds; ratios are taken within a round (impl/baseline of the same round) and their median reported. \
Every program is its own process; CPU time is the process's own CLOCK_PROCESS_CPUTIME_ID over its measuring window. \
Instruction counts (callgrind) and syscall counts (strace -c -f) are deterministic: one run pair per implementation, \
the difference of a long and a short run divided by the difference of their lengths.";

/// Runs the harness.
pub fn main(opts: Options) -> ExitCode {
    if opts.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if opts.list {
        list();
        return ExitCode::SUCCESS;
    }
    match run(opts) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("ruv-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn list() {
    println!("scenarios:");
    for (name, what) in SCENARIOS {
        println!("  {name:<14} {what}");
    }
    println!("implementations:");
    for imp in Impl::ALL {
        println!("  {:<14} {}", imp.name(), imp.describe());
    }
}

/// Runs everything selected; `Ok(false)` if any run failed.
fn run(opts: Options) -> Result<bool, String> {
    let started = Instant::now();
    let started_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let impl_filter: Vec<Impl> = opts
        .impls
        .iter()
        .map(|n| {
            Impl::from_name(n).ok_or_else(|| format!("unknown implementation {n:?} (see --list)"))
        })
        .collect::<Result<_, _>>()?;
    let env = prepare(opts)?;
    let machine = describe_machine(&env);
    let selected = select(&env)?;
    let mut results = Vec::new();
    for case in &selected {
        let impls: Vec<Impl> = case
            .impls
            .iter()
            .copied()
            .filter(|i| impl_filter.is_empty() || impl_filter.contains(i))
            .collect();
        if !impls.is_empty() {
            results.push(run_case(&env, case, &impls));
        }
    }
    let targets = targets::evaluate(&results);
    println!(
        "\n== targets (issues 5, 12, 13, 14; reported, not enforced) ==\n{}",
        targets::table(&targets)
    );
    let failures: usize = results.iter().map(|r| r.errors.len()).sum();
    let incomplete: Vec<String> = results
        .iter()
        .flat_map(|r| {
            r.missing()
                .into_iter()
                .map(move |i| format!("{} / {i}", r.id))
        })
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "\n{} case(s), {failures} failed run(s), {seconds:.1} s",
        results.len()
    );
    if !incomplete.is_empty() {
        println!("no successful run: {}", incomplete.join(", "));
    }
    if let Some(path) = &env.opts.markdown {
        write_file(path, &markdown(&results, &targets))?;
    }
    let ok = failures == 0 && incomplete.is_empty();
    if let Some(path) = &env.opts.json {
        let report = Report {
            tool: "ruv-bench",
            mode: mode(&env.opts),
            started_unix,
            seconds,
            options: env.opts.clone(),
            sizes: env.sizes,
            machine,
            method: METHOD,
            cases: results,
            targets,
            failures,
        };
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        write_file(path, &(text + "\n"))?;
    }
    Ok(ok)
}

fn mode(opts: &Options) -> &'static str {
    if opts.quick {
        "quick"
    } else {
        "full"
    }
}

/// Builds the C programs and probes the tools.
fn prepare(opts: Options) -> Result<Env, String> {
    let self_exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let work = self_exe
        .parent()
        .ok_or("the executable has no directory")?
        .join("ruv-bench-work");
    println!(
        "preparing: cargo build -p uv-compat --release, cc -O2 of c/*.c into {}",
        work.display()
    );
    let programs = programs::prepare(&work)?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok(Env {
        sizes: opts.sizes(),
        programs,
        self_exe,
        work,
        pin: cpus >= 2 && programs::have_tool("taskset"),
        valgrind: programs::have_tool("valgrind"),
        strace: programs::have_tool("strace"),
        perf: programs::perf_counts_syscalls(),
        opts,
    })
}

/// Reads the machine's figures and prints the header line.
fn describe_machine(env: &Env) -> Machine {
    let machine = Machine {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        libuv: version(env, Impl::Libuv),
        uv_compat: version(env, Impl::UvCompat),
        pinned: env.pin,
    };
    let pinned = if env.pin {
        ", programs pinned with taskset"
    } else {
        ""
    };
    println!(
        "ruv-bench {}: {} round(s); {} CPUs{pinned}; libuv {}, uv-compat {}; ruv recvmmsg {}",
        mode(&env.opts),
        env.opts.rounds,
        machine.cpus,
        machine.libuv,
        machine.uv_compat,
        if env.opts.ruv_recvmmsg { "on" } else { "off" },
    );
    if !env.perf {
        println!(
            "(perf cannot count syscall tracepoints here: the flood-syscalls case is left out)"
        );
    }
    machine
}

/// The cases `--scenario` selects (all without it).
fn select(env: &Env) -> Result<Vec<Case>, String> {
    let wanted = &env.opts.scenarios;
    let selected: Vec<Case> = all_cases(env)
        .into_iter()
        .filter(|c| wanted.is_empty() || wanted.iter().any(|s| *s == c.scenario || *s == c.id))
        .collect();
    if selected.is_empty() {
        return Err(format!("no scenario matches {wanted:?} (see --list)"));
    }
    Ok(selected)
}

/// Every table, and the targets, in Markdown.
fn markdown(results: &[CaseResult], targets: &[TargetResult]) -> String {
    let mut md = String::new();
    for r in results {
        md.push_str(&format!(
            "#### {} (`{}`)\n\n{}\n\n{}\n\n",
            r.title,
            r.id,
            r.setup,
            r.markdown()
        ));
    }
    md.push_str(&format!("#### Targets\n\n{}\n", targets::markdown(targets)));
    md
}

fn write_file(path: &std::path::Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Runs one case in interleaved rounds and prints its table.
fn run_case(env: &Env, case: &Case, impls: &[Impl]) -> CaseResult {
    println!("\n== {} [{}] ==\n   {}", case.title, case.id, case.setup);
    let rounds = if case.once { 1 } else { env.opts.rounds };
    let head = &case.metrics[0];
    let mut result = CaseResult::new(case, impls);
    for r in 1..=rounds {
        print!("   round {r}/{rounds}:");
        let _ = std::io::stdout().flush();
        let mut round = BTreeMap::new();
        for &imp in impls {
            let outcome = RunResult::from_outcome((case.run)(env, imp));
            match &outcome {
                RunResult::Ok(v) => {
                    let shown = v.get(head.key).map_or_else(
                        || "?".into(),
                        |x| crate::report::format_value(*x, head.unit),
                    );
                    print!(" {} {shown} ·", imp.name());
                }
                RunResult::Err { error } => {
                    print!(" {} FAILED ·", imp.name());
                    eprintln!("\n   {}: {error}", imp.name());
                }
                RunResult::Skipped { skipped } => {
                    print!(" {} skipped ·", imp.name());
                    if r == 1 {
                        eprintln!("\n   {} skipped: {skipped}", imp.name());
                    }
                }
            }
            let _ = std::io::stdout().flush();
            round.insert(imp.name().to_string(), outcome);
        }
        println!(" ({})", head.label);
        result.push_round(round);
    }
    result.summarize();
    println!("{}", indent(&result.table()));
    result
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("   {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `uv_version_string()` of the library `imp` links.
fn version(env: &Env, imp: Impl) -> String {
    env.spawn(imp, "version", &env::params_with_timeout(10), env::Cpu::Any)
        .and_then(|c| c.result(std::time::Duration::from_secs(10)))
        .map(|p| {
            let v = p.u64("version_hex", 0);
            format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
        })
        .unwrap_or_else(|e| format!("unknown ({e})"))
}
