use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = consoled::cli::Cli::parse();
    consoled::cli::run(cli)
}
