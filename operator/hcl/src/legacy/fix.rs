//! `packer fix`: Packer 1.16's fixers (`fix/`), which rewrite options of a legacy JSON
//! template that older Packer versions took, run in Packer's order on the decoded JSON, and
//! the result printed as Go's `encoding/json` writes it (keys sorted, two-space indent).
//!
//! Each fixer reads the template as mapstructure decodes it into the fixer's own struct
//! (`Builders []map[string]interface{}` strictly, `Provisioners []interface{}` weakly, the
//! `post-processors` list), so a template of the wrong shape fails as Packer's does
//! (`1 error(s) decoding: …`), and writes its part back (a template without `builders`
//! gets `"builders": null`, a lone provisioner object becomes a list, as with Packer).
//! Where a fixer of Packer's panics (a builder without a `type` string, a non-string
//! `elevated_user`…), Kiln stops with an error saying so instead.

use super::decode;
use super::json::{J, dedup};

type Obj = Vec<(String, J)>;

/// Why fixing stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum FixError {
    /// A fixer's error, as Packer prints it after `Error fixing: `.
    Failed(String),
    /// Where Packer 1.16.0 crashes (a Go panic): what Kiln says instead.
    Crash(String),
}

impl std::fmt::Display for FixError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FixError::Failed(s) => f.write_str(s),
            FixError::Crash(s) => write!(f, "{s} (Packer 1.16.0 crashes on this template)"),
        }
    }
}

type Fixed = Result<(), FixError>;

/// A fixer: the template's root object changed in place.
pub type Fixer = fn(&mut Vec<(String, J)>) -> Result<(), FixError>;

/// The fixers, in the order Packer runs them, with their synopses (`packer fix -h`).
pub const FIXERS: &[(&str, &str, Fixer)] = &[
    (
        "iso-md5",
        "Replaces \"iso_md5\" in builders with \"iso_checksum\"",
        iso_md5,
    ),
    (
        "createtime",
        "Replaces \".CreateTime\" in builder configs with \"{{timestamp}}\"",
        createtime,
    ),
    (
        "virtualbox-gaattach",
        "Updates VirtualBox builders using \"guest_additions_attach\" to use \"guest_additions_mode\"",
        virtualbox_gaattach,
    ),
    (
        "pp-vagrant-override",
        "Fixes provider-specific overrides for Vagrant post-processor",
        pp_vagrant_override,
    ),
    (
        "virtualbox-rename",
        "Updates \"virtualbox\" builders to \"virtualbox-iso\"",
        virtualbox_rename,
    ),
    (
        "vmware-rename",
        "Updates \"vmware\" builders to \"vmware-iso\"",
        vmware_rename,
    ),
    (
        "parallels-headless",
        "Removes unused \"headless\" from Parallels builders",
        parallels_headless,
    ),
    (
        "parallels-deprecations",
        "Removes deprecated \"parallels_tools_host_path\" from Parallels builders and changes \"guest_os_distribution\" to \"guest_os_type\".",
        parallels_deprecations,
    ),
    (
        "sshkeypath",
        "Updates builders using \"ssh_key_path\" to use \"ssh_private_key_file\"",
        sshkeypath,
    ),
    (
        "sshdisableagent",
        "Updates builders using \"ssh_disable_agent\" to use \"ssh_disable_agent_forwarding\"",
        sshdisableagent,
    ),
    (
        "scaleway-access-key",
        "Updates builders using \"access_key\" to use \"organization_id\"",
        scaleway_access_key,
    ),
    (
        "manifest-filename",
        "Updates \"manifest\" post-processor so any \"filename\" field is renamed to \"output\".",
        manifest_filename,
    ),
    (
        "amazon-shutdown_behavior",
        "Changes \"shutdown_behaviour\" to \"shutdown_behavior\" in Amazon builders.",
        amazon_shutdown_behavior,
    ),
    (
        "amazon-enhanced-networking",
        "Replaces \"enhanced_networking\" in builders with \"ena_support\"",
        amazon_enhanced_networking,
    ),
    (
        "amazon-private-ip",
        "Replaces `\"ssh_private_ip\": true` in amazon builders with `\"ssh_interface\": \"private_ip\"`",
        amazon_private_ip,
    ),
    (
        "amazon-temp-sec-cidrs",
        "Replaces \"temporary_security_group_source_cidr\" (string) with \"temporary_security_group_source_cidrs\" (list of strings)",
        amazon_temp_sec_cidrs,
    ),
    (
        "docker-email",
        "Removes \"login_email\" from the Docker builder.",
        docker_email,
    ),
    (
        "docker-tag-tags",
        "Updates \"docker\" post-processor so any \"tag\" field is renamed to \"tags\".",
        docker_tag_tags,
    ),
    (
        "powershell-escapes",
        "Removes PowerShell escapes from user env vars and elevated username and password strings",
        powershell_escapes,
    ),
    (
        "vmware-compaction",
        "Adds \"skip_compaction = true\" to \"vmware-iso\" builders with incompatible disk_type_id",
        vmware_compaction,
    ),
    (
        "hyperv-deprecations",
        "Removes the deprecated \"vhd_temp_path\" setting from Hyper-V ISO builder templates",
        hyperv_deprecations,
    ),
    (
        "hyperv-vmxc-typo",
        "Fixes a typo replacing \"clone_from_vmxc_path\" with \"clone_from_vmcx_path\" in Hyper-V VMCX builder templates",
        hyperv_vmxc_typo,
    ),
    (
        "hyperv-cpu-and-ram",
        "Replaces \"cpu\" with \"cpus\" and \"ram_size\" with \"memory\"in Hyper-V VMCX builder templates",
        hyperv_cpu_and_ram,
    ),
    (
        "clean-image-name",
        "Replaces /clean_(image|ami)_name/ in builder configs with \"clean_resource_name\"",
        clean_image_name,
    ),
    (
        "spot-price-auto-product",
        "Removes the deprecated \"spot_price_auto_product\" setting from Amazon builder templates",
        spot_price_auto_product,
    ),
    (
        "qemu-disk-size",
        "Updates \"disk_size\" from int to string in QEMU builders.",
        qemu_disk_size,
    ),
    (
        "galaxy-command",
        "Replaces \"galaxycommand\" in ansible-local provisioner configs with \"galaxy_command\"",
        galaxy_command,
    ),
    (
        "comm-config",
        "Remove ssh prefixes from communicator port forwarding configuration (host_port_min, host_port_max, skip_nat_mapping)",
        comm_config,
    ),
    (
        "ssh-wait-timeout",
        "Replaces \"ssh_wait_timeout\" with \"ssh_timeout\"",
        ssh_wait_timeout,
    ),
    (
        "vsphere-iso-net-disk",
        "Removes deprecated network and disk fields from \"vsphere-iso\" builder",
        vsphere_iso_net_disk,
    ),
    (
        "iso-checksum-type-and-url",
        "Puts content of potential \"iso_checksum_url\" and \"iso_checksum_url\" in \"iso_checksum\"",
        iso_checksum_type_and_url,
    ),
    (
        "qemu-host-port",
        "Updates ssh_host_port_min and ssh_host_port_max to host_port_min and host_port_max",
        qemu_host_port,
    ),
    (
        "azure-exclude_from_latest",
        "Changes \"exlude_from_latest\" to \"exclude_from_latest\" in Azure builders.",
        azure_exclude_from_latest,
    ),
    (
        "proxmox-type",
        "Updates the builder type proxmox to proxmox-iso",
        proxmox_type,
    ),
];

/// `packer fix` on a template's bytes: the fixed template as Packer prints it (without the
/// UI's final newline). `Err(text)`: the whole message Packer prints.
pub fn fix(data: &[u8]) -> Result<String, String> {
    let v = super::json::decode_first(data).map_err(|e| format!("Error parsing template: {e}"))?;
    let mut input = match deep_dedup(v) {
        J::Obj(m) => m,
        J::Null => {
            return Err(format!(
                "Error fixing: {}",
                FixError::Crash("the template is `null`".into())
            ));
        }
        other => {
            return Err(format!(
                "Error parsing template: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            ));
        }
    };
    for (_, _, fixer) in FIXERS {
        fixer(&mut input).map_err(|e| format!("Error fixing: {e}"))?;
    }
    let mut out = String::new();
    encode(&J::Obj(input), 0, &mut out);
    out.push('\n');
    Ok(out.replace("\\u003c", "<").replace("\\u003e", ">"))
}

fn json_kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Num(_) => "number",
        J::Str(_) => "string",
        J::Arr(_) => "array",
        J::Obj(_) => "object",
    }
}

/// Objects with one value per key (the last, as Go's decoder keeps).
fn deep_dedup(v: J) -> J {
    match v {
        J::Obj(m) => J::Obj(
            dedup(&m)
                .into_iter()
                .map(|(k, v)| (k, deep_dedup(v)))
                .collect(),
        ),
        J::Arr(items) => J::Arr(items.into_iter().map(deep_dedup).collect()),
        v => v,
    }
}

// --- Go's encoding/json output (Encoder, then Indent with two spaces). ---

fn encode(v: &J, depth: usize, out: &mut String) {
    let pad = |out: &mut String, d: usize| {
        out.push('\n');
        for _ in 0..d {
            out.push_str("  ");
        }
    };
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Num(n) => out.push_str(&go_json_float(*n)),
        J::Str(s) => encode_string(s, out),
        J::Arr(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, e) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, depth + 1);
                encode(e, depth + 1, out);
            }
            pad(out, depth);
            out.push(']');
        }
        J::Obj(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut m: Vec<&(String, J)> = m.iter().collect();
            m.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, depth + 1);
                encode_string(k, out);
                out.push_str(": ");
                encode(e, depth + 1, out);
            }
            pad(out, depth);
            out.push('}');
        }
    }
}

/// encoding/json's float64: `f` format, `e` below 1e-6 or from 1e21 (`1e-07` as `1e-7`).
fn go_json_float(n: f64) -> String {
    let a = n.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let mut s = crate::functions::go_float(n, 'e', None);
        let b = s.as_bytes();
        let l = b.len();
        if l >= 4 && b[l - 4] == b'e' && b[l - 3] == b'-' && b[l - 2] == b'0' {
            s.remove(l - 2);
        }
        s
    } else {
        crate::functions::go_float(n, 'f', None)
    }
}

/// encoding/json's string, HTML-safe (`<`, `>`, `&`, U+2028, U+2029 escaped).
fn encode_string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{0}'..='\u{1f}' => {
                let b = c as u32 as u8;
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

// --- Object helpers. ---

fn get<'a>(m: &'a Obj, k: &str) -> Option<&'a J> {
    m.iter().find(|(key, _)| key == k).map(|(_, v)| v)
}

fn has(m: &Obj, k: &str) -> bool {
    get(m, k).is_some()
}

fn set(m: &mut Obj, k: &str, v: J) {
    match m.iter_mut().find(|(key, _)| key == k) {
        Some(slot) => slot.1 = v,
        None => m.push((k.to_string(), v)),
    }
}

fn remove(m: &mut Obj, k: &str) -> Option<J> {
    let i = m.iter().position(|(key, _)| key == k)?;
    Some(m.remove(i).1)
}

fn str_of<'a>(m: &'a Obj, k: &str) -> Option<&'a str> {
    match get(m, k) {
        Some(J::Str(s)) => Some(s),
        _ => None,
    }
}

/// A builder's `type`, when it is a string.
fn kind(m: &Obj) -> Option<&str> {
    str_of(m, "type")
}

/// mapstructure's `*Error` text.
fn ms_error(mut points: Vec<String>) -> String {
    points.sort();
    format!(
        "{} error(s) decoding:\n\n{}",
        points.len(),
        points
            .iter()
            .map(|p| format!("* {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// `mapstructure.Decode` of the template's `builders` into `[]map[string]interface{}`:
/// `None` when absent or null; element `None` for a null element. The errors' texts.
fn decode_builders(input: &Obj) -> Result<Option<Vec<Option<Obj>>>, Vec<String>> {
    match decode::field(input, "Builders") {
        None | Some(J::Null) => Ok(None),
        Some(J::Arr(items)) => {
            let mut errs = Vec::new();
            let mut out = Vec::new();
            for (i, e) in items.iter().enumerate() {
                match e {
                    J::Obj(m) => out.push(Some(m.clone())),
                    J::Null => out.push(None),
                    other => errs.push(format!(
                        "'Builders[{i}]' expected a map, got '{}'",
                        other.go_kind()
                    )),
                }
            }
            if errs.is_empty() {
                Ok(Some(out))
            } else {
                Err(errs)
            }
        }
        Some(other) => Err(vec![format!(
            "'Builders': source data must be an array or slice, got {}",
            other.go_kind()
        )]),
    }
}

fn builders_value(b: Option<Vec<Option<Obj>>>) -> J {
    match b {
        None => J::Null,
        Some(items) => J::Arr(
            items
                .into_iter()
                .map(|m| m.map_or(J::Null, J::Obj))
                .collect(),
        ),
    }
}

/// The common fixer shape: every builder (decoded strictly) changed by `f`, the list
/// written back as `builders`.
fn each_builder(input: &mut Obj, mut f: impl FnMut(&mut Obj) -> Fixed) -> Fixed {
    let mut builders = decode_builders(input).map_err(|e| FixError::Failed(ms_error(e)))?;
    if let Some(list) = builders.as_mut() {
        for b in list.iter_mut().flatten() {
            f(b)?;
        }
    }
    set(input, "builders", builders_value(builders));
    Ok(())
}

/// [`each_builder`] for builders whose `type` is a string accepted by `when`.
fn each_builder_of(
    input: &mut Obj,
    when: impl Fn(&str) -> bool,
    mut f: impl FnMut(&mut Obj) -> Fixed,
) -> Fixed {
    each_builder(input, |b| {
        if kind(b).is_some_and(&when) {
            f(b)
        } else {
            Ok(())
        }
    })
}

/// The `post-processors` list decoded strictly (the fixers' `PP` struct); `None` when the
/// template has none (the fixers return at once).
fn decode_pps(input: &Obj) -> Result<Option<Vec<J>>, Vec<String>> {
    if matches!(get(input, "post-processors"), None | Some(J::Null)) {
        return Ok(None);
    }
    match decode::field(input, "post-processors") {
        None | Some(J::Null) => Ok(Some(Vec::new())),
        Some(J::Arr(items)) => Ok(Some(items.clone())),
        Some(other) => Err(vec![format!(
            "'post-processors': source data must be an array or slice, got {}",
            other.go_kind()
        )]),
    }
}

/// `ppList`: the post-processor objects of the list, in chains too.
fn each_pp(pps: &mut [J], mut f: impl FnMut(&mut Obj) -> Fixed) -> Fixed {
    for pp in pps.iter_mut() {
        match pp {
            J::Obj(m) => f(m)?,
            J::Arr(chain) => {
                for inner in chain.iter_mut() {
                    if let J::Obj(m) = inner {
                        f(m)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A post-processor fixer: `f` on every post-processor whose `type` is `ty`.
fn pp_fixer(input: &mut Obj, ty: &str, mut f: impl FnMut(&mut Obj) -> Fixed) -> Fixed {
    let Some(mut pps) = decode_pps(input).map_err(|e| FixError::Failed(ms_error(e)))? else {
        return Ok(());
    };
    each_pp(
        &mut pps,
        |pp| {
            if kind(pp) == Some(ty) { f(pp) } else { Ok(()) }
        },
    )?;
    set(input, "post-processors", J::Arr(pps));
    Ok(())
}

/// mapstructure's weak decoding of a field into `[]interface{}`: a list as it is, an empty
/// object as an empty list, anything else lifted into a list of one; `None` for null.
fn weak_list(input: &Obj, field: &str) -> Option<Vec<J>> {
    match decode::field(input, field)? {
        J::Null => None,
        J::Arr(items) => Some(items.clone()),
        J::Obj(m) if m.is_empty() => Some(Vec::new()),
        other => Some(vec![other.clone()]),
    }
}

/// mapstructure's weak decoding into a map: an object, or a list of objects merged.
/// `Err`: mapstructure's message.
fn weak_map(v: &J, name: &str) -> Result<Option<Obj>, String> {
    match v {
        J::Null => Ok(None),
        J::Obj(m) => Ok(Some(m.clone())),
        J::Arr(items) => {
            let mut out: Obj = Vec::new();
            for (i, e) in items.iter().enumerate() {
                match e {
                    J::Obj(m) => {
                        for (k, v) in m {
                            set(&mut out, k, v.clone());
                        }
                    }
                    J::Null => {}
                    other => {
                        return Err(format!(
                            "'{name}[{i}]' expected a map, got '{}'",
                            other.go_kind()
                        ));
                    }
                }
            }
            Ok(Some(out))
        }
        other => Err(format!(
            "'{name}' expected a map, got '{}'",
            other.go_kind()
        )),
    }
}

/// A provisioner fixer over the weakly decoded `provisioners` list: `f` gets each object
/// (a copy); it is written back when `f` returns `Ok(true)`. The list is written back when
/// it is not empty.
fn provisioner_fixer(
    input: &mut Obj,
    mut f: impl FnMut(&mut Obj) -> Result<bool, FixError>,
) -> Fixed {
    let Some(mut list) = weak_list(input, "Provisioners") else {
        return Ok(());
    };
    for p in list.iter_mut() {
        // A strict decode into a map: anything but an object is skipped (a null is an
        // empty map, which no fixer matches).
        let J::Obj(m) = p else { continue };
        let mut copy = m.clone();
        if f(&mut copy)? {
            *p = J::Obj(copy);
        }
    }
    if !list.is_empty() {
        set(input, "provisioners", J::Arr(list));
    }
    Ok(())
}

/// A builder fixer over the weakly decoded `builders` list, as [`provisioner_fixer`].
fn weak_builder_fixer(
    input: &mut Obj,
    mut f: impl FnMut(&mut Obj) -> Result<bool, FixError>,
) -> Fixed {
    let Some(mut list) = weak_list(input, "Builders") else {
        return Ok(());
    };
    for b in list.iter_mut() {
        let mut copy = match b {
            J::Obj(m) => m.clone(),
            J::Null => Vec::new(),
            _ => continue,
        };
        if f(&mut copy)? {
            *b = J::Obj(copy);
        }
    }
    if !list.is_empty() {
        set(input, "builders", J::Arr(list));
    }
    Ok(())
}

/// `old` renamed `new` when present (any value).
fn rename(b: &mut Obj, old: &str, new: &str) {
    if let Some(v) = remove(b, old) {
        set(b, new, v);
    }
}

// --- The fixers. ---

fn iso_md5(input: &mut Obj) -> Fixed {
    each_builder(input, |b| {
        if let Some(md5) = str_of(b, "iso_md5").map(str::to_string) {
            remove(b, "iso_md5");
            set(b, "iso_checksum", J::Str(md5));
            set(b, "iso_checksum_type", J::Str("md5".into()));
        }
        Ok(())
    })
}

fn createtime(input: &mut Obj) -> Fixed {
    let re = regex::Regex::new(r"\{\{[\t\n\f\r ]*\.CreateTime[\t\n\f\r ]*\}\}").expect("pattern");
    each_builder(input, |b| {
        for key in ["ami_name", "bundle_prefix", "snapshot_name"] {
            if let Some(v) = str_of(b, key) {
                let new = re.replace_all(v, "{{timestamp}}").into_owned();
                set(b, key, J::Str(new));
            }
        }
        Ok(())
    })
}

fn virtualbox_gaattach(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| t == "virtualbox",
        |b| {
            if let Some(J::Bool(attach)) = get(b, "guest_additions_attach").cloned() {
                remove(b, "guest_additions_attach");
                let mode = if attach { "attach" } else { "upload" };
                set(b, "guest_additions_mode", J::Str(mode.into()));
            }
            Ok(())
        },
    )
}

fn pp_vagrant_override(input: &mut Obj) -> Fixed {
    pp_fixer(input, "vagrant", |pp| {
        let mut overrides: Obj = Vec::new();
        for name in ["aws", "digitalocean", "virtualbox", "vmware"] {
            if let Some(v) = remove(pp, name) {
                overrides.push((name.to_string(), v));
            }
        }
        if !overrides.is_empty() {
            set(pp, "override", J::Obj(overrides));
        }
        Ok(())
    })
}

fn virtualbox_rename(input: &mut Obj) -> Fixed {
    // Weakly decoded: builders as a list of maps (already checked by earlier fixers).
    let mut builders = weak_list(input, "Builders");
    if let Some(list) = builders.as_mut() {
        for b in list.iter_mut() {
            if let J::Obj(m) = b
                && kind(m) == Some("virtualbox")
            {
                set(m, "type", J::Str("virtualbox-iso".into()));
            }
        }
    }
    let mut provisioners = weak_list(input, "Provisioners");
    if let Some(list) = provisioners.as_mut() {
        for p in list.iter_mut() {
            let Ok(Some(mut m)) = weak_map(p, "") else {
                continue;
            };
            let Some(raw) = get(&m, "override").cloned() else {
                continue;
            };
            let mut over = weak_map(&raw, "")
                .map_err(FixError::Failed)?
                .unwrap_or_default();
            if let Some(v) = remove(&mut over, "virtualbox") {
                set(&mut over, "virtualbox-iso", v);
                set(&mut m, "override", J::Obj(over));
                *p = J::Obj(m);
            }
        }
    }
    if let Some(list) = builders
        && !list.is_empty()
    {
        set(input, "builders", J::Arr(list));
    }
    if let Some(list) = provisioners
        && !list.is_empty()
    {
        set(input, "provisioners", J::Arr(list));
    }
    Ok(())
}

fn vmware_rename(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| t == "vmware",
        |b| {
            set(b, "type", J::Str("vmware-iso".into()));
            Ok(())
        },
    )
}

fn is_parallels(t: &str) -> bool {
    t == "parallels-iso" || t == "parallels-pvm"
}

fn parallels_headless(input: &mut Obj) -> Fixed {
    each_builder_of(input, is_parallels, |b| {
        remove(b, "headless");
        Ok(())
    })
}

fn parallels_deprecations(input: &mut Obj) -> Fixed {
    each_builder_of(input, is_parallels, |b| {
        remove(b, "parallels_tools_host_path");
        rename(b, "guest_os_distribution", "guest_os_type");
        Ok(())
    })
}

fn sshkeypath(input: &mut Obj) -> Fixed {
    each_builder(input, |b| {
        if let Some(path) = str_of(b, "ssh_key_path").map(str::to_string) {
            if !has(b, "ssh_private_key_file") {
                set(b, "ssh_private_key_file", J::Str(path));
            }
            remove(b, "ssh_key_path");
        }
        Ok(())
    })
}

fn sshdisableagent(input: &mut Obj) -> Fixed {
    each_builder(input, |b| {
        if let Some(J::Bool(v)) = get(b, "ssh_disable_agent").cloned() {
            if !has(b, "ssh_disable_agent_forwarding") {
                set(b, "ssh_disable_agent_forwarding", J::Bool(v));
            }
            remove(b, "ssh_disable_agent");
        }
        Ok(())
    })
}

fn scaleway_access_key(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| t == "scaleway",
        |b| {
            if let Some(key) = str_of(b, "access_key").map(str::to_string) {
                if !has(b, "organization_id") {
                    set(b, "organization_id", J::Str(key));
                }
                remove(b, "access_key");
            }
            Ok(())
        },
    )
}

fn manifest_filename(input: &mut Obj) -> Fixed {
    pp_fixer(input, "manifest", |pp| {
        if let Some(name) = str_of(pp, "filename").map(str::to_string) {
            remove(pp, "filename");
            set(pp, "output", J::Str(name));
        }
        Ok(())
    })
}

fn is_amazon(t: &str) -> bool {
    t.starts_with("amazon-")
}

fn amazon_shutdown_behavior(input: &mut Obj) -> Fixed {
    each_builder_of(input, is_amazon, |b| {
        rename(b, "shutdown_behaviour", "shutdown_behavior");
        Ok(())
    })
}

fn amazon_enhanced_networking(input: &mut Obj) -> Fixed {
    each_builder_of(input, is_amazon, |b| {
        if let Some(J::Bool(v)) = get(b, "enhanced_networking").cloned() {
            remove(b, "enhanced_networking");
            set(b, "ena_support", J::Bool(v));
        }
        Ok(())
    })
}

fn amazon_private_ip(input: &mut Obj) -> Fixed {
    each_builder_of(input, is_amazon, |b| {
        if has(b, "ssh_interface") {
            return Ok(());
        }
        let private = match get(b, "ssh_private_ip") {
            None => return Ok(()),
            Some(J::Bool(v)) => *v,
            Some(J::Str(s)) => match s.as_str() {
                "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
                "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
                _ => {
                    return Err(FixError::Failed(format!(
                        "ssh_private_ip is not a boolean, strconv.ParseBool: parsing {}: invalid syntax",
                        kiln_gotemplate::quote(s)
                    )));
                }
            },
            Some(_) => {
                return Err(FixError::Crash(
                    "\"ssh_private_ip\" is neither a boolean nor a string".into(),
                ));
            }
        };
        remove(b, "ssh_private_ip");
        let v = if private { "private_ip" } else { "public_ip" };
        set(b, "ssh_interface", J::Str(v.into()));
        Ok(())
    })
}

fn amazon_temp_sec_cidrs(input: &mut Obj) -> Fixed {
    each_builder_of(input, is_amazon, |b| {
        if let Some(cidr) = str_of(b, "temporary_security_group_source_cidr").map(str::to_string) {
            remove(b, "temporary_security_group_source_cidr");
            set(
                b,
                "temporary_security_group_source_cidrs",
                J::Arr(vec![J::Str(cidr)]),
            );
        }
        Ok(())
    })
}

fn docker_email(input: &mut Obj) -> Fixed {
    if matches!(get(input, "post-processors"), None | Some(J::Null)) {
        return Ok(());
    }
    let builders = decode_builders(input);
    let pps = decode_pps(input);
    let (mut builders, mut pps) = match (builders, pps) {
        (Ok(b), Ok(p)) => (b, p.unwrap_or_default()),
        (b, p) => {
            let mut errs = b.err().unwrap_or_default();
            errs.extend(p.err().unwrap_or_default());
            return Err(FixError::Failed(ms_error(errs)));
        }
    };
    if let Some(list) = builders.as_mut() {
        for b in list.iter_mut().flatten() {
            remove(b, "login_email");
        }
    }
    each_pp(&mut pps, |pp| {
        remove(pp, "login_email");
        Ok(())
    })?;
    set(input, "builders", builders_value(builders));
    set(input, "post-processors", J::Arr(pps));
    Ok(())
}

fn docker_tag_tags(input: &mut Obj) -> Fixed {
    pp_fixer(input, "docker-tag", |pp| {
        let mut all: Vec<String> = Vec::new();
        for key in ["tag", "tags"] {
            match get(pp, key) {
                Some(J::Arr(items)) => {
                    for t in items {
                        match t {
                            J::Str(s) => all.push(s.clone()),
                            _ => {
                                return Err(FixError::Crash(format!(
                                    "an element of {} is not a string",
                                    kiln_gotemplate::quote(key)
                                )));
                            }
                        }
                    }
                }
                Some(J::Str(s)) => all.extend(s.split(',').map(|t| t.trim().to_string())),
                _ => {}
            }
        }
        let mut tags: Vec<String> = Vec::new();
        for t in all {
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        remove(pp, "tag");
        set(pp, "tags", J::Arr(tags.into_iter().map(J::Str).collect()));
        Ok(())
    })
}

/// PowerShell's escapes undone (`` `$ `` → `$`, `` `" `` → `"`, ` `` ` → `` ` ``, `` `' `` → `'`).
fn ps_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '`'
            && let Some(&n) = it.peek()
            && matches!(n, '$' | '"' | '`' | '\'')
        {
            out.push(n);
            it.next();
            continue;
        }
        out.push(c);
    }
    out
}

fn powershell_escapes(input: &mut Obj) -> Fixed {
    provisioner_fixer(input, |p| {
        if kind(p) != Some("powershell") {
            return Ok(false);
        }
        for key in ["elevated_user", "elevated_password"] {
            match get(p, key) {
                None => {}
                Some(J::Str(s)) => {
                    let v = ps_unescape(s);
                    set(p, key, J::Str(v));
                }
                Some(_) => {
                    return Err(FixError::Crash(format!(
                        "{} of a powershell provisioner is not a string",
                        kiln_gotemplate::quote(key)
                    )));
                }
            }
        }
        if let Some(raw) = get(p, "environment_vars").cloned() {
            let vars: Vec<String> = match raw {
                J::Null => Vec::new(),
                J::Arr(items) => {
                    let mut out = Vec::new();
                    for e in items {
                        match e {
                            J::Str(s) => out.push(s),
                            // A null element decodes as "".
                            J::Null => out.push(String::new()),
                            // Not a []string: the provisioner is left as it was.
                            _ => return Ok(false),
                        }
                    }
                    out
                }
                _ => return Ok(false),
            };
            set(
                p,
                "environment_vars",
                J::Arr(vars.iter().map(|v| J::Str(ps_unescape(v))).collect()),
            );
        }
        Ok(true)
    })
}

fn vmware_compaction(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| t == "vmware-iso",
        |b| {
            if str_of(b, "remote_type") != Some("esx5") {
                return Ok(());
            }
            match get(b, "disk_type_id") {
                None => set(b, "disk_type_id", J::Str("zeroedthick".into())),
                Some(J::Str(s)) if s == "thin" => return Ok(()),
                Some(J::Str(_)) => {}
                Some(_) => return Ok(()),
            }
            match get(b, "skip_compaction") {
                Some(J::Bool(false)) => set(b, "skip_compaction", J::Bool(true)),
                Some(_) => {}
                None => set(b, "skip_compaction", J::Bool(true)),
            }
            Ok(())
        },
    )
}

fn hyperv_deprecations(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| t == "hyperv-iso",
        |b| {
            remove(b, "vhd_temp_path");
            Ok(())
        },
    )
}

fn hyperv_vmxc_typo(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| t == "hyperv-vmcx",
        |b| {
            rename(b, "clone_from_vmxc_path", "clone_from_vmcx_path");
            Ok(())
        },
    )
}

fn hyperv_cpu_and_ram(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| t == "hyperv-vmcx" || t == "hyperv-iso",
        |b| {
            rename(b, "cpu", "cpus");
            rename(b, "ram_size", "memory");
            Ok(())
        },
    )
}

fn clean_image_name(input: &mut Obj) -> Fixed {
    let re = regex::Regex::new("clean_(image|ami)_name").expect("pattern");
    each_builder(input, |b| {
        for (key, v) in b.iter_mut() {
            match v {
                J::Str(s) => *s = re.replace_all(s, "clean_resource_name").into_owned(),
                J::Obj(m) => {
                    for (_, e) in m.iter_mut() {
                        if let J::Str(s) = e {
                            *s = re.replace_all(s, "clean_resource_name").into_owned();
                        }
                    }
                }
                _ if key == "image_labels" => {
                    return Err(FixError::Crash(
                        "\"image_labels\" is neither a string nor an object".into(),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    })
}

fn spot_price_auto_product(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| {
            matches!(
                t,
                "amazon-ebs" | "amazon-ebssurrogate" | "amazon-ebsvolume" | "amazon-instance"
            )
        },
        |b| {
            remove(b, "spot_price_auto_product");
            Ok(())
        },
    )
}

fn qemu_disk_size(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| t == "qemu",
        |b| {
            if let Some(J::Num(n)) = get(b, "disk_size") {
                let v = format!("{}M", n.trunc() as i64);
                set(b, "disk_size", J::Str(v));
            }
            Ok(())
        },
    )
}

fn galaxy_command(input: &mut Obj) -> Fixed {
    provisioner_fixer(input, |p| {
        if kind(p) != Some("ansible-local") {
            return Ok(false);
        }
        if has(p, "galaxy_command") {
            remove(p, "galaxycommand");
            return Ok(true);
        }
        let Some(cmd) = str_of(p, "galaxycommand").map(str::to_string) else {
            return Ok(false);
        };
        remove(p, "galaxycommand");
        set(p, "galaxy_command", J::Str(cmd));
        Ok(true)
    })
}

fn comm_config(input: &mut Obj) -> Fixed {
    weak_builder_fixer(input, |b| {
        let Some(t) = kind(b) else {
            return Err(FixError::Crash(
                "a builder has no \"type\" string (fixer comm-config)".into(),
            ));
        };
        if !t.starts_with("virtualbox") {
            return Ok(false);
        }
        for (new, old) in [
            ("host_port_min", "ssh_host_port_min"),
            ("host_port_max", "ssh_host_port_max"),
        ] {
            if has(b, new) {
                remove(b, old);
            } else {
                rename(b, old, new);
            }
        }
        if has(b, "skip_nat_mapping") {
            remove(b, "ssh_skip_nat_mapping");
        } else if let Some(J::Bool(v)) = get(b, "ssh_skip_nat_mapping").cloned() {
            remove(b, "ssh_skip_nat_mapping");
            set(b, "skip_nat_mapping", J::Bool(v));
        }
        Ok(true)
    })
}

fn ssh_wait_timeout(input: &mut Obj) -> Fixed {
    weak_builder_fixer(input, |b| {
        if has(b, "ssh_timeout") {
            remove(b, "ssh_wait_timeout");
            return Ok(true);
        }
        let Some(t) = str_of(b, "ssh_wait_timeout").map(str::to_string) else {
            return Ok(false);
        };
        remove(b, "ssh_wait_timeout");
        set(b, "ssh_timeout", J::Str(t));
        Ok(true)
    })
}

fn vsphere_iso_net_disk(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| t == "vsphere-iso",
        |b| {
            let mut nic: Obj = Vec::new();
            let mut has_network = false;
            for (key, to) in [
                ("network", "network"),
                ("networkCard", "network_card"),
                ("network_card", "network_card"),
            ] {
                if let Some(v) = remove(b, key) {
                    set(&mut nic, to, v);
                    has_network = true;
                }
            }
            if has_network {
                let mut adapters = vec![J::Obj(nic)];
                match get(b, "network_adapters") {
                    None => {}
                    Some(J::Arr(existing)) => adapters.extend(existing.iter().cloned()),
                    Some(_) => {
                        return Err(FixError::Crash("\"network_adapters\" is not a list".into()));
                    }
                }
                set(b, "network_adapters", J::Arr(adapters));
            }
            let mut disk: Obj = Vec::new();
            let mut has_storage = false;
            for key in ["disk_size", "disk_thin_provisioned", "disk_eagerly_scrub"] {
                if let Some(v) = remove(b, key) {
                    set(&mut disk, key, v);
                    has_storage = true;
                }
            }
            if has_storage {
                let mut storage = vec![J::Obj(disk)];
                match get(b, "storage") {
                    None => {}
                    Some(J::Arr(existing)) => storage.extend(existing.iter().cloned()),
                    Some(_) => {
                        return Err(FixError::Crash("\"storage\" is not a list".into()));
                    }
                }
                set(b, "storage", J::Arr(storage));
            }
            Ok(())
        },
    )
}

fn iso_checksum_type_and_url(input: &mut Obj) -> Fixed {
    each_builder(input, |b| {
        let url = str_of(b, "iso_checksum_url").unwrap_or("").to_string();
        let ty = str_of(b, "iso_checksum_type").unwrap_or("").to_string();
        let mut checksum = str_of(b, "iso_checksum").unwrap_or("").to_string();
        remove(b, "iso_checksum_url");
        remove(b, "iso_checksum_type");
        if checksum.is_empty() && url.is_empty() {
            return Ok(());
        }
        if !url.is_empty() {
            checksum = format!("file:{url}");
        } else if !ty.is_empty() {
            checksum = format!("{ty}:{checksum}");
        }
        set(b, "iso_checksum", J::Str(checksum));
        Ok(())
    })
}

fn qemu_host_port(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| t == "qemu",
        |b| {
            rename(b, "ssh_host_port_min", "host_port_min");
            rename(b, "ssh_host_port_max", "host_port_max");
            Ok(())
        },
    )
}

fn azure_exclude_from_latest(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| t.starts_with("azure-chroot"),
        |b| {
            if let Some(J::Obj(dest)) = get(b, "shared_image_destination").cloned() {
                let mut dest = dest;
                if let Some(v) = remove(&mut dest, "exlude_from_latest") {
                    set(&mut dest, "exclude_from_latest", v);
                    set(b, "shared_image_destination", J::Obj(dest));
                }
            }
            Ok(())
        },
    )
}

fn proxmox_type(input: &mut Obj) -> Fixed {
    each_builder_of(
        input,
        |t| t == "proxmox",
        |b| {
            set(b, "type", J::Str("proxmox-iso".into()));
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> String {
        fix(s.as_bytes()).unwrap_or_else(|e| e)
    }

    #[test]
    fn output_is_go_json_indented() {
        assert_eq!(
            run(r#"{"b": [1, 1e21, 1e-7, 0.5], "a": {}, "c": "<&>\u2028", "d": []}"#),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    1e+21,\n    1e-7,\n    0.5\n  ],\n  \"builders\": null,\n  \"c\": \"<\\u0026>\\u2028\",\n  \"d\": []\n}\n"
        );
    }

    #[test]
    fn decoding_errors_are_go_texts() {
        assert_eq!(run(""), "Error parsing template: EOF");
        assert_eq!(run("{\"a\": "), "Error parsing template: unexpected EOF");
        assert_eq!(
            run("[1]"),
            "Error parsing template: json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
        assert_eq!(
            run(r#"{"builders": [1, "x"]}"#),
            "Error fixing: 2 error(s) decoding:\n\n* 'Builders[0]' expected a map, got 'float64'\n* 'Builders[1]' expected a map, got 'string'"
        );
    }

    #[test]
    fn checksums_and_renames() {
        let out = run(
            r#"{"builders": [{"type": "vmware", "iso_md5": "abc", "ssh_wait_timeout": "5m", "ssh_key_path": "k"}]}"#,
        );
        assert!(out.contains("\"iso_checksum\": \"md5:abc\""), "{out}");
        assert!(out.contains("\"type\": \"vmware-iso\""), "{out}");
        assert!(out.contains("\"ssh_timeout\": \"5m\""), "{out}");
        assert!(out.contains("\"ssh_private_key_file\": \"k\""), "{out}");
        assert!(!out.contains("iso_md5"), "{out}");
    }

    #[test]
    fn powershell_unescapes() {
        assert_eq!(ps_unescape("a`$b`\"c```'d`x"), "a$b\"c`'d`x");
    }
}
