//! `kiln verify-attestation`: Packer 1.16's command (its flags, usage and messages) over
//! `kiln_engine::attestation`.

use kiln_engine::attestation::{self, Args};

use super::goflag::{self, Kind};

const HELP: &str = "Usage: packer verify-attestation [options] ATTESTATION

  Verifies a signed DSSE attestation and optionally enforces policy checks
  such as predicate type, builder identity, source URI, and subject digest.

Options:

  -signing-mode=MODE            Signing mode: key, kms, keyless. Auto-detected when possible.
  -key=PATH_OR_URI              PEM key path or KMS/Vault URI used for verification when no verifier is supplied.
  -verifier=PATH                PEM verifier path.
  -predicate-type=TYPE          Expected attestation predicate type.
  -builder-id=ID                Expected SLSA builder ID.
  -source-uri=URI               Expected resolved source URI.
  -artifact=PATH                Artifact path to match against attestation subjects.
  -trusted-root-path=PATH       Optional Sigstore trusted-root JSON for keyless verification.
  -keyless-identity=IDENTITY    Expected keyless signing identity.
  -keyless-oidc-issuer=ISSUER   Expected keyless OIDC issuer.
  -bundle=PATH                  Optional Sigstore bundle JSON for Rekor or timestamp verification.
  -require-rekor                Require Rekor transparency log verification from the bundle.
  -require-timestamp            Require a trusted observer timestamp from Rekor integrated time or RFC3161 evidence.";

/// Runs `verify-attestation` with the arguments after the command name; the exit code.
pub fn run(args: &[String]) -> i32 {
    let ui = super::common::CmdUi::current();
    const FLAGS: &[(&str, Kind)] = &[
        ("signing-mode", Kind::String),
        ("key", Kind::String),
        ("verifier", Kind::String),
        ("predicate-type", Kind::String),
        ("builder-id", Kind::String),
        ("source-uri", Kind::String),
        ("artifact", Kind::String),
        ("trusted-root-path", Kind::String),
        ("keyless-identity", Kind::String),
        ("keyless-oidc-issuer", Kind::String),
        ("bundle", Kind::String),
        ("require-rekor", Kind::Bool),
        ("require-timestamp", Kind::Bool),
    ];
    let p = match goflag::parse_command(args, HELP, FLAGS) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if p.args.len() != 1 {
        ui.say(HELP);
        return 1;
    }
    let s = |name: &str| p.last(name).unwrap_or_default().to_string();
    let a = Args {
        attestation: p.args[0].clone(),
        signing_mode: s("signing-mode"),
        key: s("key"),
        verifier: s("verifier"),
        predicate_type: s("predicate-type"),
        builder_id: s("builder-id"),
        source_uri: s("source-uri"),
        artifact: s("artifact"),
        trusted_root: s("trusted-root-path"),
        keyless_identity: s("keyless-identity"),
        keyless_oidc_issuer: s("keyless-oidc-issuer"),
        bundle: s("bundle"),
        require_rekor: p.bool("require-rekor", false),
        require_timestamp: p.bool("require-timestamp", false),
    };
    match attestation::verify(&a) {
        Ok(()) => {
            ui.say("Attestation verified.");
            0
        }
        Err(e) => {
            ui.error(&e);
            1
        }
    }
}
