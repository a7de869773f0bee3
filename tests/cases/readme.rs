//! The eureka-hook command lines in README.md's code blocks run as written: the pod spec's and the
//! YAML snippets' lifecycle `command` arrays, the `kubectl exec POD -- eureka-hook …` lines and any
//! shell line that starts eureka-hook. Each runs with exactly its arguments plus `--dry-run`, with
//! the environment its snippet gives (a pod spec's container `env`; for a snippet without one, a
//! minimal pod's), and must exit 0 with a plan that names the hook's requests. The Markdown is read
//! with pulldown-cmark; the blocks are told apart by their info string: `yaml` and `sh` hold
//! commands, `dockerfile` holds build instructions, and the one untagged block is the interface
//! synopsis, whose `[--drain 30s]` brackets are notation. Its subcommands are the ones the runnable
//! commands must cover.
//!
//! The README stays a user's page: at most 250 lines, every source module listed once in its
//! Development section, and every relative link in it, in docs/ and in the changelog leads to a
//! file (and heading) that exists, so text moved into docs/ cannot leave a dangling link behind.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
use serde::Deserialize;
use serde_json::Value;

use super::examples::{
    URL_VARS, container_env, env_value, expected_instance_id, point_at, run_to_exit_0,
};
use crate::support::*;

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The README is read in five minutes; everything longer lives in docs/.
const README_MAX_LINES: usize = 250;
const SUBCOMMANDS: [&str; 3] = ["prestop", "poststart", "status"];

/// A code block of the README.
struct CodeBlock {
    /// The info string's first word (`yaml`, `sh`), empty for an untagged or indented block.
    language: String,
    text: String,
    /// Where the block starts in README.md, for messages.
    line: usize,
}

fn code_blocks(markdown: &str) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<CodeBlock> = None;
    for (event, range) in Parser::new(markdown).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let language = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                open = Some(CodeBlock {
                    language,
                    text: String::new(),
                    line: markdown[..range.start].lines().count() + 1,
                });
            }
            Event::Text(text) => {
                if let Some(block) = &mut open {
                    block.text.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(open.take()),
            _ => {}
        }
    }
    blocks
}

/// Where a command's environment comes from.
enum PodEnv {
    /// The container `env` of the pod spec the command is in.
    Container(Vec<(String, String)>),
    /// The snippet gives none: `kubectl exec` and the container have the pod's own variables.
    Minimal,
}

/// One eureka-hook command line of the README.
struct ReadmeCommand {
    origin: String,
    args: Vec<String>,
    env: PodEnv,
}

impl ReadmeCommand {
    fn subcommand(&self) -> Option<&str> {
        self.args
            .iter()
            .map(String::as_str)
            .find(|arg| SUBCOMMANDS.contains(arg))
    }
}

fn is_eureka_hook(program: &str) -> bool {
    Path::new(program)
        .file_name()
        .is_some_and(|name| name == "eureka-hook")
}

/// Every lifecycle `command` array that runs eureka-hook, with the env of its container.
fn yaml_commands(
    value: &Value,
    env: Option<&[(String, String)]>,
    origin: &str,
) -> Vec<ReadmeCommand> {
    let own_env;
    let env = if value.get("env").is_some_and(Value::is_array) {
        own_env = container_env(value, &Default::default(), &[]);
        Some(own_env.as_slice())
    } else {
        env
    };
    let mut commands = Vec::new();
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let program = field.get(0).and_then(Value::as_str);
                if key == "command" && program.is_some_and(is_eureka_hook) {
                    let args = field.as_array().unwrap()[1..]
                        .iter()
                        .map(|arg| arg.as_str().unwrap().to_string())
                        .collect();
                    commands.push(ReadmeCommand {
                        origin: origin.to_string(),
                        args,
                        env: env.map_or(PodEnv::Minimal, |env| PodEnv::Container(env.to_vec())),
                    });
                } else {
                    commands.extend(yaml_commands(field, env, origin));
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                commands.extend(yaml_commands(item, env, origin));
            }
        }
        _ => {}
    }
    commands
}

/// The eureka-hook lines of a shell block: the program is the line's first word, or the word after
/// `--` of a `kubectl exec`. (`install … /usr/local/bin/eureka-hook` names it but does not run it.)
fn shell_commands(block: &CodeBlock) -> Vec<ReadmeCommand> {
    let mut commands = Vec::new();
    for (first, line) in logical_lines(&block.text) {
        let origin = format!("README.md:{}: {line}", block.line + 1 + first);
        let words = shlex::split(&line).unwrap_or_else(|| panic!("{origin}: unbalanced quotes"));
        let program_at = match words.first().map(String::as_str) {
            Some("kubectl") => words.iter().position(|word| word == "--").map(|at| at + 1),
            Some(_) => Some(0),
            None => None,
        };
        if let Some(at) = program_at.filter(|&at| words.get(at).is_some_and(|w| is_eureka_hook(w)))
        {
            commands.push(ReadmeCommand {
                origin,
                args: words[at + 1..].to_vec(),
                env: PodEnv::Minimal,
            });
        }
    }
    commands
}

/// The shell's lines, a line ending in `\\` joined with the next, each with the index of its first.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines: Vec<(usize, String)> = Vec::new();
    let mut continues = false;
    for (index, line) in text.lines().enumerate() {
        let (body, next_continues) = match line.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (line, false),
        };
        match lines.last_mut() {
            Some((_, joined)) if continues => joined.push_str(body),
            _ => lines.push((index, body.to_string())),
        }
        continues = next_continues;
    }
    lines
}

/// The subcommands the interface synopsis lists (`eureka-hook prestop [--drain 30s] …`).
fn synopsis_subcommands(block: &CodeBlock) -> BTreeSet<String> {
    block
        .text
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("eureka-hook")).then(|| words.next().unwrap().to_string())
        })
        .collect()
}

/// The requests the plan must name for `subcommand` on the peer at `peer` (ending in `/`).
fn expected_requests(subcommand: &str, peer: &str, app: &str, id: &str) -> Vec<String> {
    let instance = format!("{peer}apps/{}/{id}", app.to_uppercase());
    match subcommand {
        "prestop" => vec![format!("PUT {instance}/status?value=OUT_OF_SERVICE")],
        "poststart" => vec![
            format!("GET {instance}"),
            format!("DELETE {instance}/status"),
        ],
        "status" => vec![format!("GET {instance}")],
        other => panic!("no expected requests for {other}"),
    }
}

fn names_request(plan: &str, request: &str) -> bool {
    plan.lines()
        .any(|line| line.ends_with(request) || line.contains(&format!("{request} ")))
}

/// Runs the command as a dry run against a double's URL: exit 0, nothing sent, its requests named.
fn dry_run(command: &ReadmeCommand) {
    let double = EurekaDouble::start();
    let (env, app, id) = match &command.env {
        PodEnv::Container(env) => {
            let env: Vec<(String, String)> = env
                .iter()
                .map(|(name, value)| match URL_VARS.contains(&name.as_str()) {
                    true => (name.clone(), point_at(value, &double)),
                    false => (name.clone(), value.clone()),
                })
                .collect();
            let named = [
                "SPRING_APPLICATION_NAME",
                "EUREKA_APP",
                "EUREKA_INSTANCE_APPNAME",
            ]
            .iter()
            .any(|name| env_value(&env, name).is_some());
            if named {
                let (app, id, _) = expected_instance_id(&env);
                (env, app, id)
            } else {
                // No app name: the plan looks this pod's instance up first, and shows what it
                // finds as placeholders.
                (env, "(found-app)".to_string(), "(found-id)".to_string())
            }
        }
        PodEnv::Minimal => {
            let env = [
                ("SPRING_APPLICATION_NAME", APP.to_string()),
                ("SERVER_PORT", "8080".to_string()),
                ("EUREKA_HOSTNAME", HOST.to_string()),
                ("EUREKA_URL", double.base_url()),
            ]
            .map(|(name, value)| (name.to_string(), value));
            (env.to_vec(), APP.to_string(), DEFAULT_ID.to_string())
        }
    };
    let peers: Vec<String> = URL_VARS
        .iter()
        .find_map(|name| env_value(&env, name))
        .expect("every environment names the registry")
        .split(',')
        .map(str::to_string)
        .collect();

    let mut args: Vec<&str> = command.args.iter().map(String::as_str).collect();
    args.push("--dry-run");
    let mut process = hook(&args).command();
    process
        .env_remove("EUREKA_HOSTNAME")
        .envs(env.iter().cloned());
    let (plan, _) = run_to_exit_0(process, &command.origin);

    assert!(
        plan.starts_with("dry run: nothing is sent"),
        "{}: {plan}",
        command.origin
    );
    let subcommand = command.subcommand().unwrap();
    for peer in &peers {
        let look_up = (id == "(found-id)").then(|| format!("GET {peer}apps/"));
        for request in look_up
            .into_iter()
            .chain(expected_requests(subcommand, peer, &app, &id))
        {
            assert!(
                names_request(&plan, &request),
                "{}: the plan does not name {request}:\n{plan}",
                command.origin
            );
        }
    }
    assert!(
        double.requests().is_empty(),
        "{}: the dry run sent requests",
        command.origin
    );
}

#[test]
fn every_eureka_hook_command_in_the_readme_runs_as_written() {
    let markdown = std::fs::read_to_string(README).unwrap();
    let mut commands = Vec::new();
    let mut synopses = Vec::new();
    let mut pod_spec_subcommands = BTreeSet::new();
    for block in code_blocks(&markdown) {
        let origin = format!("README.md:{} ({} block)", block.line, block.language);
        match block.language.as_str() {
            "yaml" => {
                for document in serde_yaml_ng::Deserializer::from_str(&block.text) {
                    let value = Value::deserialize(document)
                        .unwrap_or_else(|err| panic!("{origin}: {err}"));
                    let found = yaml_commands(&value, None, &origin);
                    if value["spec"]["containers"].is_array() {
                        pod_spec_subcommands.extend(
                            found
                                .iter()
                                .filter(|command| matches!(command.env, PodEnv::Container(_)))
                                .filter_map(|command| command.subcommand().map(str::to_string)),
                        );
                    }
                    commands.extend(found);
                }
            }
            "sh" => commands.extend(shell_commands(&block)),
            "dockerfile" => {}
            "" if block.text.contains("eureka-hook") => synopses.push(block),
            "" => {}
            other => assert!(
                !block.text.contains("eureka-hook"),
                "{origin}: a `{other}` block names eureka-hook; say here how to read it"
            ),
        }
    }

    assert_eq!(
        synopses.len(),
        1,
        "expected one untagged block, the interface synopsis"
    );
    let listed = synopsis_subcommands(&synopses[0]);
    let expected: BTreeSet<String> = SUBCOMMANDS.iter().map(|name| name.to_string()).collect();
    assert_eq!(listed, expected, "the synopsis lists other subcommands");
    assert_eq!(
        pod_spec_subcommands,
        BTreeSet::from(["poststart".to_string(), "prestop".to_string()]),
        "the pod spec (a YAML block with spec.containers) and its two lifecycle hooks"
    );
    let kubectl: BTreeSet<&str> = commands
        .iter()
        .filter(|command| command.origin.contains("kubectl exec"))
        .filter_map(ReadmeCommand::subcommand)
        .collect();
    assert_eq!(
        kubectl,
        BTreeSet::from(SUBCOMMANDS),
        "the manual-drain block's kubectl exec lines"
    );

    for command in &commands {
        match command.subcommand() {
            Some(_) => dry_run(command),
            // `eureka-hook --version` after installing: what it prints is checked, not a plan.
            None => {
                assert_eq!(command.args, ["--version"], "{}", command.origin);
                let (stdout, _) = run_to_exit_0(hook(&["--version"]).command(), &command.origin);
                let version = format!("eureka-hook {} (", env!("CARGO_PKG_VERSION"));
                assert!(stdout.starts_with(&version), "{}: {stdout}", command.origin);
            }
        }
    }
}

#[test]
fn the_readme_stays_within_its_line_budget() {
    let markdown = std::fs::read_to_string(README).unwrap();
    let lines = markdown.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, more than {README_MAX_LINES}: move detail into docs/"
    );
}

/// Every `.rs` file under `dir`, as a path relative to the repository root (`src/eureka/tls.rs`).
fn rust_files(dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let relative = path.strip_prefix(ROOT).unwrap();
            found.insert(relative.to_string_lossy().into_owned());
        }
    }
}

#[test]
fn the_development_section_lists_each_source_module_once() {
    let markdown = std::fs::read_to_string(README).unwrap();
    let section = markdown
        .split("\n## ")
        .find(|section| section.starts_with("Development\n"))
        .expect("README.md has a `## Development` section");
    let mut listed: BTreeMap<String, usize> = BTreeMap::new();
    // `- `src/x.rs`: …` names one module; `- `src/dir/`: `a.rs` …, `b.rs` …` names every `*.rs`
    // in backticks after the folder.
    for line in section.lines().filter(|line| line.starts_with("- `src/")) {
        let quoted: Vec<&str> = line.split('`').skip(1).step_by(2).collect();
        let modules: Vec<String> = match quoted.split_first() {
            Some((file, _)) if file.ends_with(".rs") => vec![(*file).to_string()],
            Some((folder, rest)) => rest
                .iter()
                .filter(|name| name.ends_with(".rs") && !name.contains('/'))
                .map(|name| format!("{folder}{name}"))
                .collect(),
            None => Vec::new(),
        };
        for module in modules {
            *listed.entry(module).or_default() += 1;
        }
    }
    let twice: Vec<&String> = listed
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(m, _)| m)
        .collect();
    assert!(twice.is_empty(), "listed more than once: {twice:?}");

    let mut modules = BTreeSet::new();
    rust_files(&Path::new(ROOT).join("src"), &mut modules);
    let listed: BTreeSet<String> = listed.into_keys().collect();
    let unlisted: Vec<&String> = modules.difference(&listed).collect();
    let gone: Vec<&String> = listed.difference(&modules).collect();
    assert!(
        unlisted.is_empty() && gone.is_empty(),
        "README.md's Development section: add a line for {unlisted:?}, remove the lines of {gone:?}"
    );
}

/// The anchor GitHub gives a heading: lower case, spaces to `-`, punctuation but `-` and `_` dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The links and image sources of a Markdown text, and the anchors of its headings.
fn links_and_anchors(markdown: &str) -> (Vec<String>, BTreeSet<String>) {
    let mut links = Vec::new();
    let mut anchors = BTreeSet::new();
    let mut heading: Option<String> = None;
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                links.push(dest_url.to_string());
            }
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(text) | Event::Code(text) => {
                if let Some(heading) = &mut heading {
                    heading.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(_)) => anchors.extend(heading.take().map(|h| anchor(&h))),
            _ => {}
        }
    }
    (links, anchors)
}

#[test]
fn every_relative_link_in_the_readme_docs_and_changelog_leads_somewhere() {
    let root = Path::new(ROOT);
    let mut pages: Vec<PathBuf> = vec![root.join("README.md"), root.join("CHANGELOG.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "md") {
            pages.push(path);
        }
    }
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let markdown = std::fs::read_to_string(page)
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", page.display()));
        for link in links_and_anchors(&markdown).0 {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = match file {
                "" => page.clone(),
                file => page.parent().unwrap().join(file),
            };
            let name = format!("{}: {link}", page.strip_prefix(root).unwrap().display());
            if !target.exists() {
                broken.push(format!("{name} (no such file)"));
            } else if !fragment.is_empty() && target.extension().is_some_and(|ext| ext == "md") {
                let text = std::fs::read_to_string(&target).unwrap();
                if !links_and_anchors(&text).1.contains(fragment) {
                    broken.push(format!("{name} (no such heading)"));
                }
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} relative links found: is the parser reading the pages?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
