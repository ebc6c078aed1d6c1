use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = consoled::config::Cli::parse();
    consoled::cli::run(cli)
}
