//! `cmdeploy lab generate`: write a synthetic project for scale tests and benchmarks.

use cmdeploy_lab::generate::{generate, GenerateSpec};

use crate::cli::GenerateArgs;
use crate::Failure;

/// Runs `lab generate`; needs no project.
pub fn run(args: &GenerateArgs) -> Result<i32, Failure> {
    let spec = GenerateSpec {
        boundaries: args.boundaries,
        groups: args.groups,
        hosts: args.hosts,
        converged: args.converged,
    };
    generate(&args.out_dir, &spec).map_err(|e| Failure::Message(e.to_string()))?;
    println!(
        "Generated {}: {} resources ({} boundaries in {} groups, {} workgroup hosts, 1 site and its network access account{}). Next: cmdeploy -C {} lab reset{}",
        args.out_dir.display(),
        spec.resources(),
        spec.boundaries,
        spec.groups,
        spec.hosts,
        if spec.converged {
            "; the lab holds them all already"
        } else {
            ""
        },
        args.out_dir.display(),
        if spec.converged {
            ", then cmdeploy apply (it adopts them into state)"
        } else {
            ""
        }
    );
    Ok(0)
}
