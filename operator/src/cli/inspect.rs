//! `kiln inspect`: variables, locals, builds, sources, provisioners and post-processors;
//! sensitive values shown as `<sensitive>` keeping their shape.

use std::path::PathBuf;

use clap::Args;

use super::common::{VarFlags, load_template};

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Template file or directory.
    pub template: PathBuf,
    #[command(flatten)]
    pub vars: VarFlags,
}

pub fn run(a: InspectArgs) -> i32 {
    let Some(session) = load_template(&a.template, &a.vars, false, false) else {
        return 1;
    };
    print!("{}", render(&session.template));
    0
}

/// The inspect text.
pub fn render(t: &kiln_engine::template::Template) -> String {
    let mut out = String::from("Packer Inspect: HCL2 mode\n\n> input-variables:\n\n");
    for (name, var) in &t.variables {
        let v = t.var_values.get(name).cloned().unwrap_or_default();
        let shown = if var.sensitive { v.masked_shape() } else { v };
        out.push_str(&format!("var.{name}: {}\n", shown.to_hcl()));
    }
    out.push_str("\n> local-variables:\n\n");
    for l in &t.locals {
        let v = t.local_values.get(&l.name).cloned().unwrap_or_default();
        let shown = if l.sensitive { v.masked_shape() } else { v };
        out.push_str(&format!("local.{}: {}\n", l.name, shown.to_hcl()));
    }
    out.push_str("\n> builds:\n\n");
    match t.decode_builds() {
        Ok(builds) => {
            for (i, b) in builds.iter().enumerate() {
                let title = b
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("<unnamed build {i}>"));
                out.push_str(&format!("  > {title}:\n\n"));
                if let Some(d) = &b.description {
                    out.push_str(&format!("    description: {d}\n\n"));
                }
                out.push_str("    sources:\n\n");
                for s in &b.sources {
                    out.push_str(&format!("      {}\n", s.reference()));
                }
                out.push_str("\n    provisioners:\n\n");
                for p in &b.provisioners {
                    out.push_str(&format!("      {}\n", p.kind));
                }
                out.push_str("\n    post-processors:\n\n");
                for (n, chain) in b.post_processors.iter().enumerate() {
                    out.push_str(&format!("      {n}:\n"));
                    for p in chain {
                        out.push_str(&format!("        {}\n", p.kind));
                    }
                }
                out.push('\n');
            }
        }
        Err(d) => out.push_str(&format!("  (builds could not be decoded: {})\n", d.0.len())),
    }
    let masker = kiln_engine::ui::Masker::new(t.sensitive.clone());
    masker.mask(&out)
}
