//! Command-line flags, documented where they are defined (the docs drive `--help`).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "isenet", version, about = "Turns the network requirements of an Azure Logic Apps integration service environment (ISE) into deployable, reviewable and verified artifacts.", long_about = None)]
pub struct Cli {
    /// How problems with the inputs are printed: `text` on stderr, or `json` on stdout.
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Text)]
    pub error_format: ErrorFormat,
    /// Treat warnings as errors (exit 2).
    #[arg(long, global = true)]
    pub deny_warnings: bool,
    /// Colour of text output: `auto` (on a terminal, unless NO_COLOR is set; CLICOLOR_FORCE forces
    /// it), `always` or `never`. Machine formats (json, sarif, junit, github, azure-devops) never
    /// carry colour.
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Print only findings and diagnostics: no summaries, tables or "wrote" lines. Exit codes are
    /// unchanged.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check an environment file, or several, and report every problem (exit 0 valid, 2 invalid).
    #[command(
        after_help = "Examples:\n  isenet validate --env env.json\n  isenet validate --env env.json --service-tags ServiceTags_Public.json\n  isenet example | isenet validate --env -\n  isenet validate envs/*.json                 # several: a summary table, exit 2 if any is invalid\n  isenet validate --env-dir envs --format json"
    )]
    Validate {
        /// Environment files to check together (a summary table, one exit code).
        #[arg(value_name = "ENV")]
        envs: Vec<PathBuf>,
        /// Environment file (JSON, `-` for stdin); the embedded example when absent. Repeat it for
        /// several environments.
        #[arg(long)]
        env: Vec<PathBuf>,
        /// Check every `*.json` environment of this folder.
        #[arg(long)]
        env_dir: Option<PathBuf>,
        /// Report format.
        #[arg(long, value_enum, default_value_t = ErrorFormat::Text)]
        format: ErrorFormat,
        /// Also check a service-tag file (the weekly JSON download): it must parse, be of the
        /// environment's cloud, and have every tag the requirements need.
        #[arg(long)]
        service_tags: Option<PathBuf>,
    },
    /// List the ISE requirements resolved for an environment: cloud substitutions, access endpoint,
    /// custom DNS and tunneling conditions applied.
    #[command(
        after_help = "Examples:\n  isenet requirements --env env.json\n  isenet requirements --env env.json --format csv > requirements.csv"
    )]
    Requirements {
        /// Environment file (JSON); the embedded example when absent.
        #[arg(long)]
        env: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = RequirementsFormat::Table)]
        format: RequirementsFormat,
        /// Port-table version to apply (oldest 2020-06-03; default the latest).
        #[arg(long)]
        table_version: Option<String>,
        /// Check that this service-tag file (of the environment's cloud) has every tag the listed
        /// requirements name.
        #[arg(long)]
        service_tags: Option<PathBuf>,
    },
    /// Compile the environment into artifacts (nsg.json, route-table.json, subnets.json,
    /// firewall-policy.json, firewall-classic.json, plan.json; azuredeploy.json + parameters,
    /// main.bicep + main.bicepparam + modules/*.bicep, ise-request.json/.http) in --out-dir, atomically.
    #[command(
        after_help = "Examples:\n  isenet compile --env env.json --out-dir out\n  isenet compile --env env.json --only nsg --stdout > nsg.json\n  isenet compile --env env.json --check --out-dir deploy/network   # exit 1 when stale\n  isenet compile envs/*.json --out-dir out                          # a fleet: out/<name>/\n  isenet compile --env-dir envs --out-dir out"
    )]
    Compile {
        /// Environment files of a fleet, each compiled into OUT/<name>/ (its `name`).
        #[arg(value_name = "ENV")]
        envs: Vec<PathBuf>,
        /// Environment file (JSON, `-` for stdin); the embedded example when absent. Repeat it for
        /// a fleet.
        #[arg(long)]
        env: Vec<PathBuf>,
        /// Compile every `*.json` environment of this folder as a fleet, into OUT/<name>/.
        #[arg(long)]
        env_dir: Option<PathBuf>,
        /// Output directory; replaced as one step, and it must hold only isenet artifacts.
        #[arg(long, default_value = "out")]
        out_dir: PathBuf,
        /// Write only these artifacts (comma-separated): nsg, routes, subnets, firewall, plan, and
        /// the other backends this build has (an unknown name lists them), or file names
        /// (firewall-policy.json) for one file of a backend.
        #[arg(long, value_delimiter = ',', value_name = "NAMES")]
        only: Vec<String>,
        /// Print the one selected artifact on stdout instead of writing --out-dir.
        #[arg(long, requires = "only", conflicts_with_all = ["check", "envs", "env_dir"])]
        stdout: bool,
        /// Write nothing: exit 1 listing the files in --out-dir that are stale, missing or extra
        /// compared with what would be compiled now, 0 when up to date.
        #[arg(long)]
        check: bool,
        /// Service-tag file (the weekly JSON download of the environment's cloud) instead of the
        /// embedded snapshot.
        #[arg(long)]
        service_tags: Option<PathBuf>,
        /// Port-table version to apply (default the latest).
        #[arg(long)]
        table_version: Option<String>,
        /// Replace every service tag in NSG rules and routes by its aggregated prefixes (for
        /// appliances that do not know tags): IPv6 in separate `<name>-v6` rules, at most 4,000
        /// prefixes per rule. VirtualNetwork, Internet and AzureLoadBalancer stay tags.
        #[arg(long)]
        expand_tags: bool,
        /// Leave the ISE out of azuredeploy.json and main.bicep (network resources only), for teams
        /// that deploy the ISE separately; ise-request.json/.http are still written.
        #[arg(long)]
        network_only: bool,
    },
    /// Prove an NSG, a route table and/or Azure Firewall rules against the environment's requirements with Azure's
    /// semantics: every requirement covered, nothing else open (exit 0), or the findings (exit 1).
    #[command(
        after_help = "Examples:\n  isenet verify --env env.json --nsg out/nsg.json\n  az network nsg show -g RG -n NSG -o json | isenet verify --env env.json --nsg -\n  isenet verify --env env.json --routes route-table.json --firewall firewall-policy.json\n  isenet verify envs/*.json                          # several, each against its compiled artifacts\n  isenet verify --env-dir envs --artifacts-dir deployed --format sarif  # deployed/<name>/*.json"
    )]
    Verify {
        /// Environment files to verify together, each against its compiled artifacts or, with
        /// --artifacts-dir, the files in DIR/<name>/.
        #[arg(value_name = "ENV")]
        envs: Vec<PathBuf>,
        /// Environment file (JSON); the embedded example when absent. Repeat it for several
        /// environments.
        #[arg(long)]
        env: Vec<PathBuf>,
        /// Verify every `*.json` environment of this folder.
        #[arg(long)]
        env_dir: Option<PathBuf>,
        /// The artifacts of each environment are DIR/<name>/nsg.json, route-table.json
        /// and firewall-policy.json, as `compile --out-dir DIR` writes a fleet: those its mode
        /// needs must be there (the NSG; the route table when tunneled; the firewall in firewall mode).
        #[arg(long, value_name = "DIR", conflicts_with_all = ["nsg", "routes", "firewall"])]
        artifacts_dir: Option<PathBuf>,
        /// The NSG: isenet's nsg.json or `az network nsg show -o json` output. With --env and none of
        /// --nsg, --routes, --firewall, the environment's compiled artifacts are verified.
        #[arg(long, required_unless_present_any = ["routes", "firewall", "env", "envs", "env_dir", "artifacts_dir"])]
        nsg: Option<PathBuf>,
        /// The route table on the ISE subnets (route-table.json or `az network route-table show -o
        /// json`): proved with longest-prefix match, and its prefixes join the VirtualNetwork tag
        /// of the NSG proof. Without it, the routes the tunneling mode implies are assumed.
        #[arg(long)]
        routes: Option<PathBuf>,
        /// Azure Firewall rules (firewall-policy.json, firewall-classic.json, or `az network firewall
        /// policy rule-collection-group show` / `az network firewall show` output): every
        /// dependency allowed, nothing else, and admitted by the NSG (--nsg, or the compiled one).
        #[arg(long)]
        firewall: Option<PathBuf>,
        /// Service-tag file instead of the embedded snapshot.
        #[arg(long)]
        service_tags: Option<PathBuf>,
        /// Port-table version the requirements come from (default the latest), as given to
        /// `compile --table-version`.
        #[arg(long)]
        table_version: Option<String>,
        /// Report format: text, json, sarif (code scanning), junit (test results), github or
        /// azure-devops (annotation commands on stdout).
        #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
        format: VerifyFormat,
        /// Text: also list the covered requirements and every flow of each finding in full.
        /// SARIF, github, azure-devops: also the notes (shadowed and redundant rules), which
        /// inform and are left out otherwise.
        #[arg(long)]
        verbose: bool,
    },
    /// What happens to traffic between two endpoints: the deciding NSG rule of each part (and the
    /// requirements it serves, or that it serves none), and under forced tunneling the route's next
    /// hop and the firewall's decision. With --expect (or a flows file's expect column), exit 1 when
    /// the verdict differs.
    #[command(
        after_help = "Examples:\n  isenet explain --env env.json --from 10.10.1.5 --to Storage --port 443 --expect allow\n  isenet explain --env env.json --from 203.0.113.10 --to 10.10.1.5 --port 443 --expect deny\n  isenet explain --env env.json --from 10.10.1.5 --to 10.10.1.40 --port 6379-6383 --format json\n  # In firewall mode, a DNS name as the destination:\n  isenet explain --env env.json --from 10.10.1.5 --to login.microsoftonline.com --port 443\n  isenet explain --env env.json --flows smoke.csv     # CSV: from,to,port,protocol,expect\n  # A peered network the environment does not declare (verify's F0109):\n  isenet explain --nsg nsg.json --from 172.16.5.4 --to 10.10.1.5 --port 22 --as-member 172.16.0.0/12"
    )]
    Explain {
        /// Environment file (JSON); the embedded example when absent.
        #[arg(long)]
        env: Option<PathBuf>,
        /// The NSG to ask about; the environment's compiled NSG when absent.
        #[arg(long)]
        nsg: Option<PathBuf>,
        /// The route table on the ISE subnets (see `verify`); the compiled one when absent.
        #[arg(long)]
        routes: Option<PathBuf>,
        /// Azure Firewall rules (see `verify`), for firewall mode; the compiled ones when absent.
        #[arg(long)]
        firewall: Option<PathBuf>,
        /// Service-tag file instead of the embedded snapshot.
        #[arg(long)]
        service_tags: Option<PathBuf>,
        /// Port-table version the requirements come from (default the latest), as given to
        /// `compile --table-version`.
        #[arg(long)]
        table_version: Option<String>,
        /// Source: an IPv4 address, a prefix or a service tag.
        #[arg(long, required_unless_present = "flows", conflicts_with = "flows")]
        from: Option<String>,
        /// Destination: an IPv4 address, a prefix, a service tag, or in firewall mode a DNS name.
        #[arg(long, required_unless_present = "flows", conflicts_with = "flows")]
        to: Option<String>,
        /// Destination ports: N, N-M or * (the default; Icmp, Esp and Ah have no ports).
        #[arg(long, default_value = "*", value_parser = parse_ports, conflicts_with = "flows")]
        port: ise_model::ports::PortRange,
        /// Protocol: tcp, udp, icmp, esp, ah or * (any), as NSG rules name them.
        #[arg(long, default_value = "tcp", value_parser = ProtocolParser, conflicts_with = "flows")]
        protocol: rules_compiler::azure::nsg::Protocol,
        /// What the flow must get: exit 1 when the verdict differs (a mixed verdict meets neither).
        #[arg(long, value_enum, conflicts_with = "flows")]
        expect: Option<ExpectArg>,
        /// Take these addresses as VirtualNetwork members (peered or on-premises networks the
        /// environment does not declare; comma-separated or repeated), as `verify`'s F0109 does:
        /// otherwise an address outside the declared networks is Internet.
        #[arg(long, value_name = "PREFIX", value_delimiter = ',', value_parser = parse_member)]
        as_member: Vec<ipnet::Ipv4Net>,
        /// Many flows at once: a CSV file (`-` for stdin) with the header from,to,port,protocol,expect,
        /// at most 10,000 rows (split larger smoke suites); prints a table (or a JSON array) and
        /// exits 1 when any expectation fails.
        #[arg(long)]
        flows: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ErrorFormat::Text)]
        format: ErrorFormat,
    },
    /// Service tags: show a tag's prefixes, or diff two weekly tag files (and their effect on an
    /// environment).
    #[command(
        after_help = "Examples:\n  isenet tags show Storage --location westus2\n  isenet tags diff old.json new.json --env env.json\n  isenet tags diff old.json new.json --env-dir envs   # several environments: a summary table"
    )]
    Tags {
        #[command(subcommand)]
        command: TagsCommand,
    },
    /// Compare deployed resources with what the environment compiles to: the rules, routes and
    /// firewall rules to add, remove, change or rename, and the verifier's findings on the deployed
    /// state (exit 0 in sync, 1 drift, 2 bad input).
    #[command(
        after_help = "Examples:\n  az network nsg show -g RG -n NSG -o json > nsg.json\n  isenet diff --env env.json --deployed nsg.json\n  isenet diff --env env.json --deployed nsg.json --deployed routes.json --format ticket > ticket.md\n  isenet diff --env env.json --deployed exported-template.json --format json"
    )]
    Diff {
        /// A deployed resource: `az network nsg show`, `az network route-table show` or `az network
        /// firewall policy rule-collection-group show` output (-o json), or an ARM template (an
        /// exported resource group) holding them. Repeat for several; `-` reads stdin.
        #[arg(long, required = true, value_name = "FILE")]
        deployed: Vec<PathBuf>,
        /// Environment file (JSON); the embedded example when absent.
        #[arg(long)]
        env: Option<PathBuf>,
        /// Service-tag file instead of the embedded snapshot.
        #[arg(long)]
        service_tags: Option<PathBuf>,
        /// Port-table version the requirements come from (default the latest), as given to
        /// `compile --table-version`.
        #[arg(long)]
        table_version: Option<String>,
        /// Compare with the artifacts `compile --expand-tags` writes (service tags as prefixes).
        #[arg(long)]
        expand_tags: bool,
        /// Report format: text, json, or ticket (Markdown with the az commands that converge).
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
    /// Print the environment file's JSON Schema (draft 2020-12).
    #[command(after_help = "Examples:\n  isenet schema > environment.schema.json")]
    Schema,
    /// Print the embedded example environment.
    #[command(after_help = "Examples:\n  isenet example > env.json")]
    Example,
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Examples:\n  isenet completions bash > /etc/bash_completion.d/isenet\n  isenet completions zsh > \"${fpath[1]}/_isenet\"\n  isenet completions fish > ~/.config/fish/completions/isenet.fish\n  isenet completions powershell >> $PROFILE"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) of isenet and its subcommands.
    #[command(after_help = "Examples:\n  isenet man > /usr/local/share/man/man1/isenet.1")]
    Man,
}

#[derive(Subcommand, Debug)]
pub enum TagsCommand {
    /// A tag's prefixes (IPv4 and IPv6, counts and aggregated form), and with --location its
    /// regional variant (`Storage.WestUS2`). Unknown tag: exit 2.
    #[command(
        after_help = "Examples:\n  isenet tags show Storage\n  isenet tags show Storage --location westus2 --format json\n  isenet tags show AzureCloud --cloud usgovernment --location usgovvirginia\n  isenet tags show Sql --service-tags ServiceTags_Public.json"
    )]
    Show {
        /// Tag name (case-insensitive), e.g. `Storage` or `AzureConnectors.WestUS2`.
        name: String,
        /// Cloud whose embedded snapshot to use (default public; with --service-tags, the file's).
        #[arg(long, value_enum)]
        cloud: Option<CloudArg>,
        /// Also show the regional variant of the tag for this location of the cloud.
        #[arg(long)]
        location: Option<String>,
        /// Service-tag file instead of the embedded snapshot.
        #[arg(long)]
        service_tags: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ErrorFormat::Text)]
        format: ErrorFormat,
    },
    /// Tags and prefixes added and removed between two service-tag files of one cloud; with --env,
    /// what the new file changes for the environment: the items of every artifact `compile` writes
    /// that differ (exit 1), and the unchanged rules whose tags' addresses changed (effective
    /// changes: exit 0 unless --fail-on effective). Without --env always 0; 2 on bad input.
    #[command(
        group(clap::ArgGroup::new("environments").args(["env", "env_dir"]).multiple(true)),
        after_help = "Examples:\n  isenet tags diff old.json new.json                       # tags and prefixes only, exit 0\n  isenet tags diff old.json new.json --env env.json        # exit 1 when an artifact changes\n  isenet tags diff old.json new.json --env env.json --fail-on effective\n  isenet tags diff old.json new.json --env-dir envs        # several: a summary table"
    )]
    Diff {
        /// The older service-tag file.
        old: PathBuf,
        /// The newer service-tag file.
        new: PathBuf,
        /// Environment file (JSON) whose rules and routes to compare; no impact report without it.
        /// Repeat it for several environments (a summary table, one exit code).
        #[arg(long)]
        env: Vec<PathBuf>,
        /// Compare every `*.json` environment of this folder.
        #[arg(long)]
        env_dir: Option<PathBuf>,
        /// Compare the plans as `compile --expand-tags` writes them (IPv6 changes then count too).
        #[arg(long, requires = "environments")]
        expand_tags: bool,
        /// Port-table version of the compared plans (default the latest).
        #[arg(long, requires = "environments")]
        table_version: Option<String>,
        /// With --env: also list every tag and prefix of the whole-cloud diff (otherwise summarised).
        #[arg(long)]
        all: bool,
        /// With --env: what exits 1. `artifacts` (default): an artifact changes; `effective`: also
        /// when only the addresses behind a named tag change.
        #[arg(long, value_enum, default_value_t = FailOn::Artifacts, requires = "environments")]
        fail_on: FailOn,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ErrorFormat::Text)]
        format: ErrorFormat,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Artifacts,
    Effective,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CloudArg {
    Public,
    Usgovernment,
    China,
}

impl Command {
    /// Whether the command may run several environments at once (a fleet: one worker thread per
    /// core), rather than one environment, or none.
    pub fn may_run_a_fleet(&self) -> bool {
        match self {
            Command::Validate { envs, env, env_dir, .. } | Command::Verify { envs, env, env_dir, .. } => {
                envs.len() + env.len() > 1 || env_dir.is_some()
            }
            Command::Compile { envs, env, env_dir, .. } => envs.len() + env.len() > 1 || env_dir.is_some(),
            Command::Tags {
                command: TagsCommand::Diff { env, env_dir, .. },
            } => env.len() > 1 || env_dir.is_some(),
            _ => false,
        }
    }
}

impl CloudArg {
    pub fn id(self) -> ise_model::cloud::CloudId {
        use ise_model::cloud::CloudId;
        match self {
            CloudArg::Public => CloudId::Public,
            CloudArg::Usgovernment => CloudId::UsGovernment,
            CloudArg::China => CloudId::China,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum RequirementsFormat {
    Table,
    Json,
    Csv,
}

/// `explain --expect`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExpectArg {
    Allow,
    Deny,
}

fn parse_ports(text: &str) -> Result<ise_model::ports::PortRange, String> {
    rules_compiler::prove::explain::parse_ports(text)
}

/// `explain --as-member`: an IPv4 address or prefix, read as every other reader reads one; a
/// prefix with host bits set is refused, as in the environment file (a typo for an address would
/// otherwise widen to its whole network).
fn parse_member(text: &str) -> Result<ipnet::Ipv4Net, String> {
    match ise_model::ip_text::address_or_prefix(text.trim()) {
        Some(ipnet::IpNet::V4(n)) if n != n.trunc() => Err(format!(
            "`{n}` has host bits set: write {} for the network, or {} for the one address",
            n.trunc(),
            n.addr()
        )),
        Some(ipnet::IpNet::V4(n)) => Ok(n),
        Some(ipnet::IpNet::V6(_)) => Err("NSG proofs cover IPv4: give an IPv4 address or prefix".into()),
        None if ise_model::ip_text::has_leading_zero(text.trim()) => Err(ise_model::ip_text::leading_zero_help(text.trim())),
        None => Err(format!("`{}` is not an IPv4 address or prefix", ise_model::diag::excerpt(text))),
    }
}

fn parse_protocol(text: &str) -> Result<rules_compiler::azure::nsg::Protocol, String> {
    rules_compiler::prove::explain::parse_protocol(text)
}

/// `explain --protocol`: parse_protocol's inputs (any case, `any`), plus the values it names so
/// that shell completions offer them instead of file names.
#[derive(Copy, Clone, Debug)]
struct ProtocolParser;

impl clap::builder::TypedValueParser for ProtocolParser {
    type Value = rules_compiler::azure::nsg::Protocol;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &std::ffi::OsStr) -> Result<Self::Value, clap::Error> {
        parse_protocol.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        use clap::builder::PossibleValue;
        let shown = ["tcp", "udp", "icmp", "esp", "ah", "*"].map(PossibleValue::new);
        Some(Box::new(shown.into_iter().chain([PossibleValue::new("any").hide(true)])))
    }
}

/// Formats of `verify`'s report.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Text,
    Json,
    Sarif,
    Junit,
    Github,
    AzureDevops,
}

/// Formats of `diff --deployed`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Ticket,
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::Parser;

    fn fleet(line: &str) -> bool {
        let cli = Cli::try_parse_from(line.split_whitespace()).unwrap_or_else(|e| panic!("{line}: {e}"));
        cli.command.may_run_a_fleet()
    }

    /// A fleet (several environments, or a folder of them) is what runs one worker per core; the
    /// allocator keeps a heap per thread only then.
    #[test]
    fn several_environments_or_a_folder_are_a_fleet_and_one_is_not() {
        for one in [
            "isenet compile",
            "isenet compile --env a.json --out-dir out",
            "isenet compile a.json --out-dir out",
            "isenet validate --env a.json",
            "isenet verify --env a.json --nsg nsg.json",
            "isenet tags diff old.json new.json --env a.json",
            "isenet tags diff old.json new.json",
            "isenet explain --env a.json --from Internet --to ise --port 443",
            "isenet example",
        ] {
            assert!(!fleet(one), "{one}");
        }
        for many in [
            "isenet compile a.json b.json --out-dir out",
            "isenet compile --env-dir envs --out-dir out",
            "isenet validate a.json b.json",
            "isenet validate --env a.json --env b.json",
            "isenet validate a.json --env b.json",
            "isenet validate --env-dir envs",
            "isenet verify a.json b.json",
            "isenet verify --env-dir envs --artifacts-dir out",
            "isenet tags diff old.json new.json --env a.json --env b.json",
            "isenet tags diff old.json new.json --env-dir envs",
        ] {
            assert!(fleet(many), "{many}");
        }
    }
}
